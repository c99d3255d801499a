"""AWD-LSTM's regularisers (Merity et al. 2017) against their definitions: weight drop (DropConnect on
``W_hh``, one mask per batch) on every backend, locked (variational) dropout, embedding dropout of whole
words, and the heads' use of them."""

import pytest
import torch
from torch import nn

import lstmkit
from lstmkit import functional as LF
from lstmkit import kernels
from lstmkit.heads import EncoderConfig, LanguageModel, LanguageModelConfig, RecurrentEncoder
from lstmkit.heads.encoder import SequenceDropout, embed_with_dropout

needs_kernels = pytest.mark.skipif(not kernels.available(), reason=f"kernels: {kernels.unavailable_reason()}")

DT = torch.float64
T, B, I, H = 5, 4, 3, 6
LENGTHS = [5, 2, 4, 1]
BACKENDS = ["reference", "bptt", "native"] + (["compiled"] if kernels.available() else [])
CELLS = {"lstm": lstmkit.LSTM, "gru": lstmkit.GRU, "rnn": lstmkit.RNN}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _pair(cls, backend, **extras):
    """A layer with ``extras`` and a plain twin (reference backend) holding the same parameters."""
    plain = cls(I, H, num_layers=2, bidirectional=True, backend="reference").to(DT)
    layer = cls(I, H, num_layers=2, bidirectional=True, backend=backend, **extras).to(DT)
    layer.load_state_dict(plain.state_dict())
    return layer, plain


def _loss(output, state):
    states = state if isinstance(state, tuple) else (state,)
    weights = torch.linspace(-1, 1, output.shape[-1], dtype=DT)
    return (output * weights).sum() + sum(s.pow(2).sum() for s in states)


# -- weight drop --------------------------------------------------------------------------------------


def test_drop_connect_keeps_each_entry_scaled_by_one_over_keep():
    p = 0.3
    weight = torch.rand(200, 200, dtype=DT) + 0.5
    dropped = LF.drop_connect(weight, p)
    kept = dropped != 0
    torch.testing.assert_close(dropped[kept], weight[kept] / (1 - p))
    assert abs((~kept).double().mean().item() - p) < 0.02  # 40,000 draws: the standard error is 0.0023
    mask = torch.rand(200, 200) < 0.5
    torch.testing.assert_close(LF.drop_connect(weight, p, mask), weight * mask / (1 - p))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cell", CELLS)
def test_weight_drop_is_one_mask_per_batch_on_every_backend(cell, backend):
    """The layer in training equals the plain layer whose ``W_hh`` are the drawn, dropped matrices: one
    matrix for every step and every sequence; gradients reach each ``W_hh`` only through kept entries."""
    p = 0.4
    layer, plain = _pair(CELLS[cell], backend, weight_drop=p)
    x = torch.randn(T, B, I, dtype=DT)
    torch.manual_seed(7)
    drawn = {name: w.detach().clone() for name, w in layer.forward_weights().items()}
    torch.manual_seed(7)
    output, state = layer(x, lengths=LENGTHS)
    assert layer.last_backend == backend
    with torch.no_grad():
        for name, weight in drawn.items():
            getattr(plain, name).copy_(weight)
    expected_output, expected_state = plain(x, lengths=LENGTHS)
    torch.testing.assert_close(output, expected_output, rtol=1e-10, atol=1e-12)
    _loss(output, state).backward()
    _loss(expected_output, expected_state).backward()
    for name, parameter in layer.named_parameters():
        if name.startswith("weight_hh"):
            scale = (drawn[name] != 0).to(DT) / (1 - p)
            assert (parameter.grad[drawn[name] == 0] == 0).all()
            torch.testing.assert_close(parameter.grad, getattr(plain, name).grad * scale, rtol=1e-9, atol=1e-12)
        else:
            torch.testing.assert_close(parameter.grad, getattr(plain, name).grad, rtol=1e-9, atol=1e-12)


def test_weight_drop_draws_fresh_masks_per_call_and_leaves_the_parameters_alone():
    layer = lstmkit.LSTM(I, H, num_layers=2, bidirectional=True, weight_drop=0.5)
    names = list(lstmkit.LSTM(I, H, num_layers=2, bidirectional=True).state_dict())
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    first, second = layer.forward_weights(), layer.forward_weights()
    hh = [name for name in first if name.startswith("weight_hh")]
    assert len(hh) == 4 and all(not torch.equal(first[n] == 0, second[n] == 0) for n in hh)
    assert all(first[n] is getattr(layer, n) for n in first if n not in hh)  # only W_hh is dropped
    layer(torch.randn(T, B, I))
    assert list(layer.state_dict()) == names
    assert all(torch.equal(before[k], v) for k, v in layer.state_dict().items())
    assert all(isinstance(getattr(layer, n), nn.Parameter) for n in hh)


@pytest.mark.parametrize("backend", BACKENDS)
def test_weight_drop_in_evaluation_is_the_plain_layer(backend):
    layer, plain = _pair(lstmkit.LSTM, backend, weight_drop=0.5)
    layer.eval()
    assert all(w is getattr(layer, n) for n, w in layer.forward_weights().items())
    x = torch.randn(T, B, I, dtype=DT)
    torch.testing.assert_close(layer(x)[0], plain(x)[0], rtol=1e-10, atol=1e-12)


@needs_kernels
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_gradcheck_weight_drop_with_a_fixed_mask_on_the_compiled_kernel(cell):
    function = {"lstm": kernels.lstm_layer, "gru": kernels.gru_layer, "rnn": kernels.rnn_layer}[cell]
    blocks = {"lstm": 4, "gru": 3, "rnn": 1}[cell]
    x = torch.randn(4, 3, 2, dtype=DT, requires_grad=True)
    w_ih = torch.randn(blocks * 3, 2, dtype=DT, requires_grad=True)
    w_hh = torch.randn(blocks * 3, 3, dtype=DT, requires_grad=True)
    bias = torch.randn(blocks * 3, dtype=DT, requires_grad=True)
    mask = torch.rand(w_hh.shape) < 0.6
    hx = (torch.zeros(3, 3, dtype=DT),) * 2 if cell == "lstm" else torch.zeros(3, 3, dtype=DT)

    def run(x, w_ih, w_hh, bias):
        return function(x, hx, w_ih, LF.drop_connect(w_hh, 0.4, mask), bias, bias)[0]

    assert torch.autograd.gradcheck(run, (x, w_ih, w_hh, bias), eps=1e-6, atol=1e-6)


@needs_kernels
def test_auto_keeps_a_weight_dropped_layer_on_the_compiled_kernel_in_training():
    layer = lstmkit.LSTM(I, H, weight_drop=0.3)
    layer(torch.randn(T, B, I))
    assert layer.last_backend == "compiled"


@pytest.mark.parametrize("name", ["weight_drop", "output_dropout"])
@pytest.mark.parametrize("value", [-0.1, 1.0, "0.2", True])
def test_bad_rates_are_named(name, value):
    with pytest.raises(ValueError, match=name):
        lstmkit.GRU(I, H, **{name: value})


def test_bad_dropout_kind_is_named():
    with pytest.raises(ValueError, match="dropout_kind must be one of .*'locked'.* got 'variational'"):
        lstmkit.LSTM(I, H, dropout_kind="variational")
    with pytest.raises(ValueError, match="dropout_kind"):
        EncoderConfig(vocab_size=5, dropout_kind="per-step")
    with pytest.raises(ValueError, match="weight_drop"):
        EncoderConfig(vocab_size=5, weight_drop=1.0)


# -- locked dropout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("time_dim", [0, 1])
def test_locked_dropout_is_one_mask_per_sequence_shared_over_time(time_dim):
    p = 0.5
    x = torch.ones(20, 8, 16, dtype=DT) if time_dim == 0 else torch.ones(8, 20, 16, dtype=DT)
    dropped = LF.locked_dropout(x, p, time_dim=time_dim)
    first = dropped.select(time_dim, 0)
    assert torch.equal(dropped, first.unsqueeze(time_dim).expand_as(dropped))  # the same at every step
    assert set(first.unique().tolist()) == {0.0, 1 / (1 - p)}
    assert len({tuple(row.tolist()) for row in first}) > 1  # each sequence its own mask


@pytest.mark.parametrize("backend", BACKENDS)
def test_locked_dropout_between_layers_and_on_the_output_follows_the_definition(backend):
    """A 2-layer locked layer equals two 1-layer layers with :func:`locked_dropout` between them and after."""
    p, q = 0.4, 0.3
    layer = lstmkit.LSTM(I, H, num_layers=2, dropout=p, dropout_kind="locked", output_dropout=q, backend=backend)
    layer = layer.to(DT)
    bottom, top = lstmkit.LSTM(I, H).to(DT), lstmkit.LSTM(H, H).to(DT)
    for index, part in enumerate((bottom, top)):
        part.load_state_dict(
            {k.replace(f"_l{index}", "_l0"): v for k, v in layer.state_dict().items() if f"_l{index}" in k}
        )
    x = torch.randn(T, B, I, dtype=DT)
    torch.manual_seed(3)
    output, (h, c) = layer(x, lengths=LENGTHS)
    torch.manual_seed(3)
    middle, (h0, c0) = bottom(x, lengths=LENGTHS)
    expected, (h1, c1) = top(LF.locked_dropout(middle, p), lengths=LENGTHS)
    torch.testing.assert_close(output, LF.locked_dropout(expected, q), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(h, torch.cat([h0, h1]), rtol=1e-10, atol=1e-12)
    layer.eval()
    torch.testing.assert_close(layer(x, lengths=LENGTHS)[0], top(middle, lengths=LENGTHS)[0], rtol=1e-10, atol=1e-12)


def test_sequence_dropout_module_of_the_heads_is_locked_over_batch_first_time():
    module = SequenceDropout(0.5, "locked")
    dropped = module(torch.ones(3, 9, 4))
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped))
    assert torch.equal(module.eval()(dropped), dropped)
    model = LanguageModel(LanguageModelConfig(EncoderConfig(11, 8, 8, bidirectional=False, dropout_kind="locked")))
    assert model.dropout.kind == "locked"


# -- embedding dropout ------------------------------------------------------------------------------


def test_embedding_dropout_drops_a_word_at_every_occurrence_in_the_batch():
    p, vocab = 0.5, 6
    embedding = nn.Embedding(vocab, 4)
    tokens = torch.randint(0, vocab, (8, 30))
    outcomes = set()
    for _ in range(10):
        embedded = embed_with_dropout(embedding, tokens, p)
        for word in range(vocab):
            rows = embedded[tokens == word]
            dropped = (rows == 0).all(-1)
            assert dropped.all() or not dropped.any(), "a word is dropped everywhere or nowhere"
            if not dropped.any():
                torch.testing.assert_close(rows, embedding.weight[word].expand_as(rows) / (1 - p))
            outcomes.add(bool(dropped.all()))
    assert outcomes == {True, False}
    embedding.eval()
    assert torch.equal(embed_with_dropout(embedding, tokens, p), embedding(tokens))


def test_embedding_dropout_gradient_skips_the_dropped_rows():
    weight = torch.randn(10, 3, dtype=DT, requires_grad=True)
    mask = torch.arange(10) % 3 != 0
    LF.embedding_dropout(weight, 0.25, mask).sum().backward()
    expected = mask.to(DT).unsqueeze(1).expand(10, 3) / 0.75
    torch.testing.assert_close(weight.grad, expected)


def test_encoder_passes_the_regularisers_to_its_layer():
    encoder = RecurrentEncoder(EncoderConfig(9, 4, 5, num_layers=2, weight_drop=0.2, dropout_kind="locked"))
    assert (encoder.rnn.weight_drop, encoder.rnn.dropout_kind) == (0.2, "locked")
    assert "weight_drop=0.2" in repr(encoder.rnn)
