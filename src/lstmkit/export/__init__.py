"""Export of lstmkit layers and trained runs to ONNX (needs ``pip install 'lstmkit[export]'``).

:mod:`lstmkit.export.layers` maps each recurrent layer onto ONNX's own ``LSTM``/``GRU``/``RNN`` operator
(dynamic batch and time, ``lengths`` as ``sequence_lens``); :mod:`lstmkit.export.tasks` exports a
run's whole model with a JSON beside it saying how to feed it. ``onnx`` is imported only when an export
runs, so the library imports without it.
"""

from lstmkit.export.layers import ExportError, OnnxRecurrent, check_exportable, export_layer, exportable, require_onnx

__all__ = ["ExportError", "OnnxRecurrent", "check_exportable", "export_layer", "exportable", "require_onnx"]
