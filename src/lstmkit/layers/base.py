"""The machinery shared by :class:`~lstmkit.LSTM`, :class:`~lstmkit.GRU` and :class:`~lstmkit.RNN`.

Parameters named as ``torch.nn``'s, argument and state checks, and the stacking of layers and
directions; what differs between cells comes from their :class:`~lstmkit.cell_kinds.CellKind`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit import functional as LF
from lstmkit import init as lstm_init
from lstmkit.cell_kinds import (
    ARGUMENT_NAMES,
    LAYER_NORM_ROLES,
    WEIGHT_ROLES,
    State,
    cell_kind,
    direction_suffix,
    parameter_name,
)
from lstmkit.layers.backends import BACKENDS, check_layer_norm_backend, choose_backend, run_native
from lstmkit.layers.checks import check_lengths, check_positive_int, check_probability

__all__ = ["detach_state", "State"]

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
        weight_drop: float = 0.0,
        dropout_kind: str = "standard",
        output_dropout: float = 0.0,
        reset_after: bool = True,
        backend: str = "auto",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        check_positive_int("input_size", input_size)
        check_positive_int("hidden_size", hidden_size)
        check_positive_int("num_layers", num_layers)
        rates = {"dropout": dropout, "recurrent_dropout": recurrent_dropout, "zoneout": zoneout}
        rates.update(weight_drop=weight_drop, output_dropout=output_dropout)
        for name, p in rates.items():
            check_probability(name, p)
        if dropout_kind not in LF.DROPOUT_KINDS:
            raise ValueError(f"dropout_kind must be one of {LF.DROPOUT_KINDS}, got {dropout_kind!r}")
        if not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(f"proj_size must be a non-negative int, got {proj_size!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size must be smaller than hidden_size ({hidden_size}), got {proj_size}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        check_layer_norm_backend(layer_norm, backend)
        self.cell_kind = cell_kind(mode)
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
        self.weight_drop = float(weight_drop)
        self.dropout_kind = dropout_kind
        self.output_dropout = float(output_dropout)
        self.reset_after = reset_after
        self.backend = backend
        self.last_backend: str | None = None  # the backend the latest forward ran on (after "auto" chose)

        factory = {"device": device, "dtype": dtype}
        self._flat_weights_names: list[str] = []  # torch's order, what its fused kernel takes
        for layer in range(num_layers):
            for reverse in self._directions():
                for role, shape in self._parameter_shapes(layer).items():
                    name = parameter_name(role, layer, reverse)
                    self.register_parameter(name, nn.Parameter(torch.empty(shape, **factory)))
                    if role in WEIGHT_ROLES:
                        self._flat_weights_names.append(name)
        self.reset_parameters()

    # -- construction helpers -------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """torch.nn's name of the cell: ``"LSTM"``, ``"GRU"``, ``"RNN_TANH"`` or ``"RNN_RELU"``."""
        return self.cell_kind.mode

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _directions(self) -> tuple[bool, ...]:
        """``reverse`` of each direction of a layer: forward, then backward when bidirectional."""
        return (False, True) if self.bidirectional else (False,)

    def _parameter_shapes(self, layer: int) -> dict[str, tuple[int, ...]]:
        """Role -> shape of one direction's parameters in ``layer``, in torch's order, layer norm last."""
        gate_size = self.cell_kind.blocks * self.hidden_size
        out_size = self.proj_size or self.hidden_size
        layer_input = self.input_size if layer == 0 else out_size * self.num_directions
        shapes = {"weight_ih": (gate_size, layer_input), "weight_hh": (gate_size, out_size)}
        if self.bias:
            shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
        if self.proj_size:
            shapes["weight_hr"] = (self.proj_size, self.hidden_size)
        if self.layer_norm:
            gains = (gate_size, gate_size, self.hidden_size, self.hidden_size)
            shapes.update(zip(LAYER_NORM_ROLES, ((n,) for n in gains)))
        return shapes

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
            "weight_drop": 0.0,
            "dropout_kind": "standard",
            "output_dropout": 0.0,
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
        lengths = None if lengths is None else check_lengths(lengths, batch, steps, x.device, batched)
        state = self._initial_state(hx, x, batch, batched)

        backend = self._choose_backend(x, return_trace)
        self.last_backend = backend
        weights = self.forward_weights()
        if backend == "native":
            (output, final), trace = run_native(self, x, state, lengths, weights), {}
        else:
            output, final, trace = self._run_layers(x, state, lengths, backend, return_trace, weights)
        output = LF.sequence_dropout(output, self.output_dropout, self.dropout_kind, self.training)

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
        result = (output, self.cell_kind.as_hx(final))
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
        time_dim = 1 if self.batch_first and input.dim() == 3 else 0
        if input.shape[time_dim] == 0:
            raise ValueError(f"input has no time steps: expected at least 1, got shape {tuple(input.shape)}")
        if input.dim() == 3 and input.shape[1 - time_dim] == 0:
            raise ValueError(f"input has an empty batch: expected at least 1 sequence, got shape {tuple(input.shape)}")
        if input.dim() == 2:
            return input.unsqueeze(1), False
        return (input.transpose(0, 1) if self.batch_first else input), True

    def _state_shapes(self, batch: int) -> list[tuple[int, ...]]:
        rows = self.num_layers * self.num_directions
        shapes = [(rows, batch, self.proj_size or self.hidden_size)]
        if self.cell_kind.has_cell_state:
            shapes.append((rows, batch, self.hidden_size))
        return shapes

    def _initial_state(self, hx, x: Tensor, batch: int, batched: bool) -> tuple[Tensor, ...]:
        shapes = self._state_shapes(batch)
        if hx is None:
            return tuple(x.new_zeros(shape) for shape in shapes)
        names = ("h0", "c0") if self.cell_kind.has_cell_state else ("hx",)
        if self.cell_kind.has_cell_state and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"hx for an LSTM must be a tuple (h0, c0), got {type(hx).__name__}")
        hx = self.cell_kind.as_states(hx)
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
        return choose_backend(self, x, return_trace)

    def _recurrent_dropout_active(self) -> bool:
        return self.training and self.recurrent_dropout > 0

    def forward_weights(self) -> dict[str, Tensor]:
        """The weights one forward call uses, by parameter name (``weight_ih_l0``, ...; no layer-norm gains).

        With ``weight_drop=p`` in training, every ``weight_hh`` is replaced by a DropConnect draw of it
        (:func:`lstmkit.functional.drop_connect`): one mask per call, so every time step and sequence
        of the batch sees the same dropped matrix, and the gradient reaches the parameter through the
        kept entries. Masks are drawn in the order of the names (layer by layer, forward direction
        first), so the same seed gives the same masks on every backend.
        """
        weights = {name: getattr(self, name) for name in self._flat_weights_names}
        if self.training and self.weight_drop > 0:
            for name, weight in weights.items():
                if name.startswith("weight_hh"):
                    weights[name] = LF.drop_connect(weight, self.weight_drop)
        return weights

    # -- running the stack ----------------------------------------------------------------------

    def _direction_weights(self, suffix: str, weights: dict[str, Tensor] | None = None) -> dict[str, Tensor | None]:
        """One direction's weights by their argument names (``w_ih``, ...); ``None`` where there is none.

        Taken from ``weights`` (a :meth:`forward_weights` draw) when given, else the parameters themselves.
        """
        if weights is None:
            weights = self._parameters
        return {ARGUMENT_NAMES[role]: weights.get(role + suffix) for role in self.cell_kind.weight_roles}

    def _run_layers(self, x, state, lengths, backend, return_trace, weights):
        step_mask = None if lengths is None else LF.step_mask_from_lengths(lengths, x.shape[0])
        finals: list[list[Tensor]] = [[] for _ in state]
        trace: Trace = {}
        layer_input = x
        for layer in range(self.num_layers):
            calls = []
            for direction, reverse in enumerate(self._directions()):
                states = tuple(s[layer * self.num_directions + direction] for s in state)
                inputs = LF.reverse_padded(layer_input, lengths) if reverse else layer_input
                suffix = direction_suffix(layer, reverse)
                calls.append(self._direction_call(inputs, states, suffix, weights, step_mask, backend, return_trace))
            outputs = []
            for reverse, (output, final, records) in zip(
                self._directions(), self.cell_kind.run_layer_directions(backend, calls)
            ):
                if reverse:
                    output = LF.reverse_padded(output, lengths)
                    records = {k: LF.reverse_padded(v, lengths) for k, v in records.items()}
                outputs.append(output)
                for collected, value in zip(finals, final):
                    collected.append(value)
                if return_trace:
                    trace[direction_suffix(layer, reverse)[1:]] = {**records, "hidden": output}
            layer_input = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
            if layer < self.num_layers - 1:
                layer_input = LF.sequence_dropout(layer_input, self.dropout, self.dropout_kind, self.training)
        return layer_input, tuple(torch.stack(f) for f in finals), trace

    def _direction_call(self, x, state, suffix, weights, step_mask, backend, trace) -> tuple[tuple, dict]:
        """One layer in one direction, time-major: the positional and keyword arguments of its layer function."""
        options = self.cell_kind.options(self)
        options["step_mask"] = step_mask
        options["recurrent_mask"] = None
        if self._recurrent_dropout_active():
            keep = 1 - self.recurrent_dropout
            # One mask per sequence, reused at every step: the same units are dropped all along.
            options["recurrent_mask"] = torch.bernoulli(torch.full_like(state[0], keep)) / keep
        zoneout = self._zoneout(x, state)
        if zoneout is not None:
            options["zoneout"] = zoneout
        layer_norm = self._layer_norm_weights(suffix)
        if layer_norm is not None:  # the reference and the compiled kernel have a layer-norm path
            options["layer_norm"] = layer_norm
        if backend != "reference":  # the reference loops always return their records
            options["trace"] = trace
        direction_weights = self._direction_weights(suffix, weights).values()
        return (x, self.cell_kind.as_hx(state), *direction_weights), options

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
        return LF.zoneout_mask((x.shape[0], x.shape[1], width), self.zoneout, x.device)

    def _layer_norm_weights(self, suffix: str) -> LF.LayerNormWeights | None:
        if not self.layer_norm:
            return None
        return LF.LayerNormWeights(*(getattr(self, role + suffix) for role in LAYER_NORM_ROLES))
