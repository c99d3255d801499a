"""The table of cell kinds and torch.nn's parameter names (lstmkit.cell_kinds)."""

import itertools

import pytest
import torch

import lstmkit
from lstmkit import bptt, kernels
from lstmkit import functional as LF
from lstmkit.cell_kinds import (
    CELL_KINDS,
    PARAMETER_ROLES,
    ParameterName,
    cell_kind,
    direction_suffix,
    parameter_name,
    parse_parameter_name,
)

# Each kind's lstmkit layer and torch.nn twin, built with the same arguments.
LAYERS = {
    "LSTM": (lstmkit.LSTM, torch.nn.LSTM, {}),
    "GRU": (lstmkit.GRU, torch.nn.GRU, {}),
    "RNN_TANH": (lstmkit.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "RNN_RELU": (lstmkit.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
}
SHAPES = [
    {"num_layers": layers, "bidirectional": bidirectional, "bias": bias}
    for layers, bidirectional, bias in itertools.product((1, 3), (False, True), (True, False))
]


@pytest.mark.parametrize("role", PARAMETER_ROLES)
@pytest.mark.parametrize("layer", [0, 1, 12])
@pytest.mark.parametrize("reverse", [False, True])
def test_parameter_names_round_trip(role, layer, reverse):
    name = parameter_name(role, layer, reverse)
    assert parse_parameter_name(name) == ParameterName(role, layer, reverse)
    assert name == role + direction_suffix(layer, reverse)


def test_parameter_names_are_torch_names():
    assert parameter_name("weight_hh", 1, True) == "weight_hh_l1_reverse"
    assert parameter_name("layer_norm_cell_bias", 0) == "layer_norm_cell_bias_l0"
    assert parse_parameter_name("layer_norm_cell_weight_l2") == ("layer_norm_cell_weight", 2, False)


@pytest.mark.parametrize(
    "name", ["weight_l0", "weight_ih_l", "weight_ih_l0_forward", "embedding.weight", "rnn.weight_ih_l0", "bias_xx_l0"]
)
def test_parse_rejects_other_names(name):
    with pytest.raises(ValueError, match="not a recurrent parameter name"):
        parse_parameter_name(name)


def test_building_a_name_rejects_an_unknown_role():
    with pytest.raises(ValueError, match="role must be one of"):
        parameter_name("weight_xy", 0)


@pytest.mark.parametrize("mode", CELL_KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_layers_of_every_kind_have_torch_names_and_shapes(mode, shape):
    ours_class, torch_class, options = LAYERS[mode]
    ours, theirs = ours_class(5, 6, **options, **shape), torch_class(5, 6, **options, **shape)
    assert ours.mode == theirs.mode == mode
    assert ours.cell_kind is cell_kind(mode)
    ours_shapes = {name: tuple(p.shape) for name, p in ours.named_parameters()}
    assert ours_shapes == {name: tuple(p.shape) for name, p in theirs.named_parameters()}
    for name in ours_shapes:
        parsed = parse_parameter_name(name)
        assert parameter_name(*parsed) == name
        assert parsed.layer < shape["num_layers"] and (not parsed.reverse or shape["bidirectional"])
    assert theirs.weight_ih_l0.shape[0] == cell_kind(mode).blocks * 6


def test_lstm_projection_and_layer_norm_names():
    theirs = torch.nn.LSTM(5, 6, num_layers=2, bidirectional=True, proj_size=3)
    ours = lstmkit.LSTM(5, 6, num_layers=2, bidirectional=True, proj_size=3)
    assert {n: p.shape for n, p in ours.named_parameters()} == {n: p.shape for n, p in theirs.named_parameters()}
    normed = lstmkit.LSTM(5, 6, num_layers=2, bidirectional=True, layer_norm=True)
    roles = {parse_parameter_name(name).role for name, _ in normed.named_parameters()}
    assert roles == set(PARAMETER_ROLES) - {"weight_hr"}


def test_the_table_holds_each_cells_functions():
    lstm, gru = CELL_KINDS["LSTM"], CELL_KINDS["GRU"]
    assert lstm.gates == LF.LSTM_GATES and lstm.has_cell_state and lstm.blocks == 4
    assert gru.gates == LF.GRU_GATES and not gru.has_cell_state and gru.blocks == 3
    assert CELL_KINDS["RNN_RELU"].blocks == 1 and CELL_KINDS["RNN_RELU"].name == "rnn_relu"
    assert gru.layer_function("reference") is LF.gru_sequence
    assert gru.layer_function("bptt") is bptt.gru_layer
    assert lstm.layer_function("compiled") is kernels.lstm_layer
    assert gru.options(lstmkit.GRU(2, 3, reset_after=False)) == {"reset_after": False}
    assert CELL_KINDS["RNN_RELU"].options(torch.nn.RNN(2, 3, nonlinearity="relu")) == {"nonlinearity": "relu"}


@pytest.mark.parametrize(
    ("layer", "name", "flag", "split_biases"),
    [
        (lstmkit.LSTM(2, 6), "lstm_step", 6, False),
        (lstmkit.LSTM(2, 6, proj_size=3), "lstm_step", 3, False),  # the step writes h at its projected width
        (lstmkit.GRU(2, 6), "gru_step", 1, True),
        (lstmkit.GRU(2, 6, reset_after=False), "gru_step", 0, True),
        (lstmkit.RNN(2, 6), "rnn_step", 0, False),
        (lstmkit.RNN(2, 6, nonlinearity="relu"), "rnn_step", 1, False),
    ],
)
def test_each_kind_names_its_compiled_step_and_its_flag(layer, name, flag, split_biases):
    step = layer.cell_kind.step
    assert (step.name, step.flag(layer), step.split_biases) == (name, flag, split_biases)


def test_gate_rows_follow_torch_gate_order():
    # With only the forget rows of the bias set high, the functional LSTM's forget gate alone saturates.
    rows = CELL_KINDS["LSTM"].gate_rows("forget", 3)
    assert rows == slice(3, 6)
    pre = torch.zeros(1, 12)
    pre[:, rows] = 50.0
    i, f, g, o = LF.lstm_gates(pre)
    assert torch.all(f > 0.99) and torch.all(i == 0.5) and torch.all(o == 0.5)
    with pytest.raises(ValueError, match="no gate 'forget'"):
        CELL_KINDS["GRU"].gate_rows("forget", 3)


def test_state_layouts_round_trip():
    h, c = torch.zeros(1, 2, 3), torch.ones(1, 2, 3)
    lstm, rnn = CELL_KINDS["LSTM"], CELL_KINDS["RNN_TANH"]
    assert lstm.as_hx((h, c)) == (h, c) and lstm.as_states((h, c)) == (h, c)
    assert rnn.as_hx((h,)) is h and rnn.as_states(h) == (h,)


def test_unknown_mode_names_the_choices():
    with pytest.raises(ValueError, match="mode must be one of .*'LSTM'.*got 'lstm'"):
        cell_kind("lstm")
