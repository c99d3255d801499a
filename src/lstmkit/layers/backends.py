"""Which backend runs a layer's forward, and the one that is torch's own fused kernel.

The choice of ``"auto"`` is described in :mod:`lstmkit.layers`; the measured crossover where torch's
kernel beats the compiled one lives in :mod:`lstmkit.kernels.dispatch`.
"""

from __future__ import annotations

import torch
from torch import _VF, Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit import functional as LF
from lstmkit import kernels
from lstmkit.kernels import dispatch

__all__ = ["BACKENDS", "check_layer_norm_backend", "choose_backend", "run_native"]

BACKENDS = ("auto", "native", "compiled", "bptt", "reference")


def check_layer_norm_backend(layer_norm: bool, backend: str) -> None:
    """Reject a backend without a layer-norm path for a layer-normalised LSTM."""
    if layer_norm and backend in ("native", "bptt"):
        raise ValueError(
            f"layer_norm=True runs on the 'compiled', 'reference' or 'auto' backend, got backend={backend!r}"
        )


def _trains_on(layer: nn.Module, x: Tensor) -> bool:
    """Whether a call on ``x`` builds a graph for a backward pass (training) or not (inference)."""
    return torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in layer.parameters()))


def choose_backend(layer: nn.Module, x: Tensor, return_trace: bool) -> str:
    """The backend ``layer`` runs ``x (T, B, I)`` on: its own setting, or what ``"auto"`` picks."""
    needs_ours = (
        return_trace
        or layer._recurrent_dropout_active()
        or layer.zoneout > 0
        or not layer.reset_after  # a GRU option; torch's kernel has only reset_after=True
    )
    check_layer_norm_backend(layer.layer_norm, layer.backend)  # the backend may have been set since
    if layer.backend == "native" and needs_ours:
        raise ValueError(
            "backend='native' cannot record traces, apply recurrent dropout or zoneout or run reset_after=False; "
            "use backend='compiled', 'bptt' or 'auto'"
        )
    cannot_run = kernels.cannot_run_reason(x)
    if layer.backend == "compiled" and cannot_run:
        raise ValueError(f"backend='compiled' cannot run this input: {cannot_run}")
    if layer.backend != "auto":
        return layer.backend
    if not cannot_run:
        plain = not needs_ours and not layer.layer_norm
        if plain and dispatch.torch_is_faster(layer.mode, x.shape[1], layer.hidden_size, _trains_on(layer, x)):
            return "native"
        return "compiled"
    if not kernels.available() and not kernels.input_mismatch(x):
        kernels.warn_unavailable()  # the kernels would have taken this input, had they been built
    if layer.layer_norm:
        return "reference"
    return "bptt" if needs_ours else "native"


def run_native(
    layer: nn.Module, x: Tensor, states: tuple[Tensor, ...], lengths: Tensor | None, weights: dict[str, Tensor]
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """torch's fused kernel (``torch._VF``, what ``torch.nn.LSTM.forward`` calls) over the whole stack.

    ``x (T, B, I)``; ``states`` as a tuple ``(h0[, c0])``; ``weights`` by parameter name, as
    ``layer.forward_weights()`` gives them (weight drop applied: torch's kernel takes a weight list).
    Returns ``output (T, B, D*P)`` and the final states.
    """
    flat = [weights[name] for name in layer._flat_weights_names]
    if not (layer.dropout_kind == "locked" and layer.training and layer.dropout > 0):
        return _native_stack(layer, x, states, lengths, flat, layer.num_layers, layer.dropout)
    # torch's kernel draws standard dropout between its layers: for locked masks, one call per layer.
    per_layer, rows = len(flat) // layer.num_layers, layer.num_directions
    finals = []
    for index in range(layer.num_layers):
        if index:
            x = LF.locked_dropout(x, layer.dropout)
        layer_states = tuple(s[index * rows : (index + 1) * rows] for s in states)
        layer_weights = flat[index * per_layer : (index + 1) * per_layer]
        x, final = _native_stack(layer, x, layer_states, lengths, layer_weights, 1, 0.0)
        finals.append(final)
    return x, tuple(torch.cat(parts) for parts in zip(*finals))


def _native_stack(
    layer: nn.Module,
    x: Tensor,
    states: tuple[Tensor, ...],
    lengths: Tensor | None,
    weights: list[Tensor],
    num_layers: int,
    dropout: float,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """One call of torch's kernel over ``num_layers`` layers with the flat ``weights`` list in torch's order."""
    kind = layer.cell_kind
    kernel = getattr(_VF, kind.mode.lower())
    options = (layer.bias, num_layers, dropout, layer.training, layer.bidirectional)
    if lengths is None:
        result = kernel(x, kind.as_hx(states), weights, *options, False)
        return result[0], tuple(result[1:])
    packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
    order, inverse = packed.sorted_indices.to(x.device), packed.unsorted_indices.to(x.device)
    hx = kind.as_hx(tuple(s.index_select(1, order) for s in states))
    result = kernel(packed.data, packed.batch_sizes, hx, weights, *options)
    output, _ = pad_packed_sequence(
        PackedSequence(result[0], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices),
        total_length=x.shape[0],
    )
    return output, tuple(s.index_select(1, inverse) for s in result[1:])
