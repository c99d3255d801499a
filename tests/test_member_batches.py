"""An ensemble's members each draw their own training batches: one batch per member per step, in the
member's own order, and each member trains on its rows as a lone network on its batches would."""

from __future__ import annotations

import copy
import functools

import pytest
import torch
from ensemble_training import train_as_the_engine

from lstmkit.data import BucketBatchSampler, TextClassificationDataset, collate_classification
from lstmkit.data.member_batches import (
    MemberBatchSampler,
    MemberDataset,
    collate_member_batches,
    member_rows,
    member_seed,
)
from lstmkit.heads import ClassifierConfig, ClassifierEnsemble, EncoderConfig
from lstmkit.tasks.sentiment.data import make_loader

LENGTHS = [3, 7, 1, 4, 4, 9, 2, 5, 6, 8, 2, 3, 5]


def test_each_member_sees_every_example_once_an_epoch_in_its_own_order_member_0_as_alone():
    n = len(LENGTHS)
    sampler = MemberBatchSampler(LENGTHS, batch_size=4, members=3, seed=5, bucket_batches=2)
    for epoch in (0, 1):
        sampler.set_epoch(epoch)
        steps = list(sampler)
        assert len(steps) == len(sampler) == 4  # ceil(13 / 4), the batches of one member
        per_member = [[[i - k * n for i in step if k * n <= i < (k + 1) * n] for step in steps] for k in range(3)]
        for k, batches in enumerate(per_member):
            assert sorted(i for batch in batches for i in batch) == list(range(n))
            alone = BucketBatchSampler(LENGTHS, 4, seed=member_seed(5, k), bucket_batches=2)
            alone.set_epoch(epoch)
            assert batches == list(alone)  # member k draws what a lone sampler of its seed would
        assert member_seed(5, 0) == 5
        assert per_member[0] != per_member[1] != per_member[2]
        assert all(step == [i for k in range(3) for i in step if k * n <= i < (k + 1) * n] for step in steps)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match=f"members: expected an integer >= 1, got {bad!r}"):
            MemberBatchSampler(LENGTHS, 4, members=bad)


def _dataset() -> TextClassificationDataset:
    generator = torch.Generator().manual_seed(0)
    tokens = [torch.randint(1, 13, (n,), generator=generator).tolist() for n in LENGTHS]
    lexicon = [torch.randint(1, 4, (n,), generator=generator).tolist() for n in LENGTHS]
    labels = torch.randint(0, 3, (len(LENGTHS),), generator=generator).tolist()
    return TextClassificationDataset(tokens, labels, {"lexicon": lexicon})


def test_a_step_carries_member_ids_and_each_member_gets_its_rows_cut_to_their_longest():
    dataset = _dataset()
    members = MemberDataset(dataset, 2)
    assert len(members) == 26 and members[13 + 4] == (1, dataset[4]) and members[2] == (0, dataset[2])
    with pytest.raises(IndexError, match="expected 0 <= index < 26, got 26"):
        members[26]
    collate = functools.partial(collate_classification, pad_index=0)
    batch = collate_member_batches([members[i] for i in (2, 6, 13 + 5, 13 + 0)], collate)
    assert batch["member"].tolist() == [0, 0, 1, 1] and batch["tokens"].shape == (4, 9)
    first = member_rows(batch, 0)
    assert set(first) == {"tokens", "lengths", "labels", "lexicon"}
    expected = collate([dataset[2], dataset[6]])  # lengths 1 and 2: two columns, not nine
    for name, value in expected.items():
        torch.testing.assert_close(first[name], value)
    torch.testing.assert_close(member_rows(batch, 1)["tokens"], collate([dataset[5], dataset[0]])["tokens"])
    with pytest.raises(ValueError, match="no rows of member 2"):
        member_rows(batch, 2)


def _config() -> ClassifierConfig:
    encoder = EncoderConfig(vocab_size=13, embedding_dim=6, hidden_size=5, padding_idx=0, embedding_dropout=0.0)
    return ClassifierConfig(encoder, num_classes=3, pooling="max", dropout=0.0, lexicon_classes=4, lexicon_dim=3)


def _train(model, loader, members: bool, clip: float = 0.3) -> None:
    """One epoch of AdamW on ``loader``, the loss and clipping as the engine makes them."""
    train_as_the_engine(model, loader, ensemble=members, clip=clip)


def test_each_member_trains_as_a_lone_network_on_its_own_batches():
    dataset = _dataset()
    steps = dataset.step_ids

    def loader(seed: int, members: int = 1):
        return make_loader(dataset.token_ids, dataset.labels, 0, 4, shuffle=True, seed=seed, step_ids=steps,
                           members=members)  # fmt: skip

    torch.manual_seed(1)
    ensemble = ClassifierEnsemble(_config(), members=2).double()
    starts = [copy.deepcopy(member) for member in ensemble.members]
    assert len(loader(9, members=2)) == 4
    _train(ensemble, loader(9, members=2), members=True)
    for k, start in enumerate(starts):
        network = copy.deepcopy(start)
        _train(network, loader(member_seed(9, k)), members=False)
        moved = max(float((p - q).detach().abs().max()) for p, q in zip(network.parameters(), start.parameters()))
        assert moved > 0.01
        for name, p in network.named_parameters():
            torch.testing.assert_close(dict(ensemble.members[k].named_parameters())[name], p, rtol=1e-6, atol=1e-7)
    # Member 1 on member 0's order (the batches all members shared before) would have moved elsewhere.
    shared = copy.deepcopy(starts[1])
    _train(shared, loader(9), members=False)
    gap = max(
        float((p - q).detach().abs().max()) for p, q in zip(shared.parameters(), ensemble.members[1].parameters())
    )
    assert gap > 1e-3


def test_evaluation_batches_stay_shared():
    dataset = _dataset()
    loader = make_loader(dataset.token_ids, dataset.labels, 0, 4, shuffle=False, members=3)
    assert all("member" not in batch for batch in loader) and len(loader.dataset) == len(LENGTHS)
