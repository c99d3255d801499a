"""Language-model pretraining on a token stream: the windows, the per-direction views of an encoder,
and the objective that carries state between windows."""

import pytest
import torch

from lstmkit.data import stream_batches, stream_windows
from lstmkit.heads import EncoderConfig, StreamLanguageModel
from lstmkit.train.objectives import StreamLanguageModelObjective

VOCAB = 23


def _encoder(bidirectional: bool, **overrides) -> EncoderConfig:
    options = {"vocab_size": VOCAB, "embedding_dim": 8, "hidden_size": 6, "bidirectional": bidirectional}
    return EncoderConfig(**{**options, **overrides})


def test_stream_windows_are_contiguous_rows_overlapping_by_one():
    ids = list(range(103))
    windows = stream_windows(ids, streams=4, length=5)
    assert all(w.shape[0] == 4 for w in windows) and windows[0].shape[1] == 6
    for row in range(4):
        # Each window's first column is the previous one's last: dropping it rebuilds the row.
        rebuilt = windows[0][row].tolist() + [t for w in windows[1:] for t in w[row, 1:].tolist()]
        assert rebuilt == ids[row * 25 : (row + 1) * 25]
    assert all(torch.equal(a[:, -1], b[:, 0]) for a, b in zip(windows, windows[1:]))
    with pytest.raises(ValueError, match="too short for 4 rows"):
        stream_windows(ids[:7], streams=4, length=5)


def test_stream_batches_stack_the_directions_and_mark_the_first_window():
    ids = list(range(40))
    batches = stream_batches([ids, ids[::-1]], batch_size=2, length=4)
    assert [b["reset"] for b in batches] == [True] + [False] * (len(batches) - 1)
    assert batches[0]["windows"].shape == (2, 2, 5)
    assert batches[0]["windows"][1, 0].tolist() == [39, 38, 37, 36, 35]


@torch.no_grad()
def test_the_direction_views_compute_the_bidirectional_encoder_halves():
    torch.manual_seed(0)
    lm = StreamLanguageModel(_encoder(True), dropout=0.0).eval()
    forward_lm, backward_lm = lm.models
    assert backward_lm.encoder.rnn.weight_hh_l0 is lm.encoder.rnn.weight_hh_l0_reverse
    assert forward_lm.encoder.embedding is lm.encoder.embedding is backward_lm.encoder.embedding
    tokens = torch.randint(2, VOCAB, (3, 9))
    both, _ = lm.encoder(tokens)
    forward, _ = forward_lm.encoder(tokens)
    backward, _ = backward_lm.encoder(tokens.flip(1))
    torch.testing.assert_close(both[..., :6], forward)
    torch.testing.assert_close(both[..., 6:], backward.flip(1))
    with pytest.raises(ValueError, match="num_layers=1"):
        StreamLanguageModel(_encoder(True, num_layers=2))


def test_a_backward_step_trains_only_the_reverse_direction_and_the_embedding():
    torch.manual_seed(0)
    lm = StreamLanguageModel(_encoder(True), dropout=0.0)
    logits, _ = lm.models[1](torch.randint(2, VOCAB, (2, 5)))
    logits.sum().backward()
    grads = {name for name, p in lm.encoder.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert grads == {"embedding.weight", *(n for n, _ in lm.encoder.named_parameters() if n.endswith("_reverse"))}


@pytest.mark.parametrize("bidirectional", [False, True])
@torch.no_grad()
def test_carried_state_makes_windows_read_as_one_sequence(bidirectional):
    # Two windows with the state carried score exactly as one pass over the whole stream; a reset
    # window scores as a fresh start.
    torch.manual_seed(0)
    lm = StreamLanguageModel(_encoder(bidirectional, hidden_size=8), dropout=0.0, tie_weights=True).eval()
    ids = torch.randint(2, VOCAB, (2 * 8 + 1,)).tolist()
    directions = len(lm.models)
    batches = stream_batches([ids, ids[::-1]][:directions], batch_size=1, length=8)
    assert len(batches) == 2
    objective = StreamLanguageModelObjective()
    windowed = sum(objective.eval_sums(lm, batch)["loss"] for batch in batches) / 16
    whole = stream_batches([ids, ids[::-1]][:directions], batch_size=1, length=16)[0]
    torch.testing.assert_close(windowed, objective.loss(lm, whole))
    fresh = StreamLanguageModelObjective().loss(lm, {**batches[1], "reset": True})
    torch.testing.assert_close(objective.loss(lm, {**batches[1], "reset": True}), fresh)
    objective.loss(lm, batches[0])
    assert not torch.isclose(objective.loss(lm, batches[1]), fresh)  # (the state of window 0 was carried in)
