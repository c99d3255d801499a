"""Export of a forecast run on the LTSF protocol (:class:`~lstmkit.tasks.forecast.ltsf_run.LtsfModel`).

The file maps ``past (windows, L, C)``, the last ``L`` rows of the run's ``C`` columns on their original
scale, to ``forecast (windows, H, C)`` (``(windows, H, C, Q)`` for a quantile network, each window's
quantiles sorted), on the original scale too: the run's z-scoring (the training rows' mean and standard
deviation per column) is inside the graph both ways, so a caller needs no statistics to use it. The
network is the run's own (the segment model, or the direct or seq2seq forecaster read window by window);
each window's normalisation by its last value is part of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.export._common import EXAMPLE_LENGTHS, tensor_entry

__all__ = ["ScaledLtsf", "export_ltsf"]


class ScaledLtsf(nn.Module):
    """An ltsf network on the original scale: ``past (B, L, C)`` z-scored with ``scaler``'s statistics,
    forecast, and mapped back; a quantile output ``(B, H, C, Q)`` is sorted first (quantiles never cross)."""

    def __init__(self, model: nn.Module, scaler) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(scaler.mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(scaler.std, dtype=torch.float32))

    def forward(self, past: Tensor) -> Tensor:
        output = self.model((past - self.mean) / self.std)
        if output.dim() == 4:
            return torch.sort(output, dim=-1).values * self.std.unsqueeze(-1) + self.mean.unsqueeze(-1)
        return output * self.std + self.mean


def export_ltsf(run, path: Path, write) -> tuple[dict[str, Any], list[str]]:
    """Write ``run``'s network with ``write`` (an exporter of :mod:`lstmkit.export.tasks`) to ``path``;
    returns the JSON's content and the notes."""
    lookback, horizon, columns = run.ltsf["lookback"], run.ltsf["horizon"], run.ltsf["columns"]
    example = torch.zeros(len(EXAMPLE_LENGTHS), lookback, len(columns))  # batch 3: dynamic (see _common)
    axes = {"past": {0: "windows"}, "forecast": {0: "windows"}}
    write(ScaledLtsf(run.model, run.scaler), (example,), path, ["past"], ["forecast"], axes)
    quantiles = list(run.quantiles)
    shape = ["windows", horizon, len(columns), *([len(quantiles)] if quantiles else [])]
    meaning = "forecasts on the original scale" + (f", the quantiles {quantiles} last, sorted" if quantiles else "")
    metadata = {
        "inputs": [
            tensor_entry("past", "float32", ["windows", lookback, len(columns)],
                         f"the last {lookback} rows of the columns {columns}, on their original scale"),
        ],
        "outputs": [tensor_entry("forecast", "float32", shape, f"{meaning}; the next {horizon} rows of each column")],
        "model": run.name,
        "preprocessing": {
            "columns": columns,
            "scaler": {**run.scaler.to_dict(), "applied": "inside the graph, both ways"},
            "lookback": lookback,
            "horizon": horizon,
        },
    }  # fmt: skip
    notes = [f"the file maps the last {lookback} rows of every column to the next {horizon} (scaling included)"]
    return metadata, notes
