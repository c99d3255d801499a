"""The compiled kernels against the hand-written BPTT, the autograd reference, torch.nn and gradcheck."""

import subprocess
import sys
import time

import pytest
import torch

import lstmkit
from lstmkit import bptt, kernels
from lstmkit import functional as LF

pytestmark = pytest.mark.skipif(not kernels.available(), reason=f"kernels unavailable: {kernels.unavailable_reason()}")

DT = torch.float64
T, B, I, H, P = 6, 5, 3, 7, 4
# Unsorted lengths with a tail no sequence reaches (max 5 < T): the kernels sort and skip both.
LENGTHS = [3, 5, 1, 5, 2]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _leaf(*shape, dtype=DT):
    return torch.randn(*shape, dtype=dtype, requires_grad=True)


def _masks(lengths, dropout, width, batch=B, steps=T):
    step_mask = None if lengths is None else LF.step_mask_from_lengths(torch.tensor(lengths), steps)
    recurrent_mask = (torch.rand(batch, width) > 0.3).to(DT) / 0.7 if dropout else None
    return step_mask, recurrent_mask


def _cell_case(cell, proj=False, bias=True, batch=B, hidden=H):
    """(leaves, kernel function, bptt twin, reference loop, options) for one cell kind."""
    if cell == "lstm":
        out = P if proj else hidden
        weights = [_leaf(4 * hidden, I), _leaf(4 * hidden, out)]
        weights += [_leaf(4 * hidden), _leaf(4 * hidden)] if bias else [None, None]
        weights.append(_leaf(P, hidden) if proj else None)
        leaves = [_leaf(T, batch, I), _leaf(batch, out), _leaf(batch, hidden), *weights]

        def call(fn, *args, **kw):
            out_, (h, c), rec = fn(args[0], (args[1], args[2]), *args[3:], **kw)
            return out_, h, c, rec

        return leaves, call, out, {}
    gates = 3 if cell.startswith("gru") else 1
    weights = [_leaf(gates * hidden, I), _leaf(gates * hidden, hidden)]
    weights += [_leaf(gates * hidden), _leaf(gates * hidden)] if bias else [None, None]
    leaves = [_leaf(T, batch, I), _leaf(batch, hidden), *weights]
    options = {"reset_after": cell == "gru"} if cell.startswith("gru") else {"nonlinearity": cell.split("_")[1]}

    def call(fn, *args, **kw):
        out_, h, rec = fn(*args, **kw)
        return out_, h, rec

    return leaves, call, hidden, options


FUNCTIONS = {
    "lstm": (kernels.lstm_layer, bptt.lstm_layer, LF.lstm_sequence),
    "gru": (kernels.gru_layer, bptt.gru_layer, LF.gru_sequence),
    "gru_reset_before": (kernels.gru_layer, bptt.gru_layer, LF.gru_sequence),
    "rnn_tanh": (kernels.rnn_layer, bptt.rnn_layer, LF.rnn_sequence),
    "rnn_relu": (kernels.rnn_layer, bptt.rnn_layer, LF.rnn_sequence),
}
CASES = [
    (cell, proj, lengths, dropout)
    for cell in FUNCTIONS
    for proj in ((False, True) if cell == "lstm" else (False,))
    for lengths in (None, LENGTHS)
    for dropout in (False, True)
]


def _assert_close(ours, theirs):
    """Float64 agreement to 1e-10, relative to each tensor's scale (sums of hundreds of terms round)."""
    torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-10 * max(theirs.abs().max().item(), 1e-2))


def _outputs_and_grads(run, leaves):
    *outputs, records = run()
    present = [leaf for leaf in leaves if leaf is not None]
    weights = [torch.randn_like(o) for o in outputs]
    loss = sum((w * o).sum() for w, o in zip(weights, outputs))
    return outputs, records, torch.autograd.grad(loss, present), weights


@pytest.mark.parametrize("blas", ["own", "torch", "portable"])
@pytest.mark.parametrize("cell, proj, lengths, dropout", CASES)
def test_kernel_matches_bptt_and_the_autograd_reference(cell, proj, lengths, dropout, blas):
    leaves, call, state_width, options = _cell_case(cell, proj)
    step_mask, recurrent_mask = _masks(lengths, dropout, state_width)
    kernel, twin, reference = FUNCTIONS[cell]
    masks = {"step_mask": step_mask, "recurrent_mask": recurrent_mask}
    torch.manual_seed(1)  # the same loss weights for every implementation
    with kernels.use_blas(blas):
        ours, our_records, our_grads, _ = _outputs_and_grads(
            lambda: call(kernel, *leaves, **masks, **options, trace=True), leaves
        )
    for other, extra in ((twin, {"trace": True}), (reference, {})):
        torch.manual_seed(1)
        theirs, their_records, their_grads, _ = _outputs_and_grads(
            lambda o=other, e=extra: call(o, *leaves, **masks, **options, **e), leaves
        )
        for a, b in zip((*ours, *our_grads), (*theirs, *their_grads)):
            _assert_close(a, b)
        assert our_records.keys() == their_records.keys()
        for name in their_records:
            _assert_close(our_records[name], their_records[name])


@pytest.mark.parametrize("cell", FUNCTIONS)
def test_kernel_without_bias_and_wide_batch_uses_threads_correctly(cell):
    # 64 rows of 4 * 96 gate values pass the threshold for splitting the element-wise pass over threads.
    leaves, call, state_width, options = _cell_case(cell, bias=False, batch=64, hidden=96)
    step_mask, _ = _masks(list(range(1, 65)) if cell != "lstm" else None, False, state_width, batch=64)
    kernel, twin, _ = FUNCTIONS[cell]
    torch.manual_seed(1)
    ours, _, our_grads, _ = _outputs_and_grads(lambda: call(kernel, *leaves, step_mask=step_mask, **options), leaves)
    torch.manual_seed(1)
    theirs, _, their_grads, _ = _outputs_and_grads(lambda: call(twin, *leaves, step_mask=step_mask, **options), leaves)
    for a, b in zip((*ours, *our_grads), (*theirs, *their_grads)):
        _assert_close(a, b)


@pytest.mark.parametrize("cell, proj", [("lstm", False), ("lstm", True), ("gru", False), ("gru_reset_before", False),
                                        ("rnn_tanh", False), ("rnn_relu", False)])  # fmt: skip
def test_kernel_gradcheck(cell, proj):
    leaves, call, state_width, options = _cell_case(cell, proj)
    step_mask, recurrent_mask = _masks(LENGTHS, True, state_width)
    kernel = FUNCTIONS[cell][0]
    present = [leaf for leaf in leaves if leaf is not None]

    def f(*tensors):
        it = iter(tensors)
        args = [next(it) if leaf is not None else None for leaf in leaves]
        return tuple(call(kernel, *args, step_mask=step_mask, recurrent_mask=recurrent_mask, **options)[:-1])

    assert torch.autograd.gradcheck(f, present, eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["lstm", "lstm_proj", "gru", "rnn_tanh", "rnn_relu"])
def test_float32_within_1e5_of_torch_nn(cell, bidirectional):
    options = {"num_layers": 2, "bidirectional": bidirectional}
    if cell.startswith("lstm"):
        proj = {"proj_size": 8} if cell == "lstm_proj" else {}
        theirs = torch.nn.LSTM(16, 24, **options, **proj)
        ours = lstmkit.LSTM(16, 24, backend="compiled", **options, **proj)
    elif cell == "gru":
        theirs, ours = torch.nn.GRU(16, 24, **options), lstmkit.GRU(16, 24, backend="compiled", **options)
    else:
        nonlinearity = cell.split("_")[1]
        theirs = torch.nn.RNN(16, 24, nonlinearity=nonlinearity, **options)
        ours = lstmkit.RNN(16, 24, nonlinearity=nonlinearity, backend="compiled", **options)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(20, 9, 16)
    lengths = torch.tensor([20, 3, 17, 20, 8, 1, 12, 19, 5])
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
    their_out, _ = torch.nn.utils.rnn.pad_packed_sequence(theirs(packed)[0], total_length=20)
    our_out = ours(x, lengths=lengths)[0]
    torch.testing.assert_close(our_out, their_out, rtol=1e-5, atol=1e-5)
    their_out.square().sum().backward()
    our_out.square().sum().backward()
    for name, parameter in theirs.named_parameters():
        torch.testing.assert_close(getattr(ours, name).grad, parameter.grad, rtol=1e-4, atol=1e-5)


def test_disabled_kernels_fall_back_to_the_python_loops_in_a_fresh_process():
    code = (
        "import warnings, torch, lstmkit\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    layer = lstmkit.GRU(3, 4)\n"
        "    layer(torch.randn(5, 2, 3)); layer(torch.randn(5, 2, 3))\n"
        "print(layer.last_backend, len(caught), lstmkit.kernels.available())\n"
    )
    env = {**__import__("os").environ, "LSTMKIT_DISABLE_KERNELS": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.split() == ["native", "1", "False"]


def test_selftest_says_which_path_runs_and_checks_the_compiled_backend():
    from cli_helpers import invoke

    result = invoke("selftest")
    assert result.exit_code == 0, result.output
    assert "compiled kernels: loaded from _lstmkit_kernels.so; GEMM: lstmkit's packed sgemm" in result.output
    assert result.output.count("compiled") > 10  # one table row per case on the compiled backend


@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (3, 5, 7), (17, 33, 65), (9, 300, 31), (500, 300, 70), (777, 513, 45)])
@pytest.mark.parametrize("transpose_a", [False, True])
@pytest.mark.parametrize("transpose_w", [False, True])
@pytest.mark.parametrize("with_bias", [False, True])
def test_own_sgemm_matches_float64_products(m, k, n, transpose_a, transpose_w, with_bias):
    # Edge sizes on purpose: partial micro-kernel rows and panel columns, k past one cache block, tall
    # products split over threads, and both operand layouts.
    from lstmkit.kernels._common import matmul

    a = torch.randn(k, m) if transpose_a else torch.randn(m, k)
    w = torch.randn(n, k) if transpose_w else torch.randn(k, n)
    bias = torch.randn(n) if with_bias else None
    expected = (a.double().t() if transpose_a else a.double()) @ (w.double().t() if transpose_w else w.double())
    if with_bias:
        expected = expected + bias.double()
    got = matmul(a, w, bias, transpose_a=transpose_a, transpose_w=transpose_w)
    assert got.dtype == torch.float32 and got.shape == (m, n)
    torch.testing.assert_close(got.double(), expected, rtol=0, atol=2e-6 * k**0.5 * expected.abs().max().item())


def test_own_sgemm_keeps_up_with_torch_mm():
    # The packed GEMM's register block is sized for the build machine's vectors (csrc/sgemm.h): the
    # AVX-512 block built for an AVX2 machine spilled its accumulators and ran 20-25 times slower than
    # torch.mm. Interleaved, best of 7 each, so a busy machine slows both alike; level or faster on
    # AVX2 and AVX-512, about twice slower on plain SSE.
    from lstmkit.kernels._common import matmul

    a, w = torch.randn(2048, 256), torch.randn(512, 256)
    own, reference = [], []
    for _ in range(7):
        for times, product in ((own, lambda: matmul(a, w, transpose_w=True)), (reference, lambda: a @ w.t())):
            start = time.perf_counter()
            product()
            times.append(time.perf_counter() - start)
    assert min(own) < 4 * min(reference), f"own sgemm {min(own) * 1e3:.1f} ms, torch.mm {min(reference) * 1e3:.1f} ms"


@pytest.mark.parametrize(
    "steps, batch, gates, inputs, hidden", [(1, 1, 4, 1, 1), (7, 3, 36, 5, 9), (50, 9, 100, 33, 25)]
)
@pytest.mark.parametrize("parts", ["x", "h", "bias", "x,h,bias", "x,bias", "h,bias"])
@pytest.mark.parametrize("with_mask", [False, True])
def test_fused_weight_gradients_match_float64_products(steps, batch, gates, inputs, hidden, parts, with_mask):
    # d^T [x | h_prev | 1] in one float32 pass (csrc/weight_grad.cpp) against each product in float64:
    # odd sizes leave partial micro-kernel rows and panels, 50 x 9 rows span several k slices.
    from lstmkit.kernels._common import states_entering, weight_grads

    d, x = torch.randn(steps, batch, gates), torch.randn(steps, batch, inputs)
    h0, output = torch.randn(batch, hidden), torch.randn(steps, batch, hidden)
    mask = (torch.rand(batch, hidden) > 0.3).float() / 0.7 if with_mask else None
    wanted = parts.split(",")
    got = weight_grads(d, x if "x" in wanted else None, (h0, output, mask) if "h" in wanted else None,
                       bias="bias" in wanted)  # fmt: skip
    rows = d.double().reshape(-1, gates)
    expected = (
        rows.t() @ x.double().reshape(-1, inputs),
        rows.t() @ states_entering(h0, output, mask).double().reshape(-1, hidden),
        rows.sum(0),
    )
    for name, value, reference in zip(("x", "h", "bias"), got, expected):
        if name not in wanted:
            assert value is None
            continue
        assert value.dtype == torch.float32 and value.shape == reference.shape and value.is_contiguous()
        scale = (steps * batch) ** 0.5 * max(1.0, reference.abs().max().item())
        torch.testing.assert_close(value.double(), reference, rtol=0, atol=2e-6 * scale)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("with_lengths", [False, True])
@pytest.mark.parametrize("blas", ["own", "portable"])
def test_inference_keeping_nothing_for_backward_matches_training(dtype, with_lengths, blas):
    # Under torch.no_grad() the kernel keeps no gates or cells for a backward pass, though the weights
    # require grad; with gradients it keeps them. Both compute the same outputs and states.
    layer = lstmkit.LSTM(7, 300, num_layers=2, bidirectional=True, backend="compiled").to(dtype)
    x = torch.randn(70, 2, 7, dtype=dtype)
    lengths = torch.tensor([70, 41]) if with_lengths else None
    with kernels.use_blas(blas):
        trained = layer(x, lengths=lengths)
        with torch.no_grad():
            inferred = layer(x, lengths=lengths)
    assert layer.last_backend == "compiled"
    tolerance = 1e-6 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(inferred[0], trained[0].detach(), rtol=0, atol=tolerance)
    for ours, theirs in zip(inferred[1], trained[1]):
        torch.testing.assert_close(ours, theirs.detach(), rtol=0, atol=tolerance)


def test_operands_of_another_dtype_are_refused_not_read_as_raw_memory():
    x = torch.randn(4, 2, 3, dtype=torch.float64)
    weights = [torch.randn(12, 3), torch.randn(12, 3)]  # float32 weights, float64 input
    with pytest.raises(TypeError, match="w_ih must be a torch.float64 tensor on cpu like the input, got torch.float32"):
        kernels.gru_layer(x, torch.zeros(2, 4, dtype=torch.float64), *weights)
    with pytest.raises(TypeError, match="float32 or float64 CPU input, got torch.bfloat16"):
        kernels.rnn_layer(x.bfloat16(), torch.zeros(2, 4), torch.randn(4, 3), torch.randn(4, 4))


# -- the layer-normalised LSTM on the kernel ------------------------------------------------------------


def _layer_norm_case(proj):
    """Leaves of one LSTM direction and its layer-norm gains and biases (away from 1 and 0)."""
    out = P if proj else H
    leaves = [_leaf(T, B, I), _leaf(B, out), _leaf(B, H), _leaf(4 * H, I), _leaf(4 * H, out), _leaf(4 * H),
              _leaf(4 * H), _leaf(P, H) if proj else None]  # fmt: skip
    norm = [(1 + 0.3 * torch.randn(n, dtype=DT)).requires_grad_() for n in (4 * H, 4 * H, H)] + [_leaf(H)]
    return leaves, norm, out


def _run_layer_norm(fn, leaves, norm, **masks):
    x, h0, c0, *weights = leaves
    output, (h, c), _ = fn(x, (h0, c0), *weights, layer_norm=LF.LayerNormWeights(*norm), **masks)
    return output, h, c


@pytest.mark.parametrize("zoneout", [False, True])
@pytest.mark.parametrize(
    "proj, lengths, dropout", [(False, None, False), (False, LENGTHS, True), (True, LENGTHS, True)]
)
def test_layer_norm_kernel_matches_the_autograd_reference(proj, lengths, dropout, zoneout):
    leaves, norm, out = _layer_norm_case(proj)
    step_mask, recurrent_mask = _masks(lengths, dropout, out)
    masks = {"step_mask": step_mask, "recurrent_mask": recurrent_mask}
    masks["zoneout"] = torch.rand(T, B, out + H) < 0.3 if zoneout else None
    present = [leaf for leaf in leaves + norm if leaf is not None]
    results = []
    for fn in (kernels.lstm_layer, LF.lstm_sequence):
        outputs = _run_layer_norm(fn, leaves, norm, **masks)
        generator = torch.Generator().manual_seed(1)
        loss = sum((torch.randn(o.shape, generator=generator, dtype=DT) * o).sum() for o in outputs)
        results.append([*outputs, *torch.autograd.grad(loss, present)])  # every gradient, gains and biases too
    for ours, theirs in zip(*results, strict=True):
        _assert_close(ours, theirs)


@pytest.mark.parametrize("proj", [False, True])
def test_layer_norm_kernel_gradcheck(proj):
    leaves, norm, out = _layer_norm_case(proj)
    step_mask, recurrent_mask = _masks(LENGTHS, True, out)
    masks = {"step_mask": step_mask, "recurrent_mask": recurrent_mask, "zoneout": torch.rand(T, B, out + H) < 0.3}
    present = [leaf for leaf in leaves if leaf is not None]

    def f(*tensors):
        *layer, w_hr = tensors[: len(present)] if proj else (*tensors[: len(present)], None)
        return _run_layer_norm(kernels.lstm_layer, [*layer, w_hr], tensors[len(present) :], **masks)

    assert torch.autograd.gradcheck(f, [*present, *norm], eps=1e-6, atol=1e-6)


def _layer_norm_layer(dtype=DT):
    layer = lstmkit.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P, layer_norm=True, recurrent_dropout=0.25,
                         dtype=dtype)  # fmt: skip
    with torch.no_grad():
        for name, parameter in layer.named_parameters():
            if name.startswith("layer_norm"):
                parameter.add_(0.3 * torch.randn_like(parameter))
    return layer


def test_layer_norm_layer_on_the_kernel_matches_the_reference_backend():
    layer = _layer_norm_layer()
    x = _leaf(T, B, I)
    hx = (_leaf(4, B, P), _leaf(4, B, H))
    leaves = [x, *hx, *layer.parameters()]
    results = {}
    for backend in ("compiled", "reference"):
        layer.backend = backend
        torch.manual_seed(1)  # the same recurrent-dropout masks
        output, (h, c) = layer(x, hx, lengths=LENGTHS)
        assert layer.last_backend == backend
        generator = torch.Generator().manual_seed(2)
        loss = sum((torch.randn(o.shape, generator=generator, dtype=DT) * o).sum() for o in (output, h, c))
        results[backend] = [output, h, c, *torch.autograd.grad(loss, leaves)]
    for ours, theirs in zip(results["compiled"], results["reference"], strict=True):
        _assert_close(ours, theirs)


def test_layer_norm_kernel_in_float32_is_within_1e4_of_float64():
    # Normalising divides by a standard deviation, so float32 rounding grows a little: the float32
    # reference loop is off by 3e-5 of the largest value here, as the kernel is.
    ours = _layer_norm_layer(torch.float32).eval()
    theirs = _layer_norm_layer().eval()
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(T, B, I)
    our_out = ours(x, lengths=LENGTHS)[0]
    their_out = theirs(x.double(), lengths=LENGTHS)[0]
    assert ours.last_backend == theirs.last_backend == "compiled"
    our_out.square().sum().backward()
    their_out.square().sum().backward()
    pairs = [(our_out, their_out)] + [(getattr(ours, name).grad, p.grad) for name, p in theirs.named_parameters()]
    for our, their in pairs:
        assert our.dtype == torch.float32
        assert (our.double() - their).abs().max() <= 1e-4 * their.abs().max()


def test_auto_and_compiled_run_the_layer_norm_lstm_on_the_kernel():
    x = torch.randn(5, 2, 3)
    for backend in ("auto", "compiled"):
        layer = lstmkit.LSTM(3, 4, layer_norm=True, backend=backend)
        layer(x)
        assert layer.last_backend == "compiled"
    message = "layer_norm=True runs on the 'compiled', 'reference' or 'auto' backend, got backend='bptt'"
    with pytest.raises(ValueError, match=message):
        lstmkit.LSTM(3, 4, layer_norm=True, backend="bptt")
    layer.backend = "bptt"  # set after construction: refused when it runs
    with pytest.raises(ValueError, match=message):
        layer(x)


def test_dispatch_sends_only_inference_of_a_plain_lstm_to_torch():
    from lstmkit.kernels import dispatch

    # Training stays on lstmkit's kernel at every size measured, the largest included.
    assert not dispatch.torch_is_faster("LSTM", 256, 512, training=True)
    assert dispatch.torch_is_faster("LSTM", 32, 64, training=False)
    assert not dispatch.torch_is_faster("LSTM", 1, 64, training=False)
    for mode in ("GRU", "RNN_TANH", "RNN_RELU"):
        assert not dispatch.torch_is_faster(mode, 256, 512, training=False)
    layer = lstmkit.LSTM(3, 512)
    layer(torch.randn(2, 256, 3))
    assert layer.last_backend == "compiled"
