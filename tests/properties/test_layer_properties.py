"""Properties of the layers (hypothesis): torch.nn parity on random small shapes, named errors on bad arguments."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from repeatable import repeatable

import lstmkit
from lstmkit import kernels
from lstmkit.selftest import CELLS, INPUTS, TOLERANCE, LayerCase, layer_parity

# -- layers against torch.nn ------------------------------------------------------------------------


@st.composite
def layer_cases(draw) -> LayerCase:
    """A small random configuration: T 1..6, B 1..4, I 1..5, H 1..5, 1-2 layers, every option."""
    cell = draw(st.sampled_from(CELLS))
    hidden_size = draw(st.integers(1, 5))
    inputs = draw(st.sampled_from(INPUTS))
    return LayerCase(
        cell=cell,
        num_layers=draw(st.integers(1, 2)),
        bidirectional=draw(st.booleans()),
        batch_first=inputs != "unbatched" and draw(st.booleans()),
        proj_size=draw(st.integers(0, hidden_size - 1)) if cell == "lstm" else 0,
        inputs=inputs,
        initial_state=draw(st.booleans()),
        steps=draw(st.integers(1, 6)),
        batch=draw(st.integers(1, 4)),
        input_size=draw(st.integers(1, 5)),
        hidden_size=hidden_size,
        bias=draw(st.booleans()),
    )


@pytest.mark.parametrize("backend", ["reference", "bptt", "compiled"])
@repeatable(examples=200)
@given(case=layer_cases(), seed=st.integers(0, 2**16))
def test_layers_match_torch_nn_on_random_shapes(backend, case, seed):
    if backend == "compiled" and not kernels.available():
        pytest.skip("the compiled kernels are not built")
    result = layer_parity(case, backend, seed)
    assert result.output_error <= TOLERANCE, result
    assert result.gradient_error <= TOLERANCE, result


# -- argument edges -----------------------------------------------------------------------------------

LAYERS = {"lstm": lstmkit.LSTM, "gru": lstmkit.GRU, "rnn": lstmkit.RNN}
BAD_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.int32, torch.int64, torch.bool, torch.complex128)
# Each fault: draw -> (the argument it names, input shape change, lengths) for a float64 layer on x (T, B, I).
BAD_LENGTHS = {
    "negative": lambda draw, steps, batch: [-draw(st.integers(0, 10))] * batch,
    "past the end": lambda draw, steps, batch: [steps + draw(st.integers(1, 10))] * batch,
    "wrong count": lambda draw, steps, batch: [steps] * draw(st.integers(0, 6).filter(lambda n: n != batch)),
    "floats": lambda draw, steps, batch: [float(steps)] * batch,
    "float tensor": lambda draw, steps, batch: torch.full((batch,), float(steps)),
    "bools": lambda draw, steps, batch: [True] * batch,
    "strings": lambda draw, steps, batch: [str(steps)] * batch,
    "one int": lambda draw, steps, batch: steps,
    "nested": lambda draw, steps, batch: [[steps]] * batch,
    "2-D tensor": lambda draw, steps, batch: torch.full((batch, 1), steps),
    "past int64": lambda draw, steps, batch: [draw(st.integers(2**63, 2**80))] * batch,
    "none": lambda draw, steps, batch: [None] * batch,
}
INPUT_FAULTS = ("dtype", "no steps", "no batch", "features", "rank", "h0")


def bad_call(draw, fault: str):
    """A random float64 layer and one call on it with ``fault``: ``(call, the argument's name)``."""
    cell = draw(st.sampled_from(sorted(LAYERS)))
    input_size, hidden_size = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    layer = LAYERS[cell](input_size, hidden_size, batch_first=draw(st.booleans()), dtype=torch.float64)
    steps, batch = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    shape = [batch, steps] if layer.batch_first else [steps, batch]
    x = torch.randn(*shape, input_size, dtype=torch.float64)
    if fault in BAD_LENGTHS:
        lengths = BAD_LENGTHS[fault](draw, steps, batch)
        return lambda: layer(x, lengths=lengths), "lengths"
    if fault == "dtype":
        wrong = x.to(draw(st.sampled_from(BAD_DTYPES)))
        return lambda: layer(wrong), "input"
    if fault in ("no steps", "no batch"):
        shape[int(layer.batch_first) if fault == "no steps" else 1 - int(layer.batch_first)] = 0
        return lambda: layer(torch.randn(*shape, input_size, dtype=torch.float64)), "input"
    if fault == "features":
        features = draw(st.integers(1, 6).filter(lambda n: n != input_size))
        return lambda: layer(torch.randn(*shape, features, dtype=torch.float64)), "input_size"
    if fault == "rank":
        dims = draw(st.sampled_from([0, 3])) * [2]  # 1-D or 4-D
        return lambda: layer(torch.randn(*dims, input_size, dtype=torch.float64)), "input"
    h0 = torch.zeros(1, batch + draw(st.integers(1, 3)), hidden_size, dtype=torch.float64)
    return lambda: layer(x, (h0, torch.zeros_like(h0)) if cell == "lstm" else h0), "h0" if cell == "lstm" else "hx"


@pytest.mark.parametrize("fault", [*INPUT_FAULTS, *BAD_LENGTHS])
@repeatable(examples=15)
@given(data=st.data())
def test_bad_arguments_raise_value_or_type_errors_naming_them(fault, data):
    call, argument = bad_call(data.draw, fault)
    with pytest.raises((ValueError, TypeError)) as caught:
        call()
    assert argument in str(caught.value)


@pytest.mark.parametrize(
    "lengths, error, message",
    [
        (5, TypeError, "lengths must be a sequence of ints or an integer tensor, got int"),  # was: 'int' not iterable
        ([2**64, 2], ValueError, r"lengths must lie in 1..5 .*from 2 to 18446744073709551616"),  # was: an overflow
    ],
)
def test_lengths_that_are_no_sequence_or_past_int64_are_named(lengths, error, message):
    with pytest.raises(error, match=message):
        lstmkit.LSTM(3, 4)(torch.randn(5, 2, 3), lengths=lengths)
