"""Recording what a trained text model's recurrent layer does, token by token.

:func:`record_layer` runs an lstmkit layer with ``return_trace=True`` and returns the per-step gates and
states of every layer and direction as NumPy arrays ``(T, H)``; :func:`record_text` does it for a text
through a trained sentiment run (tokenizer -> embedding -> recurrent layer). :func:`most_active_units`
picks the units worth looking at, and :func:`plot_gate_heatmaps` draws them over the tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from lstmkit.errors import DataError

__all__ = [
    "TextRecording",
    "record_layer",
    "record_text",
    "most_active_units",
    "plot_gate_heatmaps",
    "GATE_DESCRIPTIONS",
]

# What each recorded quantity is, in the order they are shown (quantities a cell lacks are skipped).
GATE_DESCRIPTIONS = {
    "input": "input gate i_t: how much of the new candidate enters the cell",
    "forget": "forget gate f_t: how much of the old cell state is kept",
    "output": "output gate o_t: how much of tanh(c_t) is shown as h_t",
    "cell": "candidate g_t = tanh(...): the value offered to the cell",
    "cell_state": "cell state c_t: the LSTM's memory",
    "reset": "reset gate r_t (GRU)",
    "update": "update gate z_t (GRU): share of the old state kept",
    "new": "candidate n_t (GRU)",
    "hidden": "hidden state h_t: the layer's output",
}


def record_layer(
    layer: nn.Module, inputs: Tensor, lengths: Sequence[int] | None = None
) -> dict[str, dict[str, Tensor]]:
    """Run ``layer`` (an lstmkit ``LSTM``/``GRU``/``RNN``) on ``inputs`` and return its trace, without gradients.

    The trace maps ``"l0"``, ``"l0_reverse"``, ``"l1"`` … to ``{quantity: tensor}`` laid out like the
    layer's output (``(B, T, H)`` when ``batch_first``). The layer is put in eval mode for the call
    (no dropout) and restored afterwards.
    """
    was_training = layer.training
    layer.eval()
    try:
        with torch.no_grad():
            _, _, trace = layer(inputs, lengths=lengths, return_trace=True)
    finally:
        layer.train(was_training)
    return trace


@dataclass
class TextRecording:
    """One text through a trained run: its tokens, the prediction and every recorded quantity.

    ``layers[name][quantity]`` is a float array ``(len(tokens), hidden_size)`` (``name`` as in the
    trace: ``"l0"``, ``"l0_reverse"`` …). ``token_ids`` are the vocabulary ids actually fed in (an
    unknown token shows as its text but was read as ``<unk>``). ``model`` names the model whose
    prediction ``label`` and ``probabilities`` are: ``"recurrent"``, ``"fused"``, ... (see
    :class:`lstmkit.tasks.sentiment.SentimentModel`), of ``members`` networks for an ensemble; the gates are
    always the recurrent network's, an ensemble's first member's.
    """

    text: str
    tokens: list[str]
    token_ids: list[int]
    cell: str
    label: str
    probabilities: dict[str, float]
    layers: dict[str, dict[str, np.ndarray]]
    model: str
    members: int = 1

    @property
    def predicted_by(self) -> str:
        """``model`` as tables and titles name it ("the recurrent network", ...)."""
        from lstmkit.tasks.sentiment.config import MODELS, describe_model

        return describe_model(self.model, self.members) if self.model in MODELS else self.model


def record_text(model, text: str) -> TextRecording:
    """Tokenize ``text`` as the run did, feed it through the run's encoder and record every gate.

    ``model`` is a loaded sentiment run (:func:`lstmkit.tasks.sentiment.load`): its ``tokenize``, its
    ``encoder`` (embedding + recurrent stack), the stack's input (``recurrent_input``: with character
    bigrams, each token's embedding and its bigram's) and its prediction.
    """
    if not isinstance(text, str) or not text.strip():
        raise DataError("the text to inspect is empty")
    tokens, token_ids = model.tokenize(text)
    if not tokens:
        raise DataError(f"the text {text!r} has no tokens for this run's tokenizer")
    encoder = model.encoder
    embedded = model.recurrent_input(text)
    # The run's own prediction, as `lstmkit predict` gives it (fused with the TF-IDF model if the run is).
    probabilities = model.predict_proba(text)
    trace = record_layer(encoder.rnn, embedded)
    layers = {
        name: {q: v[0].double().cpu().numpy() for q, v in quantities.items()} for name, quantities in trace.items()
    }
    best = int(probabilities.argmax())
    return TextRecording(
        text=text,
        tokens=list(tokens),
        token_ids=list(token_ids),
        cell=encoder.config.cell,
        label=model.labels[best],
        probabilities={label: float(p) for label, p in zip(model.labels, probabilities)},
        layers=layers,
        model=model.predictor,
        members=model.config.resolve_members(),
    )


def most_active_units(quantities: dict[str, np.ndarray], count: int) -> list[int]:
    """The ``count`` units whose state changes most over the text (standard deviation over the tokens).

    The state is the cell state for an LSTM, the hidden state otherwise; ties keep the lower index.
    Units are returned in decreasing order of activity.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    state = quantities.get("cell_state", quantities["hidden"])
    activity = state.std(axis=0) if state.shape[0] > 1 else np.abs(state[0])
    order = np.argsort(-activity, kind="stable")
    return [int(u) for u in order[:count]]


# Quantities that are not gates: signed, drawn symmetric around 0 (gates lie in [0, 1]).
_STATES = ("cell_state", "hidden", "cell", "new")


def plot_gate_heatmaps(
    recording: TextRecording, path: str | Path, *, layer: str = "l0", units: Sequence[int] | None = None
) -> Path:
    """One heat map per recorded quantity of ``layer``: rows = units, columns = tokens."""
    from lstmkit.plots import UnitHeatmap, plot_unit_heatmaps

    if layer not in recording.layers:
        raise ValueError(f"layer must be one of {sorted(recording.layers)}, got {layer!r}")
    quantities = recording.layers[layer]
    units = list(units) if units is not None else most_active_units(quantities, 16)
    panels = [
        UnitHeatmap(f"{layer} {description}", quantities[name][:, units].T, gate=name not in _STATES)
        for name, description in GATE_DESCRIPTIONS.items()
        if name in quantities
    ]
    probability = recording.probabilities[recording.label]
    title = f"{recording.label} ({probability:.2f}, {recording.predicted_by}): {recording.text}"
    return plot_unit_heatmaps(panels, recording.tokens, units, path, title)
