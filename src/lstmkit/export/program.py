"""``torch.export`` of lstmkit's layers and models: a ``.pt2`` program with dynamic batch and time.

Why a stand-in here too (as :class:`~lstmkit.export.layers.OnnxRecurrent` for ONNX): a layer's
``forward`` reads values (it checks ``lengths`` as Python ints) and picks a backend, and none of its
fast backends can be exported with a dynamic time axis: the compiled C++ kernels are opaque calls, and
torch's fused kernel (``torch._VF.lstm``) is decomposed into one copy per time step of the example, so
``torch.export`` refuses a dynamic ``T``. :class:`ProgramRecurrent` therefore runs the layer's
*reference* path while exporting: the gate equations of :mod:`lstmkit.functional`, whose loop over
time becomes one ``scan`` node under ``torch.export`` (:func:`lstmkit.functional.scan_sequence`), so the
program takes any ``T`` and ``B``. Outside an export it calls the layer itself.

Every option of the reference path exports, the ones ONNX refuses included (``layer_norm``,
``zoneout`` as its evaluation expectation, ``proj_size``, a GRU with ``reset_after=False``, float64);
dropouts are training-only and vanish, as the export runs in evaluation mode.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import torch
import torch.fx.experimental._config as fx_config
from torch import Tensor, nn

from lstmkit.export.layers import LayerStandIn, exportable
from lstmkit.io import atomic_write

__all__ = ["ProgramRecurrent", "dynamic_shapes", "export_program"]


class ProgramRecurrent(LayerStandIn):
    """A stand-in for an lstmkit layer that ``torch.export`` can trace with dynamic batch and time.

    ``forward(input, hx=None, *, lengths=None)`` returns what the layer returns; under ``torch.export``
    it runs the layer's reference path without the layer's value checks (the program has no checks:
    ``lengths`` must lie in ``1..T``, as the JSON beside an exported file says).
    """

    def forward(self, input: Tensor, hx=None, *, lengths: Tensor | None = None):
        layer = self.layer
        if not torch.compiler.is_exporting():
            return layer(input, hx, lengths=lengths)
        x = input.transpose(0, 1) if layer.batch_first else input
        if hx is None:
            states = tuple(x.new_zeros(s[0], x.shape[1], s[2]) for s in layer._state_shapes(1))
        else:
            states = layer.cell_kind.as_states(hx)
        output, finals, _ = layer._run_layers(x, states, lengths, "reference", False, layer.forward_weights())
        return (output.transpose(0, 1) if layer.batch_first else output), layer.cell_kind.as_hx(finals)


def dynamic_shapes(
    module: nn.Module, input_names: list[str], dynamic_axes: dict[str, dict[int, str]]
) -> tuple[object, ...]:
    """``torch.export``'s ``dynamic_shapes`` for ``module.forward`` called with the inputs ``input_names``,
    from ONNX-style ``dynamic_axes`` (tensor -> {axis: name}): one ``Dim`` per axis name, shared by every
    input that names it (``batch`` of tokens and lengths), grouped as the signature groups them (the
    inputs a ``*states`` parameter takes form one tuple)."""
    dims: dict[str, torch.export.Dim] = {}
    specs = [
        {axis: dims.setdefault(name, torch.export.Dim(name)) for axis, name in dynamic_axes.get(tensor, {}).items()}
        or None
        for tensor in input_names
    ]
    grouped: list[object] = []
    for index, parameter in enumerate(inspect.signature(module.forward).parameters.values()):
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            # torch.export counts an empty ``*extras`` as no input at all, so it gets no entry either.
            return (*grouped, tuple(specs[index:])) if specs[index:] else tuple(grouped)
        if index < len(specs):
            grouped.append(specs[index])
    return tuple(grouped)


def export_program(
    module: nn.Module,
    args: tuple,
    path: str | Path,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: dict[str, dict[int, str]],
) -> Path:
    """``torch.export.export`` of ``module`` (its lstmkit layers wrapped in :class:`ProgramRecurrent`)
    on the example ``args``, saved with ``torch.export.save`` to ``path``, written atomically.

    The arguments are those of :func:`~lstmkit.export.layers.export_onnx`, so a task exports to
    either format with one call; ``output_names`` only document the order (a program's outputs are
    positional). The example's batch and time sizes must be at least 2: torch fixes a dimension traced
    at size 0 or 1.
    """
    module = exportable(module, ProgramRecurrent)
    shapes = dynamic_shapes(module, input_names, dynamic_axes)
    # Without duck sizing, a dynamic size that equals a fixed one in the example (a batch of 2 beside a
    # bidirectional layer's 2 directions) stays its own symbol instead of being tied to it and fixed.
    with torch.no_grad(), fx_config.patch(use_duck_shape=False):
        program = torch.export.export(module, args, dynamic_shapes=shapes)

    def write(partial: Path) -> None:
        with open(partial, "wb") as file:  # a file object: torch.export.save would check a path's suffix
            torch.export.save(program, file)

    return atomic_write(path, write)
