"""Export of lstmkit layers and trained runs to ONNX (needs ``pip install 'lstmkit[export]'``) or to a
``torch.export`` program (``.pt2``, torch alone).

:mod:`lstmkit.export.layers` maps each recurrent layer onto ONNX's own ``LSTM``/``GRU``/``RNN`` operator
(dynamic batch and time, ``lengths`` as ``sequence_lens``); :mod:`lstmkit.export.program` exports through
the layers' reference path, its time loop a ``scan``; :mod:`lstmkit.export.tasks` exports a run's whole
model with a JSON beside it saying how to feed it. ``onnx`` is imported only when an ONNX export runs,
so the library imports without it.
"""

from lstmkit.export.layers import (
    FORMATS,
    ExportError,
    OnnxRecurrent,
    check_exportable,
    export_layer,
    exportable,
    require_onnx,
)
from lstmkit.export.program import ProgramRecurrent, export_program

__all__ = [
    "FORMATS",
    "ExportError",
    "OnnxRecurrent",
    "ProgramRecurrent",
    "check_exportable",
    "export_layer",
    "export_program",
    "exportable",
    "require_onnx",
]
