"""Diagnostics: why LSTMs. Gradient flow over time, long-memory benchmarks, gate and cell-state recording.

* :mod:`~lstmkit.diagnostics.gradients` — gradient norm of a last-step loss against lag, exploding
  gradients and clipping (``lstmkit diagnose gradients``).
* :mod:`~lstmkit.diagnostics.memory` — the adding, copy and recall tasks, trained per cell and length
  with a fixed budget (``lstmkit diagnose memory``).
* :mod:`~lstmkit.diagnostics.recorder` and :mod:`~lstmkit.diagnostics.report` — per-token gates and cell
  states of a trained text model, as heat maps and an offline HTML page (``lstmkit inspect``).
"""

from lstmkit.diagnostics.gradients import GradientConfig, decay_lag, diagnose_gradients, gradient_profile
from lstmkit.diagnostics.memory import TASKS, MemoryConfig, diagnose_memory, train_memory
from lstmkit.diagnostics.recorder import record_layer, record_text
from lstmkit.diagnostics.report import html_report, inspect_run

__all__ = [
    "GradientConfig",
    "decay_lag",
    "diagnose_gradients",
    "gradient_profile",
    "TASKS",
    "MemoryConfig",
    "diagnose_memory",
    "train_memory",
    "record_layer",
    "record_text",
    "html_report",
    "inspect_run",
]
