"""lstmkit.LSTM/GRU/RNN against torch.nn with copied weights (float64), extras, state, bad input."""

import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import lstmkit
from lstmkit.selftest import CELLS, INPUTS, PROJ, TOLERANCE, LayerCase, layer_parity, relative_error

GRID = [
    LayerCase(cell, layers, bidirectional, batch_first, proj, inputs, initial_state)
    for cell, layers, bidirectional, batch_first, inputs, initial_state in itertools.product(
        CELLS, (1, 2, 3), (False, True), (False, True), INPUTS, (False, True)
    )
    for proj in ((0, PROJ) if cell == "lstm" else (0,))
    # batch_first has no meaning for one unbatched sequence
    if not (inputs == "unbatched" and batch_first)
]


@pytest.mark.parametrize("backend", ["compiled", "bptt", "native"])
@pytest.mark.parametrize("case", GRID, ids=lambda c: c.name.replace(" ", "-"))
def test_parity_with_torch_nn(case, backend):
    result = layer_parity(case, backend)
    assert result.output_error <= TOLERANCE, result
    assert result.gradient_error <= TOLERANCE, result


@pytest.mark.parametrize("cell", CELLS)
def test_reference_backend_parity(cell):
    case = LayerCase(cell, num_layers=2, bidirectional=True, inputs="lengths", initial_state=True)
    result = layer_parity(case, "reference")
    assert result.passed, result


def test_parity_detects_a_wrong_weight():
    # The harness must be able to fail: perturb one weight of the lstmkit layer after copying.
    theirs = torch.nn.LSTM(4, 6).double()
    ours = lstmkit.LSTM(4, 6, backend="bptt").double()
    ours.load_state_dict(theirs.state_dict())
    with torch.no_grad():
        ours.weight_hh_l0[5, 2] += 1e-6
    x = torch.randn(5, 3, 4, dtype=torch.float64)
    assert relative_error(ours(x)[0], theirs(x)[0]) > TOLERANCE


def test_state_dict_names_match_torch():
    ours = lstmkit.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    theirs = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(ours.state_dict()[k].shape == v.shape for k, v in theirs.state_dict().items())


def test_auto_backend_picks_compiled_kernels_for_plain_layers_and_extras():
    x = torch.randn(5, 2, 3)
    lstm = lstmkit.LSTM(3, 4, recurrent_dropout=0.3)
    assert lstm._choose_backend(x, return_trace=False) == "compiled"  # training with recurrent dropout
    lstm.eval()
    lstm(x)
    assert lstm.last_backend == "compiled"
    for layer in (lstmkit.GRU(3, 4), lstmkit.RNN(3, 4), lstmkit.GRU(3, 4, reset_after=False)):
        layer(x)
        assert layer.last_backend == "compiled"
    assert lstmkit.LSTM(3, 4, layer_norm=True)._choose_backend(x, False) == "compiled"
    # Where the measured table says torch's oneDNN LSTM is faster (inference from batch x hidden 2048).
    big = lstmkit.LSTM(3, 64)
    with torch.no_grad():
        big(torch.randn(5, 32, 3))
    assert big.last_backend == "native"
    big(torch.randn(5, 32, 3))  # training: lstmkit's kernel
    assert big.last_backend == "compiled"
    # What the kernels can't take goes where it can run: bfloat16 to torch's kernel.
    half = lstmkit.LSTM(3, 4, dtype=torch.bfloat16)
    half(x.to(torch.bfloat16))
    assert half.last_backend == "native"


def test_auto_backend_without_kernels_falls_back_with_one_warning(monkeypatch):
    from lstmkit.kernels import _library

    monkeypatch.setattr(_library, "_load", lambda: (None, "not built (test)"))
    _library.warn_unavailable.cache_clear()
    x = torch.randn(5, 2, 3)
    with pytest.warns(RuntimeWarning, match=r"not built \(test\).*python -m lstmkit.kernels.build"):
        lstm = lstmkit.LSTM(3, 4)
        lstm(x)
    assert lstm.last_backend == "native"
    assert lstm._choose_backend(x, return_trace=True) == "bptt"
    assert lstmkit.LSTM(3, 4, layer_norm=True)._choose_backend(x, False) == "reference"  # bptt has no layer norm
    with pytest.raises(ValueError, match="backend='compiled' cannot run this input: .*not built"):
        lstmkit.LSTM(3, 4, backend="compiled")(x)
    _library.warn_unavailable.cache_clear()


@pytest.mark.parametrize("backend", ["compiled", "bptt", "reference"])
def test_padded_outputs_are_zero_and_final_state_is_last_real_step(backend):
    torch.manual_seed(0)
    lstm = lstmkit.LSTM(3, 4, bidirectional=True, backend=backend)
    x = torch.randn(6, 2, 3)
    out, (h, c) = lstm(x, lengths=[6, 3])
    assert torch.all(out[3:, 1] == 0)
    # The sequence of length 3 alone gives the same final states as inside the padded batch.
    out_alone, (h_alone, c_alone) = lstm(x[:3, 1:2])
    torch.testing.assert_close(h[:, 1:2], h_alone)
    torch.testing.assert_close(c[:, 1:2], c_alone)
    torch.testing.assert_close(out[:3, 1:2], out_alone)


def test_padding_values_do_not_matter():
    torch.manual_seed(0)
    gru = lstmkit.GRU(3, 4, num_layers=2, bidirectional=True, backend="bptt")
    x = torch.randn(5, 2, 3)
    noisy = x.clone()
    noisy[2:, 1] = 1e3
    out_a, h_a = gru(x, lengths=[5, 2])
    out_b, h_b = gru(noisy, lengths=[5, 2])
    torch.testing.assert_close(out_a, out_b)
    torch.testing.assert_close(h_a, h_b)


# -- extras -----------------------------------------------------------------------------------------


def _layer_norm_lstm_reference(x, h, c, p):
    """Layer-normalised LSTM written out from Ba, Kiros & Hinton (2016), independent of lstmkit."""

    def ln(v, gain, bias=None):
        mean = v.mean(-1, keepdim=True)
        var = v.var(-1, unbiased=False, keepdim=True)
        out = (v - mean) / torch.sqrt(var + 1e-5) * gain
        return out if bias is None else out + bias

    outs = []
    for x_t in x:
        pre = ln(x_t @ p["weight_ih_l0"].T, p["layer_norm_ih_l0"]) + ln(h @ p["weight_hh_l0"].T, p["layer_norm_hh_l0"])
        pre = pre + p["bias_ih_l0"] + p["bias_hh_l0"]
        i, f, g, o = pre.chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(ln(c, p["layer_norm_cell_weight_l0"], p["layer_norm_cell_bias_l0"]))
        outs.append(h)
    return torch.stack(outs), h, c


def test_layer_norm_lstm_matches_the_paper_equations():
    torch.manual_seed(0)
    lstm = lstmkit.LSTM(3, 5, layer_norm=True).double()
    with torch.no_grad():  # non-trivial gains and biases
        for name, p in lstm.named_parameters():
            if name.startswith("layer_norm"):
                p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(1, 2, 5, dtype=torch.float64)
    c0 = torch.randn(1, 2, 5, dtype=torch.float64)
    out, (h, c) = lstm(x, (h0, c0))
    params = dict(lstm.named_parameters())
    out_ref, h_ref, c_ref = _layer_norm_lstm_reference(x, h0[0], c0[0], params)
    torch.testing.assert_close(out, out_ref, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(c[0], c_ref, rtol=1e-10, atol=1e-12)
    g = torch.autograd.grad(out.sum(), [x, *params.values()])
    g_ref = torch.autograd.grad(out_ref.sum(), [x, *params.values()])
    for a, b in zip(g, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_layer_norm_lstm_gradcheck():
    torch.manual_seed(0)
    lstm = lstmkit.LSTM(2, 3, layer_norm=True, bidirectional=True).double()
    x = torch.randn(3, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda inp: lstm(inp, lengths=[3, 2])[0], (x,))


@pytest.mark.parametrize(
    "layer",
    [
        lambda: lstmkit.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, recurrent_dropout=0.4),
        lambda: lstmkit.GRU(3, 4, num_layers=2, recurrent_dropout=0.4, reset_after=False),
        lambda: lstmkit.RNN(3, 4, bidirectional=True, recurrent_dropout=0.4),
    ],
    ids=["lstm", "gru", "rnn"],
)
def test_recurrent_dropout_bptt_matches_autograd_reference(layer):
    torch.manual_seed(0)
    module = layer().double()
    x = torch.randn(5, 3, 3, dtype=torch.float64, requires_grad=True)
    results = {}
    for backend in ("bptt", "reference"):
        module.backend = backend
        torch.manual_seed(1)  # the same masks are drawn on both backends
        out = module(x, lengths=[5, 4, 2])[0]
        loss = (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)).sum()
        results[backend] = (out, torch.autograd.grad(loss, [x, *module.parameters()]))
    torch.testing.assert_close(results["bptt"][0], results["reference"][0], rtol=1e-10, atol=1e-12)
    for a, b in zip(results["bptt"][1], results["reference"][1]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_recurrent_dropout_is_active_in_training_only():
    torch.manual_seed(0)
    lstm = lstmkit.LSTM(3, 8, recurrent_dropout=0.5)
    plain = lstmkit.LSTM(3, 8)
    plain.load_state_dict(lstm.state_dict())
    x = torch.randn(6, 2, 3)
    assert not torch.allclose(lstm(x)[0], plain(x)[0])
    lstm.eval()
    torch.testing.assert_close(lstm(x)[0], plain(x)[0])


def test_recurrent_dropout_uses_one_mask_per_sequence():
    # With a zero input weight and bias, a dropped unit's h never enters W_hh; if the mask changed
    # between steps, the two runs below (same seed, different T) would diverge on their common steps.
    torch.manual_seed(0)
    rnn = lstmkit.RNN(2, 6, recurrent_dropout=0.5, backend="bptt")
    x = torch.randn(8, 1, 2)
    torch.manual_seed(3)
    long_run = rnn(x)[0]
    torch.manual_seed(3)
    short_run = rnn(x[:4])[0]
    torch.testing.assert_close(long_run[:4], short_run)


def test_forget_bias_initialisation():
    lstm = lstmkit.LSTM(3, 4, num_layers=2, bidirectional=True, forget_bias=1.0)
    for name, p in lstm.named_parameters():
        if name.startswith("bias_ih"):
            assert torch.all(p[4:8] == 1.0)
        if name.startswith("bias_hh"):
            assert torch.all(p[4:8] == 0.0)
    with pytest.raises(ValueError, match="LSTM"):
        lstmkit.init.forget_bias_(lstmkit.GRU(3, 4))


@pytest.mark.parametrize("backend", ["compiled", "bptt", "reference"])
def test_trace_records_gates_and_cell_states(backend):
    torch.manual_seed(0)
    lstm = lstmkit.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, backend=backend)
    x = torch.randn(2, 5, 3)
    out, (h, c), trace = lstm(x, lengths=[5, 3], return_trace=True)
    assert set(trace) == {"l0", "l0_reverse", "l1", "l1_reverse"}
    assert set(trace["l1"]) == {"input", "forget", "cell", "output", "cell_state", "hidden"}
    assert trace["l1"]["forget"].shape == (2, 5, 4)
    torch.testing.assert_close(trace["l1"]["hidden"], out[..., :4])
    torch.testing.assert_close(trace["l1"]["cell_state"][0, -1], c[2, 0])  # forward dir ends at the last step
    torch.testing.assert_close(trace["l1_reverse"]["cell_state"][1, 0], c[3, 1])  # reverse dir ends at step 0
    assert torch.all(trace["l0"]["forget"][1, 3:] == 0)  # nothing recorded past the end


def test_trace_equals_recomputation_from_the_equations():
    torch.manual_seed(0)
    lstm = lstmkit.LSTM(3, 4).double()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    out, _, trace = lstm(x, return_trace=True)
    h_prev = torch.cat([torch.zeros(1, 2, 4, dtype=torch.float64), out[:-1]])
    pre = x @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h_prev @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
    torch.testing.assert_close(trace["l0"]["forget"], torch.sigmoid(pre[..., 4:8]))
    torch.testing.assert_close(trace["l0"]["cell"], torch.tanh(pre[..., 8:12]))


def test_gru_trace_has_its_gates():
    gru = lstmkit.GRU(3, 4, bidirectional=True)
    _, _, trace = gru(torch.randn(5, 2, 3), return_trace=True)
    assert set(trace["l0_reverse"]) == {"reset", "update", "new", "hidden"}


# -- stateful use ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer", [lambda: lstmkit.LSTM(3, 4, num_layers=2), lambda: lstmkit.GRU(3, 4)], ids=["lstm", "gru"]
)
def test_carried_state_continues_the_sequence(layer):
    torch.manual_seed(0)
    module = layer()
    module.backend = "bptt"
    x = torch.randn(8, 2, 3)
    full, _ = module(x)
    first, state = module(x[:5])
    second, _ = module(x[5:], lstmkit.detach_state(state))
    torch.testing.assert_close(torch.cat([first, second]), full)


def test_detach_state_truncates_backprop():
    lstm = lstmkit.LSTM(3, 4)
    x = torch.randn(4, 2, 3, requires_grad=True)
    _, state = lstm(x)
    detached = lstmkit.detach_state(state)
    assert all(s.grad_fn is None and not s.requires_grad for s in detached)
    torch.testing.assert_close(detached[0], state[0])
    assert lstmkit.detach_state(None) is None


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda m: m(torch.randn(5)), ValueError, "3-D"),
        (lambda m: m(torch.randn(5, 2, 7)), ValueError, "input_size mismatch: layer expects 3 features, got 7"),
        (lambda m: m(torch.randint(0, 3, (5, 2, 3))), TypeError, "floating-point"),
        (
            lambda m: m(torch.randn(5, 2, 3, dtype=torch.float64)),
            TypeError,
            "input must have the layer's dtype torch.float32, got torch.float64",
        ),
        (lambda m: m([[1.0, 2.0, 3.0]]), TypeError, "Tensor or PackedSequence"),
        (
            lambda m: m(torch.randn(5, 2, 3), (torch.zeros(1, 3, 4), torch.zeros(1, 2, 4))),
            ValueError,
            r"h0 must have shape \(1, 2, 4\), got \(1, 3, 4\)",
        ),
        (lambda m: m(torch.randn(5, 2, 3), torch.zeros(1, 2, 4)), TypeError, "tuple"),
        (
            lambda m: m(torch.randn(5, 2, 3), (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4, dtype=torch.float64))),
            TypeError,
            "c0 must have the input's dtype",
        ),
        (
            lambda m: m(torch.randn(5, 2, 3), (torch.zeros(1, 2, 4, device="meta"), torch.zeros(1, 2, 4))),
            ValueError,
            "h0 must be on the input's device",
        ),
        (lambda m: m(torch.randn(5, 2, 3), lengths=[6, 2]), ValueError, r"lengths must lie in 1..5"),
        (lambda m: m(torch.randn(5, 2, 3), lengths=[0, 2]), ValueError, r"lengths must lie in 1..5"),
        (lambda m: m(torch.randn(5, 2, 3), lengths=[5, 2, 1]), ValueError, r"one entry per sequence \(2\)"),
        (lambda m: m(torch.randn(5, 2, 3), lengths=torch.tensor([5.0, 2.0])), TypeError, "integers"),
        (lambda m: m(torch.randn(5, 3), lengths=[5]), ValueError, "batched"),
        (lambda m: m(pack_padded_sequence(torch.randn(5, 2, 3), [5, 2]), lengths=[5, 2]), ValueError, "not both"),
        (lambda m: m(torch.randn(0, 2, 3)), ValueError, r"no time steps: expected at least 1, got shape \(0, 2, 3\)"),
        (lambda m: m(torch.randn(0, 3)), ValueError, "no time steps"),
        (lambda m: m(torch.randn(5, 0, 3), lengths=[]), ValueError, r"empty batch: .* got shape \(5, 0, 3\)"),
    ],
)
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call(lstmkit.LSTM(3, 4))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: lstmkit.LSTM(3, 4, proj_size=4), "proj_size must be smaller than hidden_size"),
        (lambda: lstmkit.LSTM(0, 4), "input_size must be a positive int"),
        (lambda: lstmkit.GRU(3, 4, dropout=1.0), r"dropout must be a probability in \[0, 1\)"),
        (lambda: lstmkit.LSTM(3, 4, recurrent_dropout=-0.1), "recurrent_dropout"),
        (lambda: lstmkit.RNN(3, 4, nonlinearity="sigmoid"), "nonlinearity"),
        (lambda: lstmkit.LSTM(3, 4, backend="cudnn"), "backend must be one of"),
        (lambda: lstmkit.LSTM(3, 4, layer_norm=True, backend="native"), "layer_norm"),
    ],
)
def test_bad_constructor_arguments_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_native_backend_refuses_what_it_cannot_do():
    lstm = lstmkit.LSTM(3, 4, backend="native")
    with pytest.raises(ValueError, match="native"):
        lstm(torch.randn(5, 2, 3), return_trace=True)


def test_unbatched_hx_shape_is_checked():
    with pytest.raises(ValueError, match=r"hx must have shape \(1, 4\)"):
        lstmkit.GRU(3, 4)(torch.randn(5, 3), torch.zeros(1, 1, 4))


def test_numpy_integer_lengths_are_taken_like_python_ints():
    import numpy as np

    layer, x = lstmkit.LSTM(3, 4), torch.randn(5, 2, 3)
    expected = layer(x, lengths=[5, 3])[0]
    torch.testing.assert_close(layer(x, lengths=np.array([5, 3]))[0], expected)
    torch.testing.assert_close(layer(x, lengths=[np.int32(5), np.int64(3)])[0], expected)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "1"])
def test_forget_bias_must_be_a_finite_number(value):
    with pytest.raises(ValueError, match="forget_bias must be a finite number"):
        lstmkit.LSTM(3, 4, forget_bias=value)
