"""Several loops in one kernel call (a bidirectional layer's two directions, side by side on the threads):
the same results and gradients as each loop run alone, on one thread and on two, for each cell."""

import pytest
import torch

import lstmkit
from lstmkit import functional as LF
from lstmkit import kernels
from lstmkit.kernels import _loops

pytestmark = pytest.mark.skipif(not kernels.available(), reason=f"kernels unavailable: {kernels.unavailable_reason()}")

DT = torch.float64


@pytest.fixture
def threads(request):
    """Run the test with ``request.param`` threads (the kernels' OpenMP threads follow torch's)."""
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


def _leaf(*shape):
    return torch.randn(*shape, dtype=DT, requires_grad=True)


def _two_loops():
    """Two unlike loops: a projection, unsorted lengths, zoneout and a trace; then layer norm, recurrent
    dropout and another batch and width. Returns each call's (args, options) and the leaves."""
    torch.manual_seed(0)
    T, B, I, H, P = 6, 5, 3, 7, 4
    first_args = (_leaf(T, B, I), (_leaf(B, P), _leaf(B, H)), _leaf(4 * H, I), _leaf(4 * H, P), _leaf(4 * H),
                  _leaf(4 * H), _leaf(P, H))  # fmt: skip
    lengths = torch.tensor([3, 6, 1, 5, 2])
    first = {"step_mask": LF.step_mask_from_lengths(lengths, T), "zoneout": LF.zoneout_mask((T, B, P + H), 0.3, "cpu"),
             "trace": True}  # fmt: skip
    T2, B2, I2, H2 = 4, 3, 2, 5
    norm = LF.LayerNormWeights(_leaf(4 * H2), _leaf(4 * H2), _leaf(H2), _leaf(H2))
    second_args = (_leaf(T2, B2, I2), (_leaf(B2, H2), _leaf(B2, H2)), _leaf(4 * H2, I2), _leaf(4 * H2, H2),
                   _leaf(4 * H2), None)  # fmt: skip
    second = {"recurrent_mask": torch.bernoulli(torch.full((B2, H2), 0.7, dtype=DT)) / 0.7, "layer_norm": norm}
    leaves = [t for t in (*first_args, *second_args, *norm) if t is not None]
    leaves = [t for leaf in leaves for t in (leaf if isinstance(leaf, tuple) else (leaf,))]
    return [(first_args, first), (second_args, second)], leaves


def _flat(results):
    """Every tensor of the loops' results: outputs, final states, traced records in name order."""
    return [t for output, state, records in results for t in (output, *state, *(records[k] for k in sorted(records)))]


def _loss(results):
    return sum((t * torch.linspace(-1, 1, t.numel(), dtype=DT).view_as(t)).sum() for t in _flat(results))


@pytest.mark.parametrize("threads", [1, 2], indirect=True)
def test_loops_run_together_match_each_loop_run_alone(threads):
    calls, leaves = _two_loops()
    together = kernels.lstm_layers(calls)
    grads_together = torch.autograd.grad(_loss(together), leaves)
    alone = [kernels.lstm_layer(*args, **options) for args, options in calls]
    grads_alone = torch.autograd.grad(_loss(alone), leaves)
    assert sorted(together[0][2]) == sorted(alone[0][2]) == sorted([*LF.LSTM_GATES, "cell_state"])
    for ours, theirs in zip(_flat(together), _flat(alone), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    for ours, theirs in zip(grads_together, grads_alone, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("threads", [2], indirect=True)
def test_loops_run_together_pass_gradcheck(threads):
    torch.manual_seed(1)
    T, B, I, H = 4, 3, 2, 3
    lengths = LF.step_mask_from_lengths(torch.tensor([2, 4, 1]), T)
    leaves = [_leaf(T, B, I), _leaf(4 * H, I), _leaf(4 * H, H), _leaf(T, B, I), _leaf(4 * H, I), _leaf(4 * H, H)]
    h0 = (torch.zeros(B, H, dtype=DT), torch.zeros(B, H, dtype=DT))

    def f(x1, w_ih1, w_hh1, x2, w_ih2, w_hh2):
        results = kernels.lstm_layers([((x1, h0, w_ih1, w_hh1), {"step_mask": lengths}), ((x2, h0, w_ih2, w_hh2), {})])
        return tuple(t for output, state, _ in results for t in (output, *state))

    assert torch.autograd.gradcheck(f, leaves, eps=1e-6, atol=1e-6)


def test_a_loop_that_needs_no_gradient_gets_none_and_leaves_the_other_right():
    calls, _ = _two_loops()
    frozen_args = tuple(t.detach() if isinstance(t, torch.Tensor) else t for t in calls[1][0][:1]) + calls[1][0][1:]
    x = calls[0][0][0]
    together = kernels.lstm_layers([calls[0], (frozen_args, {})])
    alone = kernels.lstm_layer(*calls[0][0], **calls[0][1])
    (grad_together,) = torch.autograd.grad(together[0][0].sum(), x)
    (grad_alone,) = torch.autograd.grad(alone[0].sum(), x)
    torch.testing.assert_close(grad_together, grad_alone, rtol=1e-12, atol=1e-12)


def test_loops_of_different_dtypes_are_refused():
    calls, _ = _two_loops()
    args, options = calls[1]
    as_float = tuple(t.float() if isinstance(t, torch.Tensor) else t for t in args[:1]) + args[1:]
    with pytest.raises(TypeError, match="loops run together take one dtype"):
        kernels.lstm_layers([calls[0], (as_float, options)])


def _gru_and_rnn_loops(cell: str):
    """Two unlike loops of the GRU (zoneout and a trace; reset before, recurrent dropout) or the RNN
    (tanh; relu, recurrent dropout, no bias), with unsorted lengths in the first."""
    torch.manual_seed(2)
    T, B, I, H = 5, 4, 3, 6
    blocks = 3 if cell == "gru" else 1
    lengths = LF.step_mask_from_lengths(torch.tensor([2, 5, 1, 4]), T)
    first_args = (_leaf(T, B, I), _leaf(B, H), _leaf(blocks * H, I), _leaf(blocks * H, H), _leaf(blocks * H),
                  _leaf(blocks * H))  # fmt: skip
    second_args = (_leaf(3, 2, 4), _leaf(2, 5), _leaf(blocks * 5, 4), _leaf(blocks * 5, 5))
    dropout = torch.bernoulli(torch.full((2, 5), 0.6, dtype=DT)) / 0.6
    if cell == "gru":
        first = {"step_mask": lengths, "zoneout": LF.zoneout_mask((T, B, H), 0.3, "cpu"), "trace": True}
        second = {"reset_after": False, "recurrent_mask": dropout}
    else:
        first, second = {"step_mask": lengths}, {"nonlinearity": "relu", "recurrent_mask": dropout}
    return [(first_args, first), (second_args, second)], [*first_args, *second_args]


@pytest.mark.parametrize("threads", [1, 2], indirect=True)
@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_gru_and_rnn_loops_run_together_match_each_loop_run_alone(threads, cell):
    calls, leaves = _gru_and_rnn_loops(cell)
    together_fn, alone_fn = {
        "gru": (kernels.gru_layers, kernels.gru_layer),
        "rnn": (kernels.rnn_layers, kernels.rnn_layer),
    }[cell]
    together = together_fn(calls)
    alone = [alone_fn(*args, **options) for args, options in calls]

    def flat(results):
        return [t for output, h, records in results for t in (output, h, *(records[k] for k in sorted(records)))]

    assert (
        len(flat(together)) == len(flat(alone)) == (7 if cell == "gru" else 4)
    )  # the traced GRU loop: its 3 gates too
    for ours, theirs in zip(flat(together), flat(alone), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    loss = [
        sum((t * torch.linspace(-1, 1, t.numel(), dtype=DT).view_as(t)).sum() for t in flat(r))
        for r in (together, alone)
    ]
    for ours, theirs in zip(torch.autograd.grad(loss[0], leaves), torch.autograd.grad(loss[1], leaves), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_a_bidirectional_layer_runs_its_two_directions_in_one_kernel_call(monkeypatch, mode):
    applied = []
    original = _loops._LoopsNode.apply

    def counting(loop, grad_enabled, *inputs):
        applied.append(len(inputs) // loop.inputs)
        return original(loop, grad_enabled, *inputs)

    monkeypatch.setattr(_loops._LoopsNode, "apply", counting)
    layer = getattr(lstmkit, mode)(3, 4, num_layers=2, bidirectional=True, backend="compiled")
    layer(torch.randn(5, 2, 3), lengths=torch.tensor([5, 3]))[0].sum().backward()
    assert applied == [2, 2]  # one node per layer, both directions in it


def test_a_call_with_missing_arguments_or_an_unknown_keyword_is_refused_by_name():
    calls, _ = _two_loops()
    args, options = calls[0]
    with pytest.raises(TypeError, match="lstm_layer takes x, hx, w_ih, w_hh.*got 2 positional arguments"):
        kernels.lstm_layers([(args[:2], options)])
    with pytest.raises(TypeError, match=r"gru_layer takes .*got 4 positional arguments and \['dropout'\]"):
        kernels.gru_layers([(_gru_and_rnn_loops("gru")[0][1][0], {"dropout": 0.1})])
