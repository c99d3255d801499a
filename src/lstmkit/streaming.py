"""Streaming inference: a recurrent stack advanced one time step at a time.

Online forecasting and real-time classification feed a layer one step at a time at batch 1-8, where
the Python and ATen overhead of a forward call costs far more than its arithmetic. :class:`Streaming`
wraps a unidirectional ``lstmkit.LSTM``/``GRU``/``RNN`` and keeps everything a step needs ready:

* **pre-packed weights** — contiguous copies taken when the stream is made (and by :meth:`refresh`);
  training the layer afterwards does not change the stream until ``refresh()`` is called;
* **the state** and **preallocated buffers**, updated in place: ``step(x_t)`` allocates nothing but
  the returned tensor;
* **one C call per step** for the whole stack (``kernels/csrc/step.cpp``), where the compiled kernels
  are built and take the layer's dtype (float32/float64 on the CPU); otherwise the same step in pure
  torch through the cells of :mod:`lstmkit.functional`.

It is for inference only: no autograd history is recorded, and the layer runs as in eval mode (no
dropout between layers, no recurrent dropout). :meth:`LSTM.step` (``layer.step(x_t, hx)``) is the
functional, differentiable form of the same step, with the state passed in and returned.

Shapes: ``B`` batch, ``I`` input features, ``L`` layers, ``H`` hidden units, ``P`` the output size
(``proj_size`` of a projected LSTM, else ``H``).
"""

from __future__ import annotations

import ctypes
import functools

import torch
from torch import Tensor, nn

from lstmkit import functional as LF
from lstmkit import kernels
from lstmkit.cell_kinds import CellKind, direction_suffix
from lstmkit.kernels._common import combined_bias
from lstmkit.kernels._library import library
from lstmkit.layers import State
from lstmkit.layers.base import _RecurrentBase

__all__ = ["Streaming", "STREAM_BACKENDS", "stack_step", "check_streamable"]

STREAM_BACKENDS = ("auto", "compiled", "reference")
Weights = dict[str, Tensor | LF.LayerNormWeights | None]


def check_streamable(layer: nn.Module) -> None:
    """Raise unless ``layer`` is an lstmkit recurrent layer that can run one step at a time."""
    if not isinstance(layer, _RecurrentBase):
        raise TypeError(f"layer must be an lstmkit.LSTM, GRU or RNN, got {type(layer).__name__}")
    if layer.bidirectional:
        raise ValueError(
            f"a bidirectional {type(layer).__name__} cannot stream: its backward direction reads the sequence "
            "from the end; stream a unidirectional layer (bidirectional=False)"
        )


def _layer_weights(layer: nn.Module) -> list[Weights]:
    """The parameters of each layer of a unidirectional stack, by their :mod:`lstmkit.functional` names."""
    return [
        {**layer._direction_weights(suffix), "layer_norm": layer._layer_norm_weights(suffix)}
        for suffix in map(direction_suffix, range(layer.num_layers))
    ]


def _cell(layer: nn.Module, w: Weights, x: Tensor, h: Tensor, c: Tensor | None):
    """One layer's step with the functional cells: ``x (B, I_l)`` -> new ``h (B, P)`` and ``c`` (LSTM)."""
    kind = layer.cell_kind
    if kind.has_cell_state:  # the LSTM's cell also takes a projection and layer norm
        gates = LF.lstm_cell_gates(
            x, (h, c), w["w_ih"], w["w_hh"], w["b_ih"], w["b_hh"], w["w_hr"], layer_norm=w["layer_norm"]
        )
        return gates.h, gates.c
    return kind.cell(x, h, w["w_ih"], w["w_hh"], w["b_ih"], w["b_hh"], **kind.options(layer)), None


def _advance(layer: nn.Module, weights: list[Weights], x: Tensor, state: tuple[Tensor, ...]):
    """Every layer's step, bottom up: ``x (B, I)``, ``state`` ``(h (L, B, P)[, c (L, B, H)])``.

    Returns the top layer's output ``(B, P)`` and the new state as a tuple laid out like ``state``.
    """
    hs, cs = [], []
    layer_input = x
    for i, w in enumerate(weights):
        c_in = state[1][i] if layer.cell_kind.has_cell_state else None
        h, c = _cell(layer, w, layer_input, state[0][i], c_in)
        hs.append(h)
        cs.append(c)
        layer_input = h
    new_state = (torch.stack(hs), torch.stack(cs)) if layer.cell_kind.has_cell_state else (torch.stack(hs),)
    return layer_input, new_state


def _check_step_input(layer: nn.Module, input: Tensor) -> tuple[Tensor, bool]:
    """``input (B, I)`` or ``(I,)`` -> ``(B, I)`` and whether it was batched.

    A step is a sequence of length one, so the layer's own input checks (type, dtype, features) apply.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"input must be a Tensor, got {type(input).__name__}")
    if input.dim() not in (1, 2):
        raise ValueError(
            f"a step's input must be 2-D (batch, features) or 1-D (features,), got shape {tuple(input.shape)}"
        )
    time_axis = 1 if input.dim() == 2 and layer.batch_first else 0
    sequence, batched = layer._check_input(input.unsqueeze(time_axis))
    return sequence[0], batched


def _checked_state(layer: nn.Module, hx: State | None, x: Tensor, batched: bool) -> tuple[Tensor, ...]:
    """``hx`` in the layer's layout, checked (names, shapes, dtype, device), as a batched tuple."""
    return layer._initial_state(hx, x.unsqueeze(0), x.shape[0], batched)


def stack_step(layer: nn.Module, input: Tensor, hx: State | None = None) -> tuple[Tensor, State]:
    """One time step of a unidirectional stack with the functional cells (what ``layer.step`` runs).

    ``input (B, I)`` or ``(I,)``; ``hx`` as for ``layer.forward`` (``(h (L, B, P), c (L, B, H))`` for an
    LSTM, ``h (L, B, H)`` otherwise; ``(L, P)`` unbatched), zeros if omitted. Returns ``output (B, P)``
    (``(P,)`` unbatched) and the new state in ``hx``'s layout. Differentiable; no dropout is applied.
    """
    check_streamable(layer)
    x, batched = _check_step_input(layer, input)
    state = _checked_state(layer, hx, x, batched)
    output, new_state = _advance(layer, _layer_weights(layer), x, state)
    if not batched:
        output, new_state = output.squeeze(0), tuple(s.squeeze(1) for s in new_state)
    return output, layer.cell_kind.as_hx(new_state)


def _snapshot(t: Tensor | LF.LayerNormWeights | None):
    if t is None:
        return None
    if isinstance(t, LF.LayerNormWeights):
        return LF.LayerNormWeights(*map(_snapshot, t))
    return t.detach().clone(memory_format=torch.contiguous_format)


class Streaming:
    """A unidirectional lstmkit layer advanced one time step at a time, for inference.

    ``stream = Streaming(layer, batch_size=1)``, then ``y_t = stream.step(x_t)`` for each step:
    ``x_t (B, I)`` (or ``(I,)`` when ``B == 1``) gives the top layer's output ``(B, P)`` (``(P,)``) and
    advances the state. ``reset()`` zeroes the state (``reset(batch_size=5)`` for another batch,
    ``reset(state=hx)`` to continue from a state such as the ``h_n, c_n`` of ``layer(prefix)``);
    ``stream.state`` is a copy of the state in the layer's ``hx`` layout.

    The stream snapshots the layer's weights: after they change (a training step, ``load_state_dict``)
    call :meth:`refresh`. ``backend``: ``"compiled"`` (the C step, float32/float64 on the CPU),
    ``"reference"`` (the functional cells in torch: any dtype and device, layer norm) or ``"auto"``
    (compiled where it can run). Inference only: no autograd history, no dropout (as in eval mode).
    """

    def __init__(self, layer: nn.Module, batch_size: int = 1, *, backend: str = "auto") -> None:
        check_streamable(layer)
        if backend not in STREAM_BACKENDS:
            raise ValueError(f"backend must be one of {STREAM_BACKENDS}, got {backend!r}")
        self.layer = layer
        self.requested_backend = backend
        self._pack()
        self.reset(batch_size)

    # -- set-up ---------------------------------------------------------------------------------

    def _pack(self) -> None:
        """Snapshot the weights and pick the backend."""
        layer = self.layer
        parameter = layer.weight_ih_l0
        self.dtype, self.device = parameter.dtype, parameter.device
        self._weights = [{k: _snapshot(v) for k, v in w.items()} for w in _layer_weights(layer)]
        reason = kernels.cannot_run_reason(parameter)
        if not reason and layer.layer_norm:
            reason = "the C step has no layer norm (layer_norm=True streams on backend='reference')"
        if self.requested_backend == "compiled" and reason:
            raise ValueError(f"backend='compiled' cannot stream this layer: {reason}")
        self.backend = "reference" if reason or self.requested_backend == "reference" else "compiled"
        if self.backend == "compiled":
            self._table, self._table_tensors = self._weight_table()

    def _weight_table(self) -> tuple[ctypes.Array, list[Tensor]]:
        """The C step's table of weight pointers (``csrc/step.cpp``), and the tensors it points into.

        Matrices are packed transposed, ``(inner, width)``: the C step's small-batch products then run
        along contiguous rows of the weight.
        """
        transposed = lambda t: None if t is None else t.t().contiguous()  # noqa: E731
        rows, keep = [], []
        for w in self._weights:
            if self.layer.cell_kind.step.split_biases:
                biases = [w["b_ih"], w["b_hh"]]
            else:
                biases = [combined_bias(w["b_ih"], w["b_hh"])]
            entries = [transposed(w["w_ih"]), transposed(w["w_hh"]), *biases]
            entries += [transposed(w["w_hr"])] if self.layer.cell_kind.has_cell_state else []
            keep += [t for t in entries if t is not None]
            rows += [None if t is None else t.data_ptr() for t in entries]
        return (ctypes.c_void_p * len(rows))(*rows), keep

    def refresh(self) -> None:
        """Snapshot the layer's weights again (after training or loading them); the state is kept."""
        state = tuple(s.clone() for s in self._state)
        self._pack()
        self.reset(state=self.layer.cell_kind.as_hx(tuple(s.to(self.device, self.dtype) for s in state)))

    def reset(self, batch_size: int | None = None, state: State | None = None) -> None:
        """Zero the state (for ``batch_size`` sequences, default the current batch), or set it to ``state``.

        ``state`` is in the layer's ``hx`` layout, ``(h (L, B, P), c (L, B, H))`` for an LSTM and
        ``h (L, B, H)`` otherwise; its batch must agree with ``batch_size`` when both are given.
        """
        layer = self.layer
        if batch_size is None:
            batch_size = self.batch_size if state is None else _state_batch(layer.cell_kind, state)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        probe = torch.empty(batch_size, layer.input_size, dtype=self.dtype, device=self.device)
        if state is not None and _state_batch(layer.cell_kind, state) != batch_size:
            raise ValueError(
                f"state batch mismatch: batch_size={batch_size}, the state holds {_state_batch(layer.cell_kind, state)}"
            )
        initial = _checked_state(layer, state, probe, True)
        self._state = tuple(s.detach().clone(memory_format=torch.contiguous_format) for s in initial)
        self._batched_shape = probe.shape
        self._unbatched_shape = probe.shape[1:] if batch_size == 1 else None
        self._output = self._state[0][-1]
        self._output_unbatched = self._output[0]
        self._call = self._compiled_call() if self.backend == "compiled" else None

    def _compiled_call(self) -> functools.partial:
        """The C step with every argument bound but the last two, the input's and the output's addresses."""
        layer = self.layer
        batch, hidden = self.batch_size, layer.hidden_size
        step = layer.cell_kind.step
        flag = step.flag(layer)
        self._work = self._state[0].new_empty(batch * step.work * hidden)
        function = library().function(step.name, self.dtype)
        sizes = (layer.num_layers, batch, layer.input_size, hidden, flag)
        pointers = (ctypes.addressof(self._table), *(t.data_ptr() for t in (*self._state, self._work)))
        # Bound as ctypes objects, which ctypes passes without converting them again at every step.
        bound = [*map(ctypes.c_int, sizes), *map(ctypes.c_void_p, pointers)]
        return functools.partial(function, *bound)

    # -- stepping -------------------------------------------------------------------------------

    @property
    def batch_size(self) -> int:
        return self._state[0].shape[1]

    @property
    def state(self) -> State:
        """A copy of the state in the layer's ``hx`` layout (batched: ``(L, B, P)``)."""
        return self.layer.cell_kind.as_hx(tuple(s.clone() for s in self._state))

    def step(self, input: Tensor) -> Tensor:
        """Advance one step: ``input (B, I)`` or ``(I,)`` -> the top layer's output ``(B, P)`` or ``(P,)``.

        The output is a new tensor (the stream keeps no reference to it) without autograd history.
        """
        # Lean on purpose: at batch 1 each Python-level operation here costs about as much as the arithmetic.
        shape = input.shape
        if shape == self._batched_shape:
            output = self._output
        elif shape == self._unbatched_shape:
            output = self._output_unbatched
        else:
            raise self._input_error(input)
        if input.dtype != self.dtype or input.device != self.device:
            raise TypeError(f"input must be {self.dtype} on {self.device}, got {input.dtype} on {input.device}")
        output = torch.empty_like(output)
        if self._call is None:
            self._reference_step(input, output)
        else:  # the C step reads the input where it lies and writes the top layer's h into output
            self._call((input if input.is_contiguous() else input.contiguous()).data_ptr(), output.data_ptr())
        return output

    def _reference_step(self, input: Tensor, output: Tensor) -> None:
        with torch.no_grad():
            top, new_state = _advance(self.layer, self._weights, input.reshape(self._batched_shape), self._state)
            for buffer, value in zip(self._state, new_state):
                buffer.copy_(value)
            output.copy_(top.view(output.shape))

    def _input_error(self, input) -> Exception:
        if not isinstance(input, Tensor):
            return TypeError(f"input must be a Tensor, got {type(input).__name__}")
        features = self.layer.input_size
        if input.dim() not in (1, 2):
            return ValueError(f"a step's input must be (batch, {features}) or ({features},), got {tuple(input.shape)}")
        if input.shape[-1] != features:
            return ValueError(f"input_size mismatch: the stream expects {features} features, got {input.shape[-1]}")
        if input.dim() == 1:
            return ValueError(
                f"a ({features},) input is one sequence, but the stream holds {self.batch_size}; pass "
                f"({self.batch_size}, {features}) or call reset(batch_size=1)"
            )
        return ValueError(
            f"batch size mismatch: the stream holds state for {self.batch_size} sequence(s), got an input of "
            f"batch {input.shape[0]}; call reset(batch_size={input.shape[0]}) first"
        )


def _state_batch(kind: CellKind, state: State) -> int:
    """The batch of a state in the batched ``hx`` layout: dim 1 of ``h (L, B, P)``."""
    h = state[0] if kind.has_cell_state and isinstance(state, (tuple, list)) else state
    if not isinstance(h, Tensor):
        raise TypeError(f"state must be a Tensor (a tuple (h, c) for an LSTM), got {type(state).__name__}")
    if h.dim() != 3:
        raise ValueError(f"state must be batched, h of shape (num_layers, batch, features), got {tuple(h.shape)}")
    return h.shape[1]
