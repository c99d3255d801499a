"""ONNX export of lstmkit's recurrent layers, each layer mapped onto ONNX's own ``LSTM``/``GRU``/``RNN`` operator.

Why this route: lstmkit's layers loop over time in Python (or in C++ kernels), so a tracer sees one
unrolled step per time step of the example; torch's ``dynamo=True`` exporter freezes ``T`` that way,
and the TorchScript tracer cannot even call ``forward`` (keyword-only ``lengths``). ONNX has recurrent
operators whose time loop runs inside the runtime: they take ``X (T, B, I)`` of any ``T`` and ``B``, an
optional ``sequence_lens (B,)`` (steps past a length are not computed, their outputs are zero, the
final state is the one at each sequence's last real step, and the reverse direction reads each
sequence backwards from its own last step) -- exactly lstmkit's ``lengths`` semantics.

:class:`OnnxRecurrent` wraps a layer. In eager mode it simply calls the layer. While
``torch.onnx.export(..., dynamo=False)`` traces it, an ``autograd.Function`` stands in for the whole
stack, and its ``symbolic`` writes one ONNX node per layer (both directions in one node), fed by the
weights converted once to ONNX's layout (:func:`onnx_weights`): gate blocks reordered (torch's LSTM
``i, f, g, o`` -> ONNX ``i, o, f, c``; GRU ``r, z, n`` -> ``z, r, h``), directions stacked, the two
biases concatenated. The stand-in's forward only returns zeros of the right shapes: inside a trace the
layer's own code cannot run (its parameters are not inputs of the traced function), and nothing
downstream branches on the values. Under ``dynamo=True`` the stand-in refuses with an error naming
``dynamo=False`` instead of letting those zeros into a file.

What has no ONNX operator is refused, naming the option (:func:`check_exportable`): ``layer_norm``,
``zoneout``, ``proj_size``, a GRU with ``reset_after=False``; so is a float64 layer (onnxruntime's
``LSTM`` runs float32 only). Dropouts of every kind are training-only
and vanish in evaluation, where an export runs.
"""

from __future__ import annotations

import copy
import importlib.util
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from lstmkit.cell_kinds import direction_suffix
from lstmkit.errors import LstmkitError
from lstmkit.io import atomic_write
from lstmkit.layers.base import _RecurrentBase

__all__ = [
    "OPSET",
    "FORMATS",
    "ExportError",
    "require_onnx",
    "check_exportable",
    "onnx_weights",
    "OnnxRecurrent",
    "exportable",
    "export_onnx",
    "export_layer",
]

OPSET = 17
FORMATS = ("onnx", "torch-export")  # what lstmkit exports to: ONNX files, torch.export programs (.pt2)
# ONNX's gate order, as indices into torch's blocks (cell_kinds' ``gates``); an Elman RNN has one block.
_ONNX_GATES = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_ONNX_OP = {"LSTM": ("LSTM", ()), "GRU": ("GRU", ()), "RNN_TANH": ("RNN", ("Tanh",)), "RNN_RELU": ("RNN", ("Relu",))}


class ExportError(LstmkitError):
    """A model or run that cannot be exported as asked (the message names the option and why)."""


def require_onnx(*packages: str) -> None:
    """Raise :class:`ExportError` naming the first of ``packages`` (default ``onnx``) that is not installed."""
    for package in packages or ("onnx",):
        if importlib.util.find_spec(package) is None:
            raise ExportError(f"ONNX export needs the {package!r} package: pip install 'lstmkit[export]'")


def check_exportable(layer: _RecurrentBase) -> None:
    """Refuse, naming the option, a layer whose computation ONNX's recurrent operators cannot express."""
    refused = {  # option -> whether the layer uses it in a way ONNX cannot express
        "layer_norm": layer.layer_norm,
        "zoneout": layer.zoneout > 0,
        "proj_size": layer.proj_size > 0,
        "reset_after": layer.mode == "GRU" and not layer.reset_after,
    }
    operator = _ONNX_OP[layer.mode][0]
    dtype = layer.weight_ih_l0.dtype
    if dtype != torch.float32:  # valid ONNX, but onnxruntime's LSTM kernel refuses double at run time
        raise ExportError(f"cannot export a {dtype} layer: ONNX export takes float32 layers (convert with .float())")
    for option, used in refused.items():
        if used:
            raise ExportError(
                f"cannot export a {layer.mode} layer with {option}={getattr(layer, option)!r}: "
                f"ONNX's {operator} operator has no equivalent"
            )


def _reorder(weight: Tensor, mode: str) -> Tensor:
    """Gate blocks of ``weight (blocks*H, ...)`` from torch's order to ONNX's."""
    blocks = weight.chunk(len(_ONNX_GATES[mode]), dim=0)
    return torch.cat([blocks[i] for i in _ONNX_GATES[mode]], dim=0)


def onnx_weights(layer: _RecurrentBase, index: int) -> tuple[Tensor, Tensor, Tensor]:
    """Layer ``index``'s ``W (D, G*H, I)``, ``R (D, G*H, H)`` and ``B (D, 2*G*H)`` in ONNX's layout."""
    ws, rs, bs = [], [], []
    for reverse in layer._directions():
        suffix = direction_suffix(index, reverse)
        w_ih, w_hh = getattr(layer, "weight_ih" + suffix), getattr(layer, "weight_hh" + suffix)
        ws.append(_reorder(w_ih, layer.mode))
        rs.append(_reorder(w_hh, layer.mode))
        if layer.bias:
            biases = (getattr(layer, "bias_ih" + suffix), getattr(layer, "bias_hh" + suffix))
        else:  # ONNX's B is optional, but a zero bias keeps one node layout for every layer
            biases = (w_ih.new_zeros(w_ih.shape[0]),) * 2
        bs.append(torch.cat([_reorder(b, layer.mode) for b in biases]))
    return tuple(torch.stack(t).detach().clone() for t in (ws, rs, bs))


def _missing(g):
    """ONNX's "optional input left out" (an empty name), as torch's TorchScript exporter writes it."""
    node = g.op("prim::Constant")
    node.setType(torch._C.OptionalType.ofTensor())
    return node


def _stack_function(layer: _RecurrentBase, has_lengths: bool) -> type[torch.autograd.Function]:
    """An ``autograd.Function`` over ``(x (T, B, I), [lengths (B,)], *states, *weights)`` that exports as one
    ONNX recurrent node per layer of ``layer``; its forward returns zeros shaped as the layer's results."""
    op, activations = _ONNX_OP[layer.mode]
    hidden, directions, num_layers = layer.hidden_size, layer.num_directions, layer.num_layers
    num_states = 2 if layer.cell_kind.has_cell_state else 1
    attributes = {"hidden_size_i": hidden, "direction_s": "bidirectional" if directions == 2 else "forward"}
    if activations:
        attributes["activations_s"] = list(activations) * directions
    if op == "GRU":
        attributes["linear_before_reset_i"] = 1  # torch's GRU: r scales (W_hn h + b_hn)

    class RecurrentStack(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, *rest):
            states = rest[int(has_lengths) : int(has_lengths) + num_states]
            output = x.new_zeros(x.shape[0], x.shape[1], directions * hidden)
            return (output, *(s.clone() for s in states))

        @staticmethod
        def symbolic(g, x, *rest):
            lengths = g.op("Cast", rest[0], to_i=6) if has_lengths else _missing(g)  # sequence_lens is int32
            states, weights = (
                rest[int(has_lengths) : int(has_lengths) + num_states],
                rest[int(has_lengths) + num_states :],
            )
            finals: list[list] = [[] for _ in states]
            for index in range(num_layers):
                rows = [
                    g.op("Constant", value_t=torch.tensor([v])) for v in (index * directions, (index + 1) * directions)
                ]
                initial = [
                    g.op("Slice", s, rows[0], rows[1], g.op("Constant", value_t=torch.tensor([0]))) for s in states
                ]
                w, r, b = weights[3 * index : 3 * index + 3]
                y, *ends = g.op(op, x, w, r, b, lengths, *initial, outputs=1 + num_states, **attributes)
                # Y is (T, D, B, H); the next layer and the caller read (T, B, D*H), directions side by side.
                y = g.op("Transpose", y, perm_i=[0, 2, 1, 3])
                x = g.op("Reshape", y, g.op("Constant", value_t=torch.tensor([0, 0, -1])))
                for collected, end in zip(finals, ends):
                    collected.append(end)
            return (x, *(g.op("Concat", *f, axis_i=0) if len(f) > 1 else f[0] for f in finals))

    return RecurrentStack


class LayerStandIn(nn.Module):
    """What every stand-in for an lstmkit ``layer`` shares: it holds the layer and answers for the layer's
    attributes (``weight_ih_l0``, ``hidden_size``...), so a model that reads its layer's parameters itself
    (the segment forecaster's decoder step) runs unchanged with the stand-in in the layer's place."""

    def __init__(self, layer: _RecurrentBase) -> None:
        super().__init__()
        self.layer = layer

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "layer":  # not set yet: no layer to ask
                raise
            return getattr(self.layer, name)


class OnnxRecurrent(LayerStandIn):
    """An exportable stand-in for an lstmkit layer (see the module docstring), with the layer's call signature.

    ``forward(input, hx=None, *, lengths=None)`` returns ``(output, h_n)`` or ``(output, (h_n, c_n))`` like
    the layer; in eager mode it calls ``layer`` itself, under ``torch.onnx.export`` it writes ONNX nodes.
    """

    def __init__(self, layer: _RecurrentBase) -> None:
        check_exportable(layer)
        super().__init__(layer)
        for index in range(layer.num_layers):
            for name, tensor in zip("WRB", onnx_weights(layer, index)):
                self.register_buffer(f"onnx_{name}_l{index}", tensor)

    def forward(self, input: Tensor, hx=None, *, lengths: Tensor | None = None):
        if not torch.onnx.is_in_onnx_export():
            return self.layer(input, hx, lengths=lengths)
        if not torch.jit.is_tracing():  # the dynamo exporter: it would keep the stand-in's zeros
            raise ExportError(
                "lstmkit layers export with torch.onnx.export(..., dynamo=False) (see lstmkit.export), got dynamo=True"
            )
        layer = self.layer
        if input.dim() != 3:
            raise ExportError(f"export needs a batched 3-D input, got shape {tuple(input.shape)}")
        x = input.transpose(0, 1) if layer.batch_first else input
        if hx is None:
            shapes = layer._state_shapes(1)
            hx = layer.cell_kind.as_hx(tuple(x.new_zeros(s[0], x.shape[1], s[2]) for s in shapes))
        states = layer.cell_kind.as_states(hx)
        weights = [getattr(self, f"onnx_{n}_l{i}") for i in range(layer.num_layers) for n in "WRB"]
        inputs = (x, *(() if lengths is None else (lengths,)), *states, *weights)
        output, *finals = _stack_function(layer, lengths is not None).apply(*inputs)
        if layer.batch_first:
            output = output.transpose(0, 1)
        return output, layer.cell_kind.as_hx(tuple(finals))


def exportable(model: nn.Module, stand_in: Callable[[_RecurrentBase], nn.Module] = OnnxRecurrent) -> nn.Module:
    """A copy of ``model`` in evaluation mode with every lstmkit layer inside it wrapped in ``stand_in``
    (:class:`OnnxRecurrent`, or :class:`~lstmkit.export.program.ProgramRecurrent` for ``torch.export``)."""
    if isinstance(model, _RecurrentBase):
        return stand_in(copy.deepcopy(model).eval())
    model = copy.deepcopy(model).eval()
    for parent in list(model.modules()):
        for attribute, child in list(parent.named_children()):
            if isinstance(child, _RecurrentBase):
                setattr(parent, attribute, stand_in(child))
    return model


def export_onnx(
    module: nn.Module,
    args: tuple,
    path: str | Path,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: dict[str, dict[int, str]],
) -> Path:
    """``torch.onnx.export`` of ``module`` (wrapped by :func:`exportable` first) to ``path``, written atomically.

    ``dynamic_axes`` may name tensors the graph lacks (they are left out). The TorchScript exporter
    (``dynamo=False``) is the one that runs ``symbolic``; torch 2.9+ marks it deprecated, which is said
    once here rather than on every export.
    """
    require_onnx("onnx")
    module = exportable(module)
    named = set(input_names) | set(output_names)  # one table of axes may serve several graphs of a task
    dynamic_axes = {name: axes for name, axes in dynamic_axes.items() if name in named}

    def write(partial: Path) -> None:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore", DeprecationWarning)
            # The layers' and heads' argument checks read values while tracing; the exported graph has no checks.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message=".*(TorchScript|batch_size other than 1|advanced indexing).*")
            torch.onnx.export(
                module, args, str(partial), dynamo=False, opset_version=OPSET, input_names=input_names,
                output_names=output_names, dynamic_axes=dynamic_axes,
            )  # fmt: skip

    return atomic_write(path, write)


def export_layer(layer: _RecurrentBase, path: str | Path, *, lengths: bool = True, fmt: str = "onnx") -> Path:
    """Export a bare lstmkit layer to ``path``: an ONNX file, or a ``torch.export`` program (``.pt2``) for
    ``fmt="torch-export"`` (see :mod:`lstmkit.export.program`; every layer option exports that way).

    Inputs: ``input`` (``(T, B, I)``, or ``(B, T, I)`` when batch_first; float32), ``lengths (B,)`` int64
    (when ``lengths``), ``h0`` (and ``c0`` for an LSTM) ``(L*D, B, H)``. Outputs: ``output``, ``h_n``
    (and ``c_n``). ``T`` and ``B`` are dynamic.
    """
    from lstmkit.export.program import export_program  # it builds on this module

    if fmt == "onnx":
        check_exportable(layer)
    elif fmt not in FORMATS:
        raise ExportError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    batch, steps = 3, 5  # at least 2 each: torch.export fixes a dimension traced at size 0 or 1
    shape = (batch, steps, layer.input_size) if layer.batch_first else (steps, batch, layer.input_size)
    example = torch.zeros(shape, dtype=layer.weight_ih_l0.dtype)
    states = tuple(example.new_zeros(s) for s in layer._state_shapes(batch))
    state_names = ["h0", "c0"][: len(states)]
    time_axes = {0: "batch", 1: "time"} if layer.batch_first else {0: "time", 1: "batch"}
    axes = {"input": time_axes, "output": time_axes}
    axes.update({name: {1: "batch"} for name in state_names + ["h_n", "c_n"][: len(states)]})
    names = ["input"]
    args: tuple = (example,)
    if lengths:
        names.append("lengths")
        axes["lengths"] = {0: "batch"}
        args = (*args, torch.full((batch,), steps, dtype=torch.long))

    class _Call(nn.Module):  # the positional signature the tracer needs, over the keyword-only lengths
        def __init__(self) -> None:
            super().__init__()
            self.layer = layer

        def forward(self, x, *rest):
            given = rest[0] if lengths else None
            hx = layer.cell_kind.as_hx(rest[int(lengths) :])
            output, final = self.layer(x, hx, lengths=given)
            return (output, *layer.cell_kind.as_states(final))

    write = export_onnx if fmt == "onnx" else export_program
    return write(
        _Call(), (*args, *states), path, names + state_names, ["output", "h_n", "c_n"][: 1 + len(states)], axes
    )
