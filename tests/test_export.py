"""ONNX export (lstmkit.export): every exported file is run in onnxruntime and compared with PyTorch."""

from __future__ import annotations

import pytest
import torch

import lstmkit
from lstmkit.export import ExportError, export_layer, require_onnx

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

TOLERANCE = 1e-5
LENGTHS = [9, 1, 5, 7]  # a batch mixing lengths, the longest first and last sorted nowhere


def run_onnx(path, feeds: dict) -> list:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [torch.from_numpy(a) for a in session.run(None, {k: v.numpy() for k, v in feeds.items()})]


def max_difference(got: list, want: list) -> float:
    return max(float((a - b.detach()).abs().max()) for a, b in zip(got, want, strict=True))


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_layer_matches_pytorch_on_mixed_lengths(tmp_path, cell, bidirectional, num_layers):
    torch.manual_seed(num_layers)
    batch_first = num_layers == 2  # both layouts, without doubling the cases
    layer = getattr(lstmkit, cell)(3, 4, num_layers, bidirectional=bidirectional, batch_first=batch_first).eval()
    path = export_layer(layer, tmp_path / "layer.onnx")
    # Longer and wider than the example the exporter traced (T=3, B=2): both axes must be dynamic.
    steps, batch = max(LENGTHS), len(LENGTHS)
    x = torch.randn((batch, steps, 3) if batch_first else (steps, batch, 3))
    x_padded = x.clone()
    lengths = torch.tensor(LENGTHS)
    for b, n in enumerate(LENGTHS):  # garbage in the padding must change nothing
        (x_padded[b, n:] if batch_first else x_padded[n:, b]).fill_(1e3)
    states = tuple(torch.randn(shape) for shape in layer._state_shapes(batch))
    output, final = layer(x, layer.cell_kind.as_hx(states), lengths=lengths)
    want = [output, *layer.cell_kind.as_states(final)]
    names = ["h0", "c0"][: len(states)]
    got = run_onnx(path, {"input": x_padded, "lengths": lengths, **dict(zip(names, states))})
    assert max_difference(got, want) < TOLERANCE
    assert got[0].abs().max() > 0.01  # a real output, not zeros that happen to match padding


def test_layer_without_lengths_and_initial_state(tmp_path):
    torch.manual_seed(0)
    layer = lstmkit.LSTM(3, 4, 2, bidirectional=True).eval()
    path = export_layer(layer, tmp_path / "layer.onnx", lengths=False)
    x = torch.randn(6, 5, 3)
    output, (h_n, c_n) = layer(x)
    zeros = torch.zeros(4, 5, 4)
    assert max_difference(run_onnx(path, {"input": x, "h0": zeros, "c0": zeros}), [output, h_n, c_n]) < TOLERANCE


@pytest.mark.parametrize(
    "layer, option",
    [
        (lambda: lstmkit.LSTM(3, 4, layer_norm=True), "layer_norm"),
        (lambda: lstmkit.LSTM(3, 4, zoneout=0.1), "zoneout"),
        (lambda: lstmkit.LSTM(3, 4, proj_size=2), "proj_size"),
        (lambda: lstmkit.GRU(3, 4, reset_after=False), "reset_after"),
    ],
)
def test_options_onnx_cannot_express_are_refused_by_name(tmp_path, layer, option):
    with pytest.raises(ExportError, match=option):
        export_layer(layer(), tmp_path / "layer.onnx")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_missing_package_is_named():
    with pytest.raises(ExportError, match="'no_such_onnx_package'.*lstmkit\\[export\\]"):
        require_onnx("no_such_onnx_package")
