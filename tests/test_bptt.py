"""The hand-written backward against autograd through the reference loops, and gradcheck."""

import pytest
import torch

from lstmkit import bptt
from lstmkit import functional as LF

T, B, I, H, P = 4, 3, 3, 4, 2
DT = torch.float64


def _leaf(*shape):
    return torch.randn(*shape, dtype=DT, requires_grad=True)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _masks(with_lengths, with_dropout, state_size):
    step_mask = LF.step_mask_from_lengths(torch.tensor([4, 2, 3]), T) if with_lengths else None
    recurrent_mask = (torch.rand(B, state_size) > 0.4).to(DT) / 0.6 if with_dropout else None
    return step_mask, recurrent_mask


def _lstm_args(proj):
    out = P if proj else H
    return [
        _leaf(T, B, I),
        _leaf(B, out),
        _leaf(B, H),
        _leaf(4 * H, I),
        _leaf(4 * H, out),
        _leaf(4 * H),
        _leaf(4 * H),
        _leaf(P, H) if proj else None,
    ]


def _gru_args(gates):
    return [_leaf(T, B, I), _leaf(B, H), _leaf(gates * H, I), _leaf(gates * H, H), _leaf(gates * H), _leaf(gates * H)]


def _assert_same_forward_and_gradients(ours, reference, leaves):
    out_ours, out_ref = ours(), reference()
    weights = [torch.randn_like(o) for o in out_ref]
    for a, b in zip(out_ours, out_ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    g_ours = torch.autograd.grad(sum((w * o).sum() for w, o in zip(weights, out_ours)), leaves)
    g_ref = torch.autograd.grad(sum((w * o).sum() for w, o in zip(weights, out_ref)), leaves)
    for a, b in zip(g_ours, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("proj", [False, True])
@pytest.mark.parametrize("with_lengths", [False, True])
@pytest.mark.parametrize("with_dropout", [False, True])
def test_lstm_backward_matches_autograd(proj, with_lengths, with_dropout):
    x, h0, c0, *w = _lstm_args(proj)
    step_mask, rmask = _masks(with_lengths, with_dropout, h0.shape[-1])
    options = {"step_mask": step_mask, "recurrent_mask": rmask}

    def ours():
        out, (h, c), _ = bptt.lstm_layer(x, (h0, c0), *w, **options)
        return out, h, c

    def reference():
        out, (h, c), _ = LF.lstm_sequence(x, (h0, c0), *w, **options)
        return out, h, c

    _assert_same_forward_and_gradients(ours, reference, [x, h0, c0, *(p for p in w if p is not None)])


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("with_lengths", [False, True])
@pytest.mark.parametrize("with_dropout", [False, True])
def test_gru_backward_matches_autograd(reset_after, with_lengths, with_dropout):
    x, h0, *w = _gru_args(3)
    step_mask, rmask = _masks(with_lengths, with_dropout, H)
    options = {"step_mask": step_mask, "recurrent_mask": rmask, "reset_after": reset_after}
    _assert_same_forward_and_gradients(
        lambda: bptt.gru_layer(x, h0, *w, **options)[:2], lambda: LF.gru_sequence(x, h0, *w, **options)[:2], [x, h0, *w]
    )


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("with_lengths", [False, True])
@pytest.mark.parametrize("with_dropout", [False, True])
def test_rnn_backward_matches_autograd(nonlinearity, with_lengths, with_dropout):
    x, h0, *w = _gru_args(1)
    step_mask, rmask = _masks(with_lengths, with_dropout, H)
    options = {"step_mask": step_mask, "recurrent_mask": rmask, "nonlinearity": nonlinearity}
    _assert_same_forward_and_gradients(
        lambda: bptt.rnn_layer(x, h0, *w, **options)[:2], lambda: LF.rnn_sequence(x, h0, *w, **options)[:2], [x, h0, *w]
    )


@pytest.mark.parametrize("proj", [False, True])
def test_lstm_gradcheck(proj):
    x, h0, c0, *w = _lstm_args(proj)
    step_mask, rmask = _masks(True, True, h0.shape[-1])
    inputs = (x, h0, c0, *(p for p in w if p is not None))

    def f(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr=None):
        out, (h, c), _ = bptt.lstm_layer(
            x, (h0, c0), w_ih, w_hh, b_ih, b_hh, w_hr, step_mask=step_mask, recurrent_mask=rmask
        )
        return out, h, c

    assert torch.autograd.gradcheck(f, inputs)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_gradcheck(reset_after):
    x, h0, *w = _gru_args(3)
    step_mask, rmask = _masks(True, True, H)
    f = lambda *a: bptt.gru_layer(*a, step_mask=step_mask, recurrent_mask=rmask, reset_after=reset_after)[:2]  # noqa: E731
    assert torch.autograd.gradcheck(f, (x, h0, *w))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_gradcheck(nonlinearity):
    x, h0, *w = _gru_args(1)
    step_mask, _ = _masks(True, False, H)
    f = lambda *a: bptt.rnn_layer(*a, step_mask=step_mask, nonlinearity=nonlinearity)[:2]  # noqa: E731
    assert torch.autograd.gradcheck(f, (x, h0, *w))


def test_lstm_without_bias_and_without_input_gradient():
    x = torch.randn(T, B, I, dtype=DT)  # no grad: dx must not be required
    h0, c0, w_ih, w_hh = _leaf(B, H), _leaf(B, H), _leaf(4 * H, I), _leaf(4 * H, H)
    out, _, _ = bptt.lstm_layer(x, (h0, c0), w_ih, w_hh)
    ref, _, _ = LF.lstm_sequence(x, (h0, c0), w_ih, w_hh)
    g = torch.autograd.grad(out.sum(), [w_ih, w_hh, h0])
    g_ref = torch.autograd.grad(ref.sum(), [w_ih, w_hh, h0])
    for a, b in zip(g, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
