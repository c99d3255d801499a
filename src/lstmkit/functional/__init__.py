"""The math: recurrent cells written from their gate equations, and reference loops over time.

Everything here is a pure function of tensors: no parameters are owned, nothing is cached.
Weights use ``torch.nn``'s layout so they interchange with ``torch.nn.LSTM``/``GRU``/``RNN``:

* LSTM: ``w_ih (4H, I)``, ``w_hh (4H, P)`` with the gate blocks in the order input, forget,
  cell candidate, output (``LSTM_GATES``); ``w_hr (P, H)`` when the output is projected
  (``P = proj_size``), else ``P = H``.
* GRU: ``w_ih (3H, I)``, ``w_hh (3H, H)`` in the order reset, update, new (``GRU_GATES``).
* RNN: ``w_ih (H, I)``, ``w_hh (H, H)``.

Zoneout (Krueger et al. 2016) is given to the sequence loops as ``zoneout``: either a boolean mask
``(T, B, N)``, true where a unit keeps its previous value at that step (training), or a probability
``p`` for the expectation ``p * previous + (1 - p) * new`` (evaluation). ``N`` is the state width:
``H`` for a GRU, ``P + H`` for an LSTM (the units of ``h`` first, then those of ``c``).

Shapes in docstrings: ``B`` batch, ``T`` time steps, ``I`` input features, ``H`` hidden units.
The equations behind each function are explained in ``docs/equations.md``.

The package holds the cells (:mod:`~lstmkit.functional.cells`), zoneout
(:mod:`~lstmkit.functional.zoneout`), AWD-LSTM's dropout variants (:mod:`~lstmkit.functional.dropout`:
weight drop, locked and embedding dropout), adversarial perturbations of embedded sequences
(:mod:`~lstmkit.functional.adversarial`) and the reference loops over time
(:mod:`~lstmkit.functional.sequences`); every public name is importable from here.
"""

from lstmkit.functional.adversarial import adversarial_perturbation, sequence_l2_normalize
from lstmkit.functional.cells import (
    GRU_GATES,
    LSTM_GATES,
    RNN_NONLINEARITIES,
    GRUGates,
    LayerNormWeights,
    LSTMGates,
    gru_cell,
    gru_cell_gates,
    gru_step,
    lstm_cell,
    lstm_cell_gates,
    lstm_gates,
    lstm_input_projection,
    lstm_step,
    rnn_cell,
    rnn_step,
)
from lstmkit.functional.dropout import (
    DROPOUT_KINDS,
    drop_connect,
    embedding_dropout,
    locked_dropout,
    sequence_dropout,
)
from lstmkit.functional.sequences import (
    gru_sequence,
    lstm_sequence,
    reverse_padded,
    rnn_sequence,
    run_sequence,
    scan_sequence,
    step_mask_from_lengths,
    zero_ended,
)
from lstmkit.functional.zoneout import apply_zoneout, split_lstm_zoneout, zoneout_mask, zoneout_per_step

__all__ = [
    "LSTM_GATES",
    "GRU_GATES",
    "RNN_NONLINEARITIES",
    "LayerNormWeights",
    "LSTMGates",
    "GRUGates",
    "lstm_gates",
    "lstm_input_projection",
    "lstm_step",
    "lstm_cell_gates",
    "lstm_cell",
    "gru_step",
    "gru_cell_gates",
    "gru_cell",
    "rnn_step",
    "rnn_cell",
    "run_sequence",
    "scan_sequence",
    "lstm_sequence",
    "gru_sequence",
    "rnn_sequence",
    "reverse_padded",
    "step_mask_from_lengths",
    "apply_zoneout",
    "split_lstm_zoneout",
    "zoneout_per_step",
    "zoneout_mask",
    "zero_ended",
    "DROPOUT_KINDS",
    "drop_connect",
    "locked_dropout",
    "embedding_dropout",
    "sequence_dropout",
    "sequence_l2_normalize",
    "adversarial_perturbation",
]
