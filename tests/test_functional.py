"""The cells, written from the equations, against torch.nn's cells with the same weights."""

import pytest
import torch

from lstmkit import functional as LF

B, I, H, P = 3, 5, 7, 4


def _assert_close(actual, expected):
    torch.testing.assert_close(actual, expected, rtol=1e-10, atol=1e-12)


@pytest.fixture(autouse=True)
def _float64_and_seed():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    yield
    torch.set_default_dtype(previous)


def test_lstm_cell_matches_torch_lstmcell():
    ref = torch.nn.LSTMCell(I, H)
    x, h, c = torch.randn(B, I), torch.randn(B, H), torch.randn(B, H)
    h_ref, c_ref = ref(x, (h, c))
    h_new, c_new = LF.lstm_cell(x, (h, c), ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh)
    _assert_close(h_new, h_ref)
    _assert_close(c_new, c_ref)


def test_lstm_gates_follow_torch_order():
    # With only the forget block of the bias set, the cell keeps c exactly when f saturates at 1.
    w_ih, w_hh = torch.zeros(4 * H, I), torch.zeros(4 * H, H)
    bias = torch.zeros(4 * H)
    bias[H : 2 * H] = 50.0  # forget gate -> 1
    bias[:H] = -50.0  # input gate -> 0
    c = torch.randn(B, H)
    _, c_new = LF.lstm_cell(torch.randn(B, I), (torch.randn(B, H), c), w_ih, w_hh, bias, torch.zeros(4 * H))
    _assert_close(c_new, c)


def test_lstm_cell_projection_matches_torch_lstm():
    ref = torch.nn.LSTM(I, H, proj_size=P)
    x, h, c = torch.randn(1, B, I), torch.randn(1, B, P), torch.randn(1, B, H)
    out, (h_ref, c_ref) = ref(x, (h, c))
    h_new, c_new = LF.lstm_cell(
        x[0], (h[0], c[0]), ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0, ref.weight_hr_l0
    )
    _assert_close(h_new, h_ref[0])
    _assert_close(c_new, c_ref[0])


def test_gru_cell_matches_torch_grucell():
    ref = torch.nn.GRUCell(I, H)
    x, h = torch.randn(B, I), torch.randn(B, H)
    _assert_close(LF.gru_cell(x, h, ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh), ref(x, h))


def test_gru_reset_before_matmul_is_the_classic_form():
    w_ih, w_hh = torch.randn(3 * H, I), torch.randn(3 * H, H)
    b_ih, b_hh = torch.randn(3 * H), torch.randn(3 * H)
    x, h = torch.randn(B, I), torch.randn(B, H)
    # The classic equations, written out independently of the implementation.
    W_ir, W_iz, W_in = w_ih.chunk(3)
    W_hr, W_hz, W_hn = w_hh.chunk(3)
    b_ir, b_iz, b_in = b_ih.chunk(3)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    n = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
    expected = (1 - z) * n + z * h
    _assert_close(LF.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh, reset_after=False), expected)
    assert not torch.allclose(LF.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh, reset_after=True), expected)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_matches_torch_rnncell(nonlinearity):
    ref = torch.nn.RNNCell(I, H, nonlinearity=nonlinearity)
    x, h = torch.randn(B, I), torch.randn(B, H)
    actual = LF.rnn_cell(x, h, ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh, nonlinearity=nonlinearity)
    _assert_close(actual, ref(x, h))


def test_rnn_cell_rejects_unknown_nonlinearity():
    with pytest.raises(ValueError, match="nonlinearity"):
        LF.rnn_cell(torch.randn(B, I), torch.randn(B, H), torch.randn(H, I), torch.randn(H, H), nonlinearity="gelu")


def test_lstm_sequence_matches_torch_lstm():
    ref = torch.nn.LSTM(I, H)
    x = torch.randn(6, B, I)
    h0, c0 = torch.randn(1, B, H), torch.randn(1, B, H)
    out_ref, (h_ref, c_ref) = ref(x, (h0, c0))
    out, (h, c), gates = LF.lstm_sequence(
        x, (h0[0], c0[0]), ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0
    )
    _assert_close(out, out_ref)
    _assert_close(h, h_ref[0])
    _assert_close(c, c_ref[0])
    assert set(gates) == {"input", "forget", "cell", "output", "cell_state"}
    _assert_close(gates["cell_state"][-1], c)


def test_reverse_padded_reverses_within_lengths_and_is_an_involution():
    x = torch.arange(4.0).view(4, 1).expand(4, 3).unsqueeze(-1)  # value = time index
    lengths = torch.tensor([4, 2, 1])
    rev = LF.reverse_padded(x, lengths)
    assert rev[:, 0, 0].tolist() == [3, 2, 1, 0]
    assert rev[:, 1, 0].tolist() == [1, 0, 2, 3]
    assert rev[:, 2, 0].tolist() == [0, 1, 2, 3]
    _assert_close(LF.reverse_padded(rev, lengths), x)


def test_step_mask_from_lengths():
    mask = LF.step_mask_from_lengths(torch.tensor([3, 1]), 4)
    assert mask.tolist() == [[True, True], [True, False], [True, False], [False, False]]
