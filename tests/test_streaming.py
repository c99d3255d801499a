"""Streaming one step at a time (lstmkit.Streaming, layer.step) against one forward over the whole sequence."""

import pytest
import torch

import lstmkit
from lstmkit import kernels

DT = torch.float64
T, I, H, P = 6, 3, 5, 2
CELLS = {
    "lstm": lambda **kw: lstmkit.LSTM(I, H, **kw),
    "lstm_proj": lambda **kw: lstmkit.LSTM(I, H, proj_size=P, **kw),
    "gru": lambda **kw: lstmkit.GRU(I, H, **kw),
    "gru_reset_before": lambda **kw: lstmkit.GRU(I, H, reset_after=False, **kw),
    "rnn_tanh": lambda **kw: lstmkit.RNN(I, H, nonlinearity="tanh", **kw),
    "rnn_relu": lambda **kw: lstmkit.RNN(I, H, nonlinearity="relu", **kw),
}
needs_kernels = pytest.mark.skipif(
    not kernels.available(), reason=f"kernels unavailable: {kernels.unavailable_reason()}"
)
BACKENDS = [pytest.param("compiled", marks=needs_kernels), "reference"]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _random_state(layer, batch, dtype=DT):
    """A non-zero ``hx`` for ``layer``, so that the state carried in is exercised too."""
    out = layer.proj_size or layer.hidden_size
    h = torch.randn(layer.num_layers, batch, out, dtype=dtype)
    return (h, torch.randn(layer.num_layers, batch, layer.hidden_size, dtype=dtype)) if layer.mode == "LSTM" else h


def _states(state):
    return state if isinstance(state, tuple) else (state,)


def _assert_states_close(ours, theirs, **tolerance):
    for a, b in zip(_states(ours), _states(theirs), strict=True):
        torch.testing.assert_close(a, b, **tolerance)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("cell", list(CELLS))
def test_stepping_equals_one_forward(cell, num_layers, batch, backend):
    layer = CELLS[cell](num_layers=num_layers, dtype=DT).eval()
    x = torch.randn(T, batch, I, dtype=DT)
    hx = _random_state(layer, batch)
    with torch.no_grad():
        expected, expected_state = layer(x, hx)
    stream = lstmkit.Streaming(layer, batch, backend=backend)
    assert stream.backend == backend
    stream.reset(state=hx)
    outputs = torch.stack([stream.step(x[t]) for t in range(T)])
    torch.testing.assert_close(outputs, expected, rtol=1e-12, atol=1e-12)
    _assert_states_close(stream.state, expected_state, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", list(CELLS))
def test_layer_step_equals_forward_in_values_and_gradients(cell):
    layer = CELLS[cell](num_layers=2, dtype=DT)
    x = torch.randn(T, 4, I, dtype=DT)
    expected, expected_state = layer(x)
    expected.square().sum().backward()
    expected_grads = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    state, outputs = None, []
    for t in range(T):
        output, state = layer.step(x[t], state)
        outputs.append(output)
    torch.stack(outputs).square().sum().backward()
    torch.testing.assert_close(torch.stack(outputs), expected, rtol=1e-12, atol=1e-12)
    _assert_states_close(state, expected_state, rtol=1e-12, atol=1e-12)
    for ours, theirs in zip((p.grad for p in layer.parameters()), expected_grads, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_unbatched_steps(backend):
    layer = lstmkit.LSTM(I, H, proj_size=P, num_layers=2, dtype=DT)
    x = torch.randn(T, I, dtype=DT)
    with torch.no_grad():
        expected, (h, c) = layer(x)
    stream = lstmkit.Streaming(layer, backend=backend)
    outputs = torch.stack([stream.step(x[t]) for t in range(T)])
    assert outputs.shape == (T, P)
    torch.testing.assert_close(outputs, expected, rtol=1e-12, atol=1e-12)
    state, output = None, None
    for t in range(T):
        output, state = layer.step(x[t], state)
    assert output.shape == (P,) and state[0].shape == h.shape and state[1].shape == c.shape
    torch.testing.assert_close(state[1], c, rtol=1e-12, atol=1e-12)


@needs_kernels
@pytest.mark.parametrize("cell", list(CELLS))
def test_float32_compiled_step_within_1e5(cell):
    layer = CELLS[cell](num_layers=2).eval()
    x = torch.randn(T, 3, I)
    with torch.no_grad():
        expected, _ = layer(x)
    stream = lstmkit.Streaming(layer, 3, backend="compiled")
    outputs = torch.stack([stream.step(x[t]) for t in range(T)])
    torch.testing.assert_close(outputs, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch", [3, 12])  # 12: beyond the C step's small-batch loop, BLAS's GEMM
@pytest.mark.parametrize("backend", BACKENDS)
def test_reset_zeroes_the_state_and_changes_the_batch(backend, batch):
    layer = lstmkit.GRU(I, H, num_layers=2, dtype=DT)
    x = torch.randn(T, batch, I, dtype=DT)
    with torch.no_grad():
        expected, _ = layer(x)
    stream = lstmkit.Streaming(layer, backend=backend)
    stream.step(torch.randn(1, I, dtype=DT))
    stream.reset(batch_size=batch)
    assert stream.batch_size == batch
    assert not stream.state.any()
    first = torch.stack([stream.step(x[t]) for t in range(T)])
    stream.reset()
    again = torch.stack([stream.step(x[t]) for t in range(T)])
    torch.testing.assert_close(first, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(again, first, rtol=0, atol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reset_to_a_state_continues_a_forward(backend):
    layer = lstmkit.LSTM(I, H, num_layers=2, dtype=DT)
    x = torch.randn(T, 2, I, dtype=DT)
    with torch.no_grad():
        expected, _ = layer(x)
        _, prefix_state = layer(x[:3])
    stream = lstmkit.Streaming(layer, backend=backend)
    stream.reset(state=prefix_state)
    assert stream.batch_size == 2
    rest = torch.stack([stream.step(x[t]) for t in range(3, T)])
    torch.testing.assert_close(rest, expected[3:], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_weights_are_a_snapshot_until_refresh(backend):
    layer = lstmkit.RNN(I, H, dtype=DT)
    x = torch.randn(2, 1, I, dtype=DT)
    stream = lstmkit.Streaming(layer, backend=backend)
    with torch.no_grad():
        before, state = layer(x[:1])
        layer.weight_hh_l0.mul_(0.5)
        after, _ = layer(x[1:], state)
    torch.testing.assert_close(stream.step(x[0]), before[0], rtol=1e-12, atol=1e-12)
    stream.refresh()
    torch.testing.assert_close(stream.step(x[1]), after[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_outputs_are_fresh_tensors_without_history(backend):
    layer = lstmkit.LSTM(I, H, dtype=DT)
    stream = lstmkit.Streaming(layer, backend=backend)
    x = torch.randn(1, I, dtype=DT, requires_grad=True)
    first = stream.step(x)
    kept = first.clone()
    stream.step(x)
    assert not first.requires_grad
    torch.testing.assert_close(first, kept, rtol=0, atol=0)  # the next step did not overwrite it
    state = stream.state
    state[0].zero_()
    assert stream.state[0].any()  # state is a copy


def test_training_mode_streams_as_eval_and_layer_norm_on_the_reference():
    layer = lstmkit.LSTM(I, H, num_layers=2, dropout=0.5, layer_norm=True, dtype=DT).train()
    x = torch.randn(T, 2, I, dtype=DT)
    stream = lstmkit.Streaming(layer, 2)
    assert stream.backend == "reference"
    outputs = torch.stack([stream.step(x[t]) for t in range(T)])
    with torch.no_grad():
        expected, _ = layer.eval()(x)
    torch.testing.assert_close(outputs, expected, rtol=1e-12, atol=1e-12)


def test_auto_falls_back_to_the_reference_when_kernels_cannot_run(monkeypatch):
    assert lstmkit.Streaming(lstmkit.LSTM(I, H, dtype=torch.bfloat16)).backend == "reference"
    layer = lstmkit.GRU(I, H, dtype=DT)
    x = torch.randn(T, 1, I, dtype=DT)
    with torch.no_grad():
        expected, _ = layer(x)
    monkeypatch.setattr(kernels, "cannot_run_reason", lambda x: "the compiled kernels are unavailable: test")
    stream = lstmkit.Streaming(layer)
    assert stream.backend == "reference"
    torch.testing.assert_close(torch.stack([stream.step(x[t]) for t in range(T)]), expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="backend='compiled' cannot stream this layer: .*unavailable"):
        lstmkit.Streaming(layer, backend="compiled")


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_inputs_raise_clear_errors(backend):
    layer = lstmkit.LSTM(I, H, dtype=DT)
    stream = lstmkit.Streaming(layer, backend=backend)
    with pytest.raises(ValueError, match=f"input_size mismatch: the stream expects {I} features, got 4"):
        stream.step(torch.randn(1, 4, dtype=DT))
    stream.reset(batch_size=2)
    with pytest.raises(ValueError, match=r"batch size mismatch: .* 2 sequence\(s\), got an input of batch 5"):
        stream.step(torch.randn(5, I, dtype=DT))
    with pytest.raises(ValueError, match=r"the stream holds 2; pass \(2, 3\) or call reset\(batch_size=1\)"):
        stream.step(torch.randn(I, dtype=DT))
    with pytest.raises(ValueError, match=r"a step's input must be \(batch, 3\) or \(3,\), got \(1, 2, 3\)"):
        stream.step(torch.randn(1, 2, I, dtype=DT))
    with pytest.raises(TypeError, match="input must be torch.float64 on cpu, got torch.float32 on cpu"):
        stream.step(torch.randn(2, I))
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        stream.reset(batch_size=0)
    with pytest.raises(ValueError, match=r"state batch mismatch: batch_size=3, the state holds 2"):
        stream.reset(batch_size=3, state=_random_state(layer, 2))
    with pytest.raises(ValueError, match=r"c0 must have shape \(1, 2, 5\), got \(1, 2, 4\)"):
        stream.reset(state=(torch.zeros(1, 2, H, dtype=DT), torch.zeros(1, 2, 4, dtype=DT)))
    with pytest.raises(ValueError, match="layer expects 3 features, got 4"):
        layer.step(torch.randn(2, 4, dtype=DT))


def test_layers_that_cannot_stream_are_refused():
    with pytest.raises(ValueError, match="a bidirectional LSTM cannot stream"):
        lstmkit.Streaming(lstmkit.LSTM(I, H, bidirectional=True))
    with pytest.raises(ValueError, match="a bidirectional GRU cannot stream"):
        lstmkit.GRU(I, H, bidirectional=True).step(torch.randn(1, I))
    with pytest.raises(TypeError, match="layer must be an lstmkit.LSTM, GRU or RNN, got LSTM"):
        lstmkit.Streaming(torch.nn.LSTM(I, H))
    with pytest.raises(ValueError, match="backend must be one of"):
        lstmkit.Streaming(lstmkit.RNN(I, H), backend="native")
