"""Zoneout (Krueger et al. 2016) on the LSTM and GRU: the definition, every backend against the others
in float64, gradcheck, and the constructor's checks."""

import pytest
import torch

import lstmkit
from lstmkit import bptt, kernels
from lstmkit import functional as LF

needs_kernels = pytest.mark.skipif(not kernels.available(), reason=f"kernels: {kernels.unavailable_reason()}")

DT = torch.float64
T, B, I, H, P = 6, 5, 3, 7, 4
LENGTHS = [3, 6, 1, 6, 2]  # unsorted, with finished sequences
BACKENDS = ["compiled", "bptt", "reference"] if kernels.available() else ["bptt", "reference"]
LAYER_FUNCTIONS = {
    "compiled": (kernels.lstm_layer, kernels.gru_layer),
    "bptt": (bptt.lstm_layer, bptt.gru_layer),
    "reference": (LF.lstm_sequence, LF.gru_sequence),
}
LAYERS = {
    "lstm": lambda **kw: lstmkit.LSTM(I, H, **kw),
    "lstm_proj": lambda **kw: lstmkit.LSTM(I, H, proj_size=P, **kw),
    "gru": lambda **kw: lstmkit.GRU(I, H, **kw),
    "gru_reset_before": lambda **kw: lstmkit.GRU(I, H, reset_after=False, **kw),
}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _assert_close(ours, theirs):
    torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-10 * max(theirs.abs().max().item(), 1e-2))


def _initial_state(layer, batch=B):
    rows = layer.num_layers * layer.num_directions
    h0 = torch.randn(rows, batch, layer.proj_size or layer.hidden_size, dtype=DT, requires_grad=True)
    if layer.mode != "LSTM":
        return h0, [h0]
    c0 = torch.randn(rows, batch, layer.hidden_size, dtype=DT, requires_grad=True)
    return (h0, c0), [h0, c0]


def _step_by_step(torch_layer, x, state, zoneout):
    """The definition, written with a one-layer ``torch.nn`` LSTM/GRU run one step at a time:
    ``state_t = keep ⊙ state_{t-1} + (1 − keep) ⊙ cell(x_t, state_{t-1})``, keep a mask or ``p``."""
    states = list(state)
    outputs = []
    widths = [s.shape[-1] for s in states]
    for t in range(x.shape[0]):
        entering = tuple(s.unsqueeze(0) for s in states)
        _, new = torch_layer(x[t : t + 1], entering if len(states) == 2 else entering[0])
        new = [n[0] for n in (new if isinstance(new, tuple) else (new,))]
        keep = zoneout[t].split(widths, -1) if isinstance(zoneout, torch.Tensor) else [zoneout] * len(states)
        states = [
            torch.where(k, s, n) if isinstance(k, torch.Tensor) else k * s + (1 - k) * n
            for k, s, n in zip(keep, states, new)
        ]
        outputs.append(states[0])
    return torch.stack(outputs), states


# -- the definition ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("zoneout", ["mask", 0.3, "all", "none"])
@pytest.mark.parametrize("cell", ["lstm", "lstm_proj", "gru"])
def test_each_backend_follows_the_definition(cell, zoneout, backend):
    proj = P if cell == "lstm_proj" else 0
    if cell == "gru":
        theirs = torch.nn.GRU(I, H).double()
        state = (torch.randn(B, H, dtype=DT),)
    else:
        theirs = torch.nn.LSTM(I, H, proj_size=proj).double()
        state = (torch.randn(B, proj or H, dtype=DT), torch.randn(B, H, dtype=DT))
    width = sum(s.shape[-1] for s in state)
    masks = {
        "mask": torch.rand(T, B, width) < 0.4,
        "all": torch.ones(T, B, width, dtype=torch.bool),  # every unit keeps its initial value
        "none": torch.zeros(T, B, width, dtype=torch.bool),  # the plain layer
    }
    keep = masks.get(zoneout, zoneout)
    x = torch.randn(T, B, I, dtype=DT)
    weights = [p.detach() for p in theirs.parameters()]  # w_ih, w_hh, b_ih, b_hh(, w_hr)
    lstm_fn, gru_fn = LAYER_FUNCTIONS[backend]
    with torch.no_grad():
        if cell == "gru":
            output, h, _ = gru_fn(x, state[0], *weights, zoneout=keep)
            final = [h]
        else:
            output, final, _ = lstm_fn(x, state, *weights, zoneout=keep)
        expected_output, expected_final = _step_by_step(theirs, x, state, keep)
    _assert_close(output, expected_output)
    for ours, theirs_ in zip(final, expected_final):
        _assert_close(ours, theirs_)
    if zoneout == "all":
        assert torch.equal(output, state[0].expand_as(output))
    if zoneout == "none":
        plain = (gru_fn(x, state[0], *weights) if cell == "gru" else lstm_fn(x, state, *weights))[0]
        assert torch.equal(output, plain)


@pytest.mark.parametrize("backend", BACKENDS)
def test_training_keeps_a_fraction_p_of_units_with_fresh_masks_per_step(backend):
    p = 0.25
    lstm = lstmkit.LSTM(3, 32, zoneout=p, backend=backend)
    x = torch.randn(40, 16, 3)
    with torch.no_grad():
        out, _, trace = lstm(x, return_trace=True)
    cells = trace["l0"]["cell_state"]
    # A unit equals its previous value exactly only where it was zoned out.
    kept_h, kept_c = out[1:] == out[:-1], cells[1:] == cells[:-1]
    for kept in (kept_h, kept_c):
        assert abs(kept.double().mean().item() - p) < 0.02
        assert abs((kept[1:] & kept[:-1]).double().mean().item() - p * p) < 0.02  # independent between steps
        assert not torch.equal(kept[0], kept[1])  # a fresh mask per step
        assert not torch.equal(kept[:, 0], kept[:, 1])  # and per sequence
    assert abs((kept_h & kept_c).double().mean().item() - p * p) < 0.02  # h and c have their own masks


def test_layer_masks_have_the_state_widths_and_evaluation_takes_p():
    lstm = lstmkit.LSTM(3, 16, proj_size=8, zoneout=0.3)
    x = torch.randn(200, 32, 3)
    state = (torch.zeros(32, 8), torch.zeros(32, 16))
    mask = lstm._zoneout(x, state)
    assert mask.dtype == torch.bool and mask.shape == (200, 32, 24)
    assert abs(mask.double().mean().item() - 0.3) < 0.01
    # Neighbouring units (four share one draw of the generator) are independent too.
    assert abs((mask[..., 1:] & mask[..., :-1]).double().mean().item() - 0.09) < 0.01
    lstm.eval()
    assert lstm._zoneout(x, state) == 0.3
    assert lstmkit.LSTM(3, 4)._zoneout(x, state) is None


@pytest.mark.parametrize("cell", ["lstm", "lstm_proj", "gru"])
def test_evaluation_is_the_expectation_rule(cell):
    layer = LAYERS[cell](zoneout=0.3, dtype=DT).eval()
    theirs = (torch.nn.GRU(I, H) if cell == "gru" else torch.nn.LSTM(I, H, proj_size=layer.proj_size)).double()
    theirs.load_state_dict(layer.state_dict())
    x = torch.randn(T, B, I, dtype=DT)
    hx, state = _initial_state(layer)
    with torch.no_grad():
        output, final = layer(x, hx)
        expected_output, expected_final = _step_by_step(theirs, x, [s[0] for s in state], 0.3)
    _assert_close(output, expected_output)
    for ours, theirs_ in zip(final if isinstance(final, tuple) else (final,), expected_final):
        _assert_close(ours[0], theirs_)


@pytest.mark.parametrize("cell", LAYERS)
def test_zoneout_zero_is_the_plain_layer(cell):
    layer, plain = LAYERS[cell](zoneout=0.0), LAYERS[cell]()
    plain.load_state_dict(layer.state_dict())
    x = torch.randn(T, B, I)
    torch.testing.assert_close(layer(x)[0], plain(x)[0], rtol=0, atol=0)


# -- every backend against the others -------------------------------------------------------------


@needs_kernels
@pytest.mark.parametrize("training", [True, False], ids=["training", "evaluation"])
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (1, True), (2, True)])
@pytest.mark.parametrize("cell", LAYERS)
def test_backends_agree_in_float64_with_lengths(cell, num_layers, bidirectional, training):
    layer = LAYERS[cell](
        num_layers=num_layers, bidirectional=bidirectional, zoneout=0.3, recurrent_dropout=0.2, dtype=DT
    ).train(training)
    x = torch.randn(T, B, I, dtype=DT, requires_grad=True)
    hx, state = _initial_state(layer)
    leaves = [x, *state, *layer.parameters()]
    results = {}
    for backend in ("compiled", "bptt", "reference"):
        layer.backend = backend
        torch.manual_seed(1)  # the same dropout and zoneout masks on every backend
        output, final, trace = layer(x, hx, lengths=LENGTHS, return_trace=True)
        assert layer.last_backend == backend
        outputs = [output, *(final if isinstance(final, tuple) else (final,))]
        generator = torch.Generator().manual_seed(2)
        loss = sum((torch.randn(o.shape, generator=generator, dtype=DT) * o).sum() for o in outputs)
        records = [trace[direction][name] for direction in sorted(trace) for name in sorted(trace[direction])]
        results[backend] = [*outputs, *records, *torch.autograd.grad(loss, leaves)]
    for backend in ("compiled", "bptt"):
        for ours, theirs in zip(results[backend], results["reference"], strict=True):
            _assert_close(ours, theirs)


def _function_case(cell, zoneout, steps=4, batch=3, inputs=2, hidden=3, proj_size=2):
    """Leaves and a function of them running one direction of ``cell`` with zoneout and lengths."""
    proj = cell == "lstm_proj"
    out = proj_size if proj else hidden
    gates = 3 if cell.startswith("gru") else 4
    leaves = [torch.randn(steps, batch, inputs, dtype=DT), torch.randn(batch, out, dtype=DT)]
    leaves += [torch.randn(batch, hidden, dtype=DT)] if gates == 4 else []
    leaves += [torch.randn(gates * hidden, inputs, dtype=DT), torch.randn(gates * hidden, out, dtype=DT)]
    leaves += [torch.randn(gates * hidden, dtype=DT), torch.randn(gates * hidden, dtype=DT)]
    leaves += [torch.randn(proj_size, hidden, dtype=DT)] if proj else []
    leaves = [leaf.requires_grad_() for leaf in leaves]
    width = out + hidden if gates == 4 else hidden
    keep = torch.rand(steps, batch, width) < 0.4 if zoneout == "mask" else zoneout
    masks = {
        "step_mask": LF.step_mask_from_lengths(torch.tensor([steps, 1, steps - 1][:batch]), steps),
        "recurrent_mask": (torch.rand(batch, out) > 0.3).to(DT) / 0.7,
        "zoneout": keep,
    }

    def run(fn, *args):
        if gates == 3:
            output, h, _ = fn(*args, **masks, reset_after=cell == "gru")
            return output, h
        x, h0, c0, *weights = args
        output, (h, c), _ = fn(x, (h0, c0), *weights, **masks)
        return output, h, c

    return leaves, run


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "reference"])
@pytest.mark.parametrize("zoneout", ["mask", 0.3])
@pytest.mark.parametrize("cell", LAYERS)
def test_gradcheck(cell, zoneout, backend):
    leaves, run = _function_case(cell, zoneout)
    fn = LAYER_FUNCTIONS[backend][1 if cell.startswith("gru") else 0]
    assert torch.autograd.gradcheck(lambda *args: run(fn, *args), leaves, eps=1e-6, atol=1e-6)


@needs_kernels
def test_auto_picks_the_compiled_kernel_and_native_refuses_zoneout():
    x = torch.randn(5, 2, 3)
    for layer in (lstmkit.LSTM(3, 4, zoneout=0.1), lstmkit.GRU(3, 4, zoneout=0.1)):
        layer(x)
        assert layer.last_backend == "compiled"
        layer.eval()(x)
        assert layer.last_backend == "compiled"  # the expectation rule is not torch's either
    with pytest.raises(ValueError, match="backend='native' cannot .* zoneout"):
        lstmkit.LSTM(3, 4, zoneout=0.1, backend="native")(x)


def test_without_kernels_zoneout_runs_on_the_python_bptt(monkeypatch):
    from lstmkit.kernels import _library

    monkeypatch.setattr(_library, "_load", lambda: (None, "not built (test)"))
    _library.warn_unavailable.cache_clear()
    with pytest.warns(RuntimeWarning, match="not built"):
        layer = lstmkit.GRU(3, 4, zoneout=0.1)
        layer(torch.randn(5, 2, 3))
    assert layer.last_backend == "bptt"
    _library.warn_unavailable.cache_clear()


# -- bad values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5, "0.1", True, None])
@pytest.mark.parametrize("layer", [lstmkit.LSTM, lstmkit.GRU])
def test_bad_zoneout_probability_is_named(layer, value):
    with pytest.raises(ValueError, match=rf"zoneout must be a probability in \[0, 1\), got {value!r}"):
        layer(3, 4, zoneout=value)


def test_rnn_has_no_zoneout():
    with pytest.raises(TypeError, match="zoneout"):
        lstmkit.RNN(3, 4, zoneout=0.1)


@pytest.mark.parametrize(
    "zoneout, message",
    [
        (torch.zeros(T, B, 2 * H, dtype=DT), r"bool tensor of shape \(T, B, N\) = \(6, 5, 14\), got torch.float64"),
        (torch.zeros(T, B, H, dtype=torch.bool), r"= \(6, 5, 14\), got torch.bool \(6, 5, 7\)"),
        (1.0, r"zoneout must be a bool mask or a probability in \[0, 1\), got 1.0"),
    ],
)
def test_bad_zoneout_argument_of_the_layer_functions_is_named(zoneout, message):
    x, h, c = torch.randn(T, B, I, dtype=DT), torch.zeros(B, H, dtype=DT), torch.zeros(B, H, dtype=DT)
    w_ih, w_hh = torch.randn(4 * H, I, dtype=DT), torch.randn(4 * H, H, dtype=DT)
    for fn in [fns[0] for fns in LAYER_FUNCTIONS.values()]:
        with pytest.raises(ValueError, match=message):
            fn(x, (h, c), w_ih, w_hh, zoneout=zoneout)
