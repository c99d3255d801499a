"""The public layer classes: ``LSTM``, ``GRU`` and ``RNN``, with torch.nn's constructors and their extras."""

from __future__ import annotations

from lstmkit import functional as LF
from lstmkit.layers.base import _RecurrentBase

__all__ = ["LSTM", "GRU", "RNN"]


class LSTM(_RecurrentBase):
    """Long short-term memory layers with the ``torch.nn.LSTM`` constructor, forward and state dict.

    Args (as torch): ``input_size``, ``hidden_size``, ``num_layers=1``, ``bias=True``,
    ``batch_first=False``, ``dropout=0.0`` (between layers), ``bidirectional=False``, ``proj_size=0``.
    Keyword-only extras: ``layer_norm`` (Ba et al. 2016), ``forget_bias`` (initial total bias of the
    forget gate, e.g. 1.0 as Jozefowicz et al. 2015 advise), ``recurrent_dropout`` (one mask per
    sequence on ``h`` where it enters ``W_hh``), ``zoneout`` (see below), the AWD-LSTM regularisers
    (below), ``backend`` (see the module docstring).

    AWD-LSTM (Merity et al. 2017), probabilities in ``[0, 1)``, active in training only:

    * ``weight_drop=p`` — DropConnect on every ``weight_hh`` (each layer and direction): one Bernoulli
      mask per forward call, scaled by ``1/(1-p)``, so every step and sequence of the batch sees the
      same dropped matrix. It is applied where the weight is used (:meth:`forward_weights`), on every
      backend including torch's kernel; the parameters and the state dict are untouched. Streaming
      and :meth:`step` run as in evaluation, with the weights as they are.
    * ``dropout_kind`` — ``"standard"`` (torch's: a fresh draw per element and step) or ``"locked"``
      (variational dropout, Gal & Ghahramani 2016: one mask per sequence and feature, shared by all
      steps), for ``dropout`` between layers and ``output_dropout``.
    * ``output_dropout=p`` — dropout on the top layer's output (``torch.nn`` has none there).

    ``zoneout=p`` (Krueger et al. 2016), a probability in ``[0, 1)``: in training, at every step each
    unit of each sequence keeps its previous value with probability ``p`` (drawn to a resolution of
    2⁻¹⁵, four mask entries per draw of torch's generator), masks drawn fresh per step:
    ``h_t = m_t ⊙ h_{t-1} + (1 − m_t) ⊙ h̃_t``. Both states are zoned out, as in the paper: ``h`` and
    the cell state ``c``, each with its own mask (the same ``p``). In evaluation the layer takes the
    expectation, ``h_t = p h_{t-1} + (1 − p) h̃_t`` (likewise ``c``). The output at a step is the
    zoned-out ``h``; with ``proj_size`` the projected ``h`` is zoned out (and ``c``, of width ``H``).

    Forward: ``input (T, B, I)`` (``(B, T, I)`` if batch_first, ``(T, I)`` unbatched) or a
    ``PackedSequence``; ``hx = (h0 (L*D, B, P), c0 (L*D, B, H))``, zeros if omitted. Keyword
    ``lengths (B,)`` for right-padded batches: steps past a length are not computed, the final state is
    the one at the last real step and padded outputs are zero. Returns ``output (T, B, D*P)`` and
    ``(h_n, c_n)``; with ``return_trace=True`` also ``{"l0": {"input", "forget", "cell", "output",
    "cell_state", "hidden"}, "l0_reverse": ...}`` laid out like ``output``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        layer_norm: bool = False,
        forget_bias: float | None = None,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        weight_drop: float = 0.0,
        dropout_kind: str = "standard",
        output_dropout: float = 0.0,
        backend: str = "auto",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            layer_norm=layer_norm,
            forget_bias=forget_bias,
            recurrent_dropout=recurrent_dropout,
            zoneout=zoneout,
            weight_drop=weight_drop,
            dropout_kind=dropout_kind,
            output_dropout=output_dropout,
            backend=backend,
            device=device,
            dtype=dtype,
        )


class GRU(_RecurrentBase):
    """Gated recurrent unit layers with the ``torch.nn.GRU`` API (see :class:`LSTM` for the arguments).

    Keyword-only extras: ``reset_after`` (``True``: torch/cuDNN form; ``False``: the reset gate scales
    ``h`` before the matmul, as in Cho et al. 2014), ``recurrent_dropout``, ``zoneout`` (on ``h``, as
    :class:`LSTM` describes), ``weight_drop``, ``dropout_kind``, ``output_dropout`` (as :class:`LSTM`),
    ``backend``. The trace holds ``"reset"``, ``"update"``, ``"new"`` and
    ``"hidden"``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        reset_after: bool = True,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        weight_drop: float = 0.0,
        dropout_kind: str = "standard",
        output_dropout: float = 0.0,
        backend: str = "auto",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            reset_after=reset_after,
            recurrent_dropout=recurrent_dropout,
            zoneout=zoneout,
            weight_drop=weight_drop,
            dropout_kind=dropout_kind,
            output_dropout=output_dropout,
            backend=backend,
            device=device,
            dtype=dtype,
        )


class RNN(_RecurrentBase):
    """Elman RNN layers with the ``torch.nn.RNN`` API; ``nonlinearity`` is ``"tanh"`` or ``"relu"``.

    Keyword-only extras: ``recurrent_dropout``, ``weight_drop``, ``dropout_kind``, ``output_dropout``
    (as :class:`LSTM` describes them), ``backend``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        recurrent_dropout: float = 0.0,
        weight_drop: float = 0.0,
        dropout_kind: str = "standard",
        output_dropout: float = 0.0,
        backend: str = "auto",
        device=None,
        dtype=None,
    ) -> None:
        if nonlinearity not in LF.RNN_NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {LF.RNN_NONLINEARITIES}, got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(
            f"RNN_{nonlinearity.upper()}",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            recurrent_dropout=recurrent_dropout,
            weight_drop=weight_drop,
            dropout_kind=dropout_kind,
            output_dropout=output_dropout,
            backend=backend,
            device=device,
            dtype=dtype,
        )
