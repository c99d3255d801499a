"""lstmkit.heads.crf: the linear-chain CRF against brute-force enumeration of every tag path."""

import itertools
import math

import pytest
import torch

from lstmkit.heads import CRF
from lstmkit.heads.crf import FORBIDDEN_SCORE, _log_matmul_exp, crf_log_likelihood

NUM_TAGS = 3
LENGTHS = torch.tensor([4, 1, 3, 2])
STEPS = int(LENGTHS.max())


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def random_crf(num_tags: int = NUM_TAGS, constrained: bool = False) -> CRF:
    """A float64 CRF with random scores; ``constrained`` forbids about a third of everything (never all of a row)."""
    masks = {}
    if constrained:
        allowed = torch.rand(num_tags, num_tags) > 0.35
        allowed[:, 0] = True  # every tag may be followed by tag 0: some path always exists
        masks = {
            "allowed": allowed,
            "allowed_start": torch.arange(num_tags) != 1,
            "allowed_end": torch.arange(num_tags) != 2,
        }
    crf = CRF(num_tags, **masks).double()
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.copy_(torch.randn_like(parameter))
    return crf


def brute_force(crf: CRF, emissions: torch.Tensor, length: int) -> tuple[float, list[int], dict]:
    """``log Z``, the best path and every path's score of one sequence, by enumerating all ``K**length`` paths
    (in Python floats, the definition written out with nothing shared with the code under test)."""
    transitions, start, end = (p.detach().tolist() for p in (crf.transitions, crf.start, crf.end))
    allowed, allowed_start, allowed_end = (m.tolist() for m in (crf.allowed, crf.allowed_start, crf.allowed_end))
    emitted = emissions.tolist()
    scores = {}
    for path in itertools.product(range(crf.num_tags), repeat=length):
        total = start[path[0]] if allowed_start[path[0]] else FORBIDDEN_SCORE
        total += end[path[-1]] if allowed_end[path[-1]] else FORBIDDEN_SCORE
        for t, tag in enumerate(path):
            total += emitted[t][tag]
            if t:
                total += transitions[path[t - 1]][tag] if allowed[path[t - 1]][tag] else FORBIDDEN_SCORE
        scores[path] = total
    top = max(scores.values())
    log_z = top + math.log(sum(math.exp(score - top) for score in scores.values()))
    return log_z, list(max(scores, key=scores.get)), scores


@pytest.mark.parametrize("constrained", [False, True])
def test_log_partition_likelihood_and_viterbi_equal_brute_force(constrained):
    crf = random_crf(constrained=constrained)
    emissions = torch.randn(len(LENGTHS), STEPS, NUM_TAGS, dtype=torch.float64)
    tags = torch.randint(0, NUM_TAGS, (len(LENGTHS), STEPS))
    log_z = crf.log_partition(emissions, LENGTHS)
    log_likelihood = crf.log_likelihood(emissions, tags, LENGTHS)
    decoded = crf.decode(emissions, LENGTHS)
    for b, length in enumerate(LENGTHS.tolist()):
        expected_log_z, best, scores = brute_force(crf, emissions[b], length)
        assert log_z[b].item() == pytest.approx(expected_log_z, rel=1e-12)
        gold = tuple(tags[b, :length].tolist())
        assert log_likelihood[b].item() == pytest.approx(scores[gold] - expected_log_z, rel=1e-12, abs=1e-12)
        assert decoded[b] == best


def test_padding_never_changes_a_likelihood_or_a_decoded_tag():
    crf = random_crf(constrained=True)
    emissions = torch.randn(len(LENGTHS), STEPS, NUM_TAGS, dtype=torch.float64)
    tags = torch.randint(0, NUM_TAGS, (len(LENGTHS), STEPS))
    padded = torch.arange(STEPS) >= LENGTHS.unsqueeze(1)
    garbage = torch.where(padded.unsqueeze(2), 1e3 * torch.randn_like(emissions), emissions)
    garbage[tuple(padded.nonzero()[0])] = float("nan")  # one padded step of NaN
    garbage_tags = tags.masked_fill(padded, -7)
    torch.testing.assert_close(
        crf.log_likelihood(garbage, garbage_tags, LENGTHS), crf.log_likelihood(emissions, tags, LENGTHS)
    )
    assert crf.decode(garbage, LENGTHS) == crf.decode(emissions, LENGTHS)
    for b, length in enumerate(LENGTHS.tolist()):  # the batch equals one sequence at a time, unpadded
        alone = emissions[b : b + 1, :length]
        assert crf.decode(alone, None) == [crf.decode(emissions, LENGTHS)[b]]
        torch.testing.assert_close(
            crf.log_likelihood(alone, tags[b : b + 1, :length], None)[0],
            crf.log_likelihood(emissions, tags, LENGTHS)[b],
        )


def test_gradcheck_of_negative_log_likelihood():
    emissions = torch.randn(3, 3, NUM_TAGS, dtype=torch.float64, requires_grad=True)
    transitions, start, end = (
        torch.randn(*shape, dtype=torch.float64, requires_grad=True)
        for shape in ((NUM_TAGS, NUM_TAGS), (NUM_TAGS,), (NUM_TAGS,))
    )
    tags = torch.randint(0, NUM_TAGS, (3, 3))
    lengths = torch.tensor([3, 1, 2])

    def nll(emissions, transitions, start, end):
        return -crf_log_likelihood(emissions, tags, lengths, transitions, start, end)

    assert torch.autograd.gradcheck(nll, (emissions, transitions, start, end))


def test_forbidden_transitions_never_appear_in_a_decoded_path():
    num_tags, batch, steps = 4, 64, 6
    crf = random_crf(num_tags, constrained=True)
    free = CRF(num_tags).double()
    free.load_state_dict(crf.state_dict())  # same scores, no constraints (the masks are not in the state dict)
    assert set(crf.state_dict()) == {"transitions", "start", "end"}
    emissions = 3 * torch.randn(batch, steps, num_tags, dtype=torch.float64)
    lengths = torch.randint(1, steps + 1, (batch,))

    def violations(paths):
        return sum(
            (not crf.allowed_start[path[0]])
            + (not crf.allowed_end[path[-1]])
            + sum(not crf.allowed[a, b] for a, b in zip(path, path[1:]))
            for path in paths
        )

    assert violations(free.decode(emissions, lengths)) > 0  # the constraint has something to prevent
    assert violations(crf.decode(emissions, lengths)) == 0


def test_forbidden_scores_get_no_gradient():
    crf = random_crf(constrained=True)
    emissions = torch.randn(len(LENGTHS), STEPS, NUM_TAGS, dtype=torch.float64)
    tags = torch.zeros(len(LENGTHS), STEPS, dtype=torch.long)
    (-crf.log_likelihood(emissions, tags, LENGTHS).sum()).backward()
    assert torch.all(crf.transitions.grad[~crf.allowed] == 0)
    assert torch.all(crf.transitions.grad[crf.allowed] != 0)
    assert torch.all(crf.start.grad[~crf.allowed_start] == 0)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: CRF(0), ValueError, "num_tags must be a positive int, got 0"),
        (
            lambda: CRF(3, allowed=torch.ones(3, 2, dtype=torch.bool)),
            ValueError,
            r"allowed must have shape \(3, 3\).*got \(3, 2\)",
        ),
        (
            lambda: CRF(3, allowed_end=torch.ones(4, dtype=torch.bool)),
            ValueError,
            r"allowed_end must have shape \(3,\)",
        ),
        (lambda: CRF(3, allowed=torch.ones(3, 3)), TypeError, "allowed must hold bools"),
        (
            lambda: CRF(3).log_partition(torch.randn(2, 4, 5), None),
            ValueError,
            r"emissions must have shape \(batch, time, num_tags=3\), got \(2, 4, 5\)",
        ),
        (
            lambda: CRF(3).log_partition(torch.randn(2, 4), None),
            ValueError,
            r"emissions must have shape .* got \(2, 4\)",
        ),
        (
            lambda: CRF(3).decode(torch.randn(2, 4, 3), torch.tensor([5, 1])),
            ValueError,
            r"lengths must lie in 1..4 .* from 1 to 5",
        ),
        (
            lambda: CRF(3).decode(torch.randn(2, 4, 3), torch.tensor([0, 1])),
            ValueError,
            r"lengths must lie in 1..4 .* from 0 to 1",
        ),
        (
            lambda: CRF(3).decode(torch.randn(2, 4, 3), torch.tensor([4])),
            ValueError,
            r"lengths must have one entry per sequence \(2,\)",
        ),
        (
            lambda: CRF(3).score(torch.randn(2, 4, 3), torch.zeros(2, 3, dtype=torch.long), None),
            ValueError,
            r"tags must have shape \(batch, time\) = \(2, 4\), got \(2, 3\)",
        ),
        (
            lambda: CRF(3).score(torch.randn(1, 2, 3), torch.tensor([[0, 3]]), None),
            ValueError,
            "tags at real steps must lie in 0..2, got values from 0 to 3",
        ),
        (
            lambda: CRF(3).score(torch.randn(1, 2, 3), torch.zeros(1, 2), None),
            TypeError,
            "tags must hold integer tag ids",
        ),
    ],
)
def test_bad_arguments_are_named(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_forward_step_stays_exact_where_the_matrix_product_underflows():
    # Tag 0's only permitted predecessor lies 100 nats below the best tag: exp(-100) is subnormal in float32.
    alpha = torch.tensor([[0.0, -100.0]], requires_grad=True)
    transitions = torch.tensor([[FORBIDDEN_SCORE, 0.0], [0.0, 0.0]], requires_grad=True)
    result = _log_matmul_exp(alpha, transitions)
    torch.testing.assert_close(result, torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1))
    assert result[0, 0].item() == pytest.approx(-100.0)
    result.sum().backward()
    assert torch.isfinite(alpha.grad).all() and torch.isfinite(transitions.grad).all()


def test_log_partition_in_float32_agrees_with_float64_at_large_score_gaps():
    crf = random_crf(4, constrained=True).float()
    emissions = 200 * torch.randn(8, 6, 4)
    expected = crf.double().log_partition(emissions.double(), None)
    torch.testing.assert_close(crf.float().log_partition(emissions, None).double(), expected, rtol=1e-6, atol=1e-3)


def test_mixed_precision_keeps_float32_sums():
    crf = random_crf(8).float()
    emissions = torch.randn(4, 20, 8)
    expected = crf.log_partition(emissions, None)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.testing.assert_close(crf.log_partition(emissions, None), expected)
    tags = torch.randint(0, 8, (4, 20))
    half = emissions.bfloat16()  # what a linear layer under autocast emits: summed in float32 all the same
    torch.testing.assert_close(crf.log_likelihood(half, tags, None), crf.log_likelihood(half.float(), tags, None))
