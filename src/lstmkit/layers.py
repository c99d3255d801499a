"""Drop-in ``LSTM``, ``GRU`` and ``RNN`` modules with the ``torch.nn`` API, plus what cuDNN lacks.

The modules own parameters (named exactly as ``torch.nn``'s, so state dicts interchange) and stack
layers and directions; the math lives in :mod:`lstmkit.functional` and :mod:`lstmkit.bptt`.

Backends (keyword ``backend``):

* ``"compiled"`` — lstmkit's C++ time loops (:mod:`lstmkit.kernels`), the hand-written backward of
  ``bptt`` with one BLAS GEMM and one fused element-wise pass per step.
* ``"bptt"`` — the hand-written backpropagation through time in Python (:mod:`lstmkit.bptt`).
* ``"reference"`` — autograd through the per-step cell functions (the test oracle).
* ``"native"`` — torch's own fused kernels (oneDNN/cuDNN), for plain configurations only, the way
  Keras dispatches to cuDNN.
* ``"auto"`` (default) — ``compiled`` wherever the kernels are built and can run the configuration
  (float32/float64 on the CPU), except the plain shapes where the measured table in
  :mod:`lstmkit.kernels.dispatch` says torch's kernel is faster; without the kernels, ``native``
  for plain configurations and ``bptt`` for the extras (with one warning saying how to build them).
  A layer-normalised LSTM runs on ``compiled``, or on ``reference`` without the kernels (the Python
  BPTT has no layer-norm path).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import _VF, Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit import bptt, kernels
from lstmkit import functional as LF
from lstmkit import init as lstm_init
from lstmkit.kernels import dispatch

__all__ = ["LSTM", "GRU", "RNN", "detach_state", "BACKENDS"]

BACKENDS = ("auto", "native", "compiled", "bptt", "reference")
_GATE_MULTIPLIER = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
_NATIVE = {"LSTM": "lstm", "GRU": "gru", "RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu"}

State = Tensor | tuple[Tensor, Tensor]
Trace = dict[str, dict[str, Tensor]]


def detach_state(state: State | None) -> State | None:
    """Cut the graph behind a carried state (truncated BPTT): same values, no history.

    Feed the result back as ``hx`` for the next chunk of a long sequence so that backward stops at
    the chunk boundary while the state still carries information forward.
    """
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class _RecurrentBase(nn.Module):
    """Shared machinery of LSTM/GRU/RNN: parameters, argument checks, layer and direction stacking."""

    def __init__(
        self,
        mode: str,
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
        reset_after: bool = True,
        backend: str = "auto",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_positive_int("input_size", input_size)
        _check_positive_int("hidden_size", hidden_size)
        _check_positive_int("num_layers", num_layers)
        for name, p in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout), ("zoneout", zoneout)):
            if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p < 1:
                raise ValueError(f"{name} must be a probability in [0, 1), got {p!r}")
        if not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(f"proj_size must be a non-negative int, got {proj_size!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size must be smaller than hidden_size ({hidden_size}), got {proj_size}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        _check_layer_norm_backend(layer_norm, backend)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self.layer_norm = layer_norm
        self.forget_bias = forget_bias
        self.recurrent_dropout = float(recurrent_dropout)
        self.zoneout = float(zoneout)
        self.reset_after = reset_after
        self.backend = backend
        self.last_backend: str | None = None  # the backend the latest forward ran on (after "auto" chose)

        factory = {"device": device, "dtype": dtype}
        gate_size = _GATE_MULTIPLIER[mode] * hidden_size
        out_size = proj_size or hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * self.num_directions
            for suffix in self._suffixes(layer):
                shapes = {
                    f"weight_ih{suffix}": (gate_size, layer_input),
                    f"weight_hh{suffix}": (gate_size, out_size),
                }
                if bias:
                    shapes[f"bias_ih{suffix}"] = (gate_size,)
                    shapes[f"bias_hh{suffix}"] = (gate_size,)
                if proj_size:
                    shapes[f"weight_hr{suffix}"] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    self.register_parameter(name, nn.Parameter(torch.empty(shape, **factory)))
                self._flat_weights_names.extend(shapes)
                if layer_norm:
                    for name, shape in self._layer_norm_shapes(suffix, gate_size).items():
                        self.register_parameter(name, nn.Parameter(torch.empty(shape, **factory)))
        self.reset_parameters()

    # -- construction helpers -------------------------------------------------------------------

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _suffixes(self, layer: int) -> list[str]:
        suffixes = [f"_l{layer}"]
        if self.bidirectional:
            suffixes.append(f"_l{layer}_reverse")
        return suffixes

    def _layer_norm_shapes(self, suffix: str, gate_size: int) -> dict[str, tuple[int]]:
        return {
            f"layer_norm_ih{suffix}": (gate_size,),
            f"layer_norm_hh{suffix}": (gate_size,),
            f"layer_norm_cell_weight{suffix}": (self.hidden_size,),
            f"layer_norm_cell_bias{suffix}": (self.hidden_size,),
        }

    def reset_parameters(self) -> None:
        """torch.nn's initialisation (uniform ±1/√H), unit layer-norm gains, then the forget bias if set."""
        lstm_init.torch_default_(self)
        if self.forget_bias is not None:
            lstm_init.forget_bias_(self, self.forget_bias)

    def flatten_parameters(self) -> None:
        """Does nothing; kept so code written for ``torch.nn.LSTM`` (which compacts cuDNN weights) runs."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = {
            "num_layers": 1,
            "bias": True,
            "batch_first": False,
            "dropout": 0.0,
            "bidirectional": False,
            "proj_size": 0,
            "layer_norm": False,
            "forget_bias": None,
            "recurrent_dropout": 0.0,
            "zoneout": 0.0,
            "backend": "auto",
        }
        for name, default in defaults.items():
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)!r}"
        return s

    # -- forward --------------------------------------------------------------------------------

    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: State | None = None,
        *,
        lengths: Tensor | Sequence[int] | None = None,
        return_trace: bool = False,
    ):
        """See the class docstrings: ``hx`` is ``(h0, c0)`` for an LSTM and ``h0`` for a GRU or RNN."""
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise ValueError("pass either a PackedSequence or lengths=, not both")
            x, lengths = pad_packed_sequence(input)  # time-major, original batch order
            batched = True
        else:
            x, batched = self._check_input(input)
        steps, batch = x.shape[0], x.shape[1]
        lengths = None if lengths is None else _check_lengths(lengths, batch, steps, x.device, batched)
        state = self._initial_state(hx, x, batch, batched)

        backend = self._choose_backend(x, return_trace)
        self.last_backend = backend
        if backend == "native":
            (output, final), trace = self._run_native(x, state, lengths), {}
        else:
            output, final, trace = self._run_layers(x, state, lengths, backend, return_trace)

        if packed:
            order = input.sorted_indices
            repacked = pack_padded_sequence(
                output if order is None else output.index_select(1, order),
                lengths.cpu() if order is None else lengths.cpu().index_select(0, order.cpu()),
            )
            output = PackedSequence(repacked.data, repacked.batch_sizes, input.sorted_indices, input.unsorted_indices)
        elif not batched:
            output = output.squeeze(1)
            final = tuple(f.squeeze(1) for f in final)
            trace = {k: {g: v.squeeze(1) for g, v in d.items()} for k, d in trace.items()}
        elif self.batch_first:
            output = output.transpose(0, 1)
            trace = {k: {g: v.transpose(0, 1) for g, v in d.items()} for k, d in trace.items()}
        result = (output, final if self.mode == "LSTM" else final[0])
        return (*result, trace) if return_trace else result

    def step(self, input: Tensor, hx: State | None = None) -> tuple[Tensor, State]:
        """One time step of a unidirectional stack: ``input (B, I)`` or ``(I,)``, ``hx`` as for ``forward``.

        Returns ``output (B, P)`` (the top layer's new ``h``) and the new state in ``hx``'s layout, so
        ``output, hx = layer.step(x_t, hx)`` over ``t`` equals one ``forward`` over the sequence. The
        functional cells run it (differentiable; no dropout, as in eval mode); for fast inference one
        step at a time, with the state and buffers kept between calls, use :class:`lstmkit.Streaming`.
        """
        from lstmkit.streaming import stack_step  # streaming builds on this module

        return stack_step(self, input, hx)

    def _check_input(self, input) -> tuple[Tensor, bool]:
        if not isinstance(input, Tensor):
            raise TypeError(f"input must be a Tensor or PackedSequence, got {type(input).__name__}")
        if not input.is_floating_point():
            raise TypeError(f"input must have a floating-point dtype, got {input.dtype}")
        if input.dtype != self.weight_ih_l0.dtype:
            raise TypeError(
                f"input must have the layer's dtype {self.weight_ih_l0.dtype}, got {input.dtype} "
                "(convert the input, or the layer with .to(dtype))"
            )
        if input.dim() not in (2, 3):
            raise ValueError(
                f"input must be 3-D ({'batch, time' if self.batch_first else 'time, batch'}, features) "
                f"or 2-D (time, features) for one unbatched sequence, got shape {tuple(input.shape)}"
            )
        if input.shape[-1] != self.input_size:
            raise ValueError(f"input_size mismatch: layer expects {self.input_size} features, got {input.shape[-1]}")
        if input.dim() == 2:
            return input.unsqueeze(1), False
        return (input.transpose(0, 1) if self.batch_first else input), True

    def _state_shapes(self, batch: int) -> list[tuple[int, ...]]:
        rows = self.num_layers * self.num_directions
        shapes = [(rows, batch, self.proj_size or self.hidden_size)]
        if self.mode == "LSTM":
            shapes.append((rows, batch, self.hidden_size))
        return shapes

    def _initial_state(self, hx, x: Tensor, batch: int, batched: bool) -> tuple[Tensor, ...]:
        shapes = self._state_shapes(batch)
        if hx is None:
            return tuple(x.new_zeros(shape) for shape in shapes)
        names = ("h0", "c0") if self.mode == "LSTM" else ("hx",)
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"hx for an LSTM must be a tuple (h0, c0), got {type(hx).__name__}")
            hx = tuple(hx)
        else:
            hx = (hx,)
        states = []
        for name, h, shape in zip(names, hx, shapes):
            if not isinstance(h, Tensor):
                raise TypeError(f"{name} must be a Tensor, got {type(h).__name__}")
            expected = shape if batched else (shape[0], shape[2])
            if tuple(h.shape) != expected:
                raise ValueError(f"{name} must have shape {expected}, got {tuple(h.shape)}")
            if h.dtype != x.dtype:
                raise TypeError(f"{name} must have the input's dtype {x.dtype}, got {h.dtype}")
            if h.device != x.device:
                raise ValueError(f"{name} must be on the input's device {x.device}, got {h.device}")
            states.append(h if batched else h.unsqueeze(1))
        return tuple(states)

    def _choose_backend(self, x: Tensor, return_trace: bool) -> str:
        needs_ours = (
            return_trace
            or self._recurrent_dropout_active()
            or self.zoneout > 0
            or (self.mode == "GRU" and not self.reset_after)
        )
        _check_layer_norm_backend(self.layer_norm, self.backend)  # the backend may have been set since
        if self.backend == "native" and needs_ours:
            raise ValueError(
                "backend='native' cannot record traces, apply recurrent dropout or zoneout or run reset_after=False; "
                "use backend='compiled', 'bptt' or 'auto'"
            )
        cannot_run = kernels.cannot_run_reason(x)
        if self.backend == "compiled" and cannot_run:
            raise ValueError(f"backend='compiled' cannot run this input: {cannot_run}")
        if self.backend != "auto":
            return self.backend
        if not cannot_run:
            plain = not needs_ours and not self.layer_norm
            if plain and dispatch.torch_is_faster(self.mode, x.shape[1], self.hidden_size, self._trains_on(x)):
                return "native"
            return "compiled"
        if not kernels.available() and not kernels.input_mismatch(x):
            kernels.warn_unavailable()  # the kernels would have taken this input, had they been built
        if self.layer_norm:
            return "reference"
        return "bptt" if needs_ours else "native"

    def _trains_on(self, x: Tensor) -> bool:
        """Whether a call on ``x`` builds a graph for a backward pass (training) or not (inference)."""
        return torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in self.parameters()))

    def _recurrent_dropout_active(self) -> bool:
        return self.training and self.recurrent_dropout > 0

    # -- running the stack ----------------------------------------------------------------------

    def _direction_weights(self, suffix: str) -> dict:
        get = lambda name: getattr(self, f"{name}{suffix}", None)  # noqa: E731
        weights = {
            "w_ih": get("weight_ih"),
            "w_hh": get("weight_hh"),
            "b_ih": get("bias_ih"),
            "b_hh": get("bias_hh"),
        }
        if self.mode == "LSTM":
            weights["w_hr"] = get("weight_hr")
        return weights

    def _run_layers(self, x, state, lengths, backend, return_trace):
        step_mask = None if lengths is None else LF.step_mask_from_lengths(lengths, x.shape[0])
        finals: list[list[Tensor]] = [[] for _ in state]
        trace: Trace = {}
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                row = layer * self.num_directions + direction
                reverse = direction == 1
                inputs = LF.reverse_padded(layer_input, lengths) if reverse else layer_input
                output, final, records = self._run_direction(
                    inputs, tuple(s[row] for s in state), suffix, step_mask, backend, return_trace
                )
                if reverse:
                    output = LF.reverse_padded(output, lengths)
                    records = {k: LF.reverse_padded(v, lengths) for k, v in records.items()}
                outputs.append(output)
                for collected, value in zip(finals, final):
                    collected.append(value)
                if return_trace:
                    trace[suffix[1:]] = {**records, "hidden": output}
            layer_input = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
            if layer < self.num_layers - 1 and self.dropout > 0:
                layer_input = F.dropout(layer_input, self.dropout, self.training)
        return layer_input, tuple(torch.stack(f) for f in finals), trace

    def _run_direction(self, x, state, suffix, step_mask, backend, trace):
        """One layer in one direction, time-major; returns (output, final state tuple, records)."""
        w = self._direction_weights(suffix)
        recurrent_mask = None
        if self._recurrent_dropout_active():
            keep = 1 - self.recurrent_dropout
            # One mask per sequence, reused at every step: the same units are dropped all along.
            recurrent_mask = torch.bernoulli(torch.full_like(state[0], keep)) / keep
        masks = {"step_mask": step_mask, "recurrent_mask": recurrent_mask}
        if self.mode in ("LSTM", "GRU"):
            masks["zoneout"] = self._zoneout(x, state)
        # "compiled" and "bptt" share one interface; the reference loops take layer norm but no trace flag.
        fast = {"compiled": kernels, "bptt": bptt}.get(backend)
        if self.mode == "LSTM":
            args = (x, state, w["w_ih"], w["w_hh"], w["b_ih"], w["b_hh"], w["w_hr"])
            layer_norm = self._layer_norm_weights(suffix)
            if fast is None:
                return LF.lstm_sequence(*args, **masks, layer_norm=layer_norm)
            if layer_norm is not None:  # only the compiled kernel has a layer-norm path
                masks["layer_norm"] = layer_norm
            return fast.lstm_layer(*args, **masks, trace=trace)
        args = (x, state[0], w["w_ih"], w["w_hh"], w["b_ih"], w["b_hh"])
        if self.mode == "GRU":
            options = {"reset_after": self.reset_after}
            run = LF.gru_sequence if fast is None else fast.gru_layer
        else:
            options = {"nonlinearity": "tanh" if self.mode == "RNN_TANH" else "relu"}
            run = LF.rnn_sequence if fast is None else fast.rnn_layer
        if fast is not None:
            options["trace"] = trace
        out, h, records = run(*args, **masks, **options)
        return out, (h,), records

    def _zoneout(self, x: Tensor, state: tuple[Tensor, ...]) -> Tensor | float | None:
        """Zoneout for one direction: a fresh bool mask ``(T, B, N)`` in training, ``p`` in evaluation.

        ``N`` is the width of the states side by side (an LSTM's ``P + H``: ``h``'s units, then
        ``c``'s). Every unit of every sequence at every step keeps its previous value with probability
        ``p``, independently; evaluation uses the expectation instead of a draw.
        """
        if self.zoneout == 0:
            return None
        if not self.training:
            return self.zoneout
        width = sum(s.shape[-1] for s in state)
        return _bernoulli_mask((x.shape[0], x.shape[1], width), self.zoneout, x.device)

    def _layer_norm_weights(self, suffix: str) -> LF.LayerNormWeights | None:
        if not self.layer_norm:
            return None
        return LF.LayerNormWeights(*(getattr(self, name) for name in self._layer_norm_shapes(suffix, 0)))

    def _run_native(self, x, state, lengths):
        """torch's fused kernel (``torch._VF``, what ``torch.nn.LSTM.forward`` calls)."""
        kernel = getattr(_VF, _NATIVE[self.mode])
        weights = [getattr(self, name) for name in self._flat_weights_names]
        hx = state if self.mode == "LSTM" else state[0]
        options = (self.bias, self.num_layers, self.dropout, self.training, self.bidirectional)
        if lengths is None:
            result = kernel(x, hx, weights, *options, False)
            return result[0], tuple(result[1:])
        packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
        order, inverse = packed.sorted_indices.to(x.device), packed.unsorted_indices.to(x.device)
        hx = tuple(s.index_select(1, order) for s in state) if self.mode == "LSTM" else hx.index_select(1, order)
        result = kernel(packed.data, packed.batch_sizes, hx, weights, *options)
        output, _ = pad_packed_sequence(
            PackedSequence(result[0], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices),
            total_length=x.shape[0],
        )
        return output, tuple(s.index_select(1, inverse) for s in result[1:])


class LSTM(_RecurrentBase):
    """Long short-term memory layers with the ``torch.nn.LSTM`` constructor, forward and state dict.

    Args (as torch): ``input_size``, ``hidden_size``, ``num_layers=1``, ``bias=True``,
    ``batch_first=False``, ``dropout=0.0`` (between layers), ``bidirectional=False``, ``proj_size=0``.
    Keyword-only extras: ``layer_norm`` (Ba et al. 2016), ``forget_bias`` (initial total bias of the
    forget gate, e.g. 1.0 as Jozefowicz et al. 2015 advise), ``recurrent_dropout`` (one mask per
    sequence on ``h`` where it enters ``W_hh``), ``zoneout`` (see below), ``backend`` (see the module
    docstring).

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
            backend=backend,
            device=device,
            dtype=dtype,
        )


class GRU(_RecurrentBase):
    """Gated recurrent unit layers with the ``torch.nn.GRU`` API (see :class:`LSTM` for the arguments).

    Keyword-only extras: ``reset_after`` (``True``: torch/cuDNN form; ``False``: the reset gate scales
    ``h`` before the matmul, as in Cho et al. 2014), ``recurrent_dropout``, ``zoneout`` (on ``h``, as
    :class:`LSTM` describes), ``backend``. The trace holds ``"reset"``, ``"update"``, ``"new"`` and
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
            backend=backend,
            device=device,
            dtype=dtype,
        )


class RNN(_RecurrentBase):
    """Elman RNN layers with the ``torch.nn.RNN`` API; ``nonlinearity`` is ``"tanh"`` or ``"relu"``."""

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
            backend=backend,
            device=device,
            dtype=dtype,
        )


def _bernoulli_mask(shape: tuple[int, ...], p: float, device) -> Tensor:
    """A bool mask of ``shape``, each entry true with probability ``p`` rounded to a multiple of 2^-15.

    Zoneout's ``(T, B, N)`` masks are the largest random tensors a layer draws, and torch's generator
    costs one draw per ``torch.rand`` entry. Here four entries share one draw: ``random_()`` fills an
    int64 with 63 random bits, cut into four 16-bit lanes whose low 15 bits are uniform (the top lane's
    16th bit is the always-zero sign bit).
    """
    count = math.prod(shape)
    words = torch.empty((count + 3) // 4, dtype=torch.int64, device=device).random_()
    lanes = words.view(torch.int16)[:count].view(shape)
    return torch.lt(torch.bitwise_and(lanes, 0x7FFF), round(p * 2**15))


def _check_layer_norm_backend(layer_norm: bool, backend: str) -> None:
    if layer_norm and backend in ("native", "bptt"):
        raise ValueError(
            f"layer_norm=True runs on the 'compiled', 'reference' or 'auto' backend, got backend={backend!r}"
        )


def _check_positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_lengths(lengths, batch: int, steps: int, device, batched: bool) -> Tensor:
    """Validate ``lengths`` and return it as an int64 tensor on ``device``."""
    if not batched:
        raise ValueError("lengths= needs batched input (time, batch, features); got one unbatched sequence")
    if isinstance(lengths, Tensor):
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
            raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
        lengths = lengths.to(device=device, dtype=torch.int64)
    else:
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in lengths):
            raise TypeError(f"lengths must hold integers, got {list(lengths)!r}")
        lengths = torch.tensor(list(lengths), dtype=torch.int64, device=device)
    if lengths.dim() != 1 or lengths.numel() != batch:
        raise ValueError(f"lengths must have one entry per sequence ({batch}), got shape {tuple(lengths.shape)}")
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1 or high > steps:
        raise ValueError(f"lengths must lie in 1..{steps} (the padded length), got values from {low} to {high}")
    return lengths
