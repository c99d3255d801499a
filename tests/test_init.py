"""Initialisation schemes."""

import math

import torch

import lstmkit
from lstmkit import init


def test_torch_default_bounds_and_layer_norm_gains():
    lstm = lstmkit.LSTM(5, 16, layer_norm=True)
    bound = 1 / math.sqrt(16)
    for name, p in lstm.named_parameters():
        if name.startswith("layer_norm_cell_bias"):
            assert torch.all(p == 0)
        elif name.startswith("layer_norm"):
            assert torch.all(p == 1)
        else:
            assert p.abs().max() <= bound and p.abs().max() > bound / 2


def test_xavier_with_orthogonal_recurrent_blocks():
    torch.manual_seed(0)
    lstm = lstmkit.LSTM(5, 8, bidirectional=True)
    init.xavier_(lstm)
    for name, p in lstm.named_parameters():
        if name.startswith("weight_hh"):
            for block in p.split(8):
                torch.testing.assert_close(block @ block.T, torch.eye(8), atol=1e-5, rtol=0)
        elif name.startswith("bias"):
            assert torch.all(p == 0)
        else:
            assert p.abs().max() <= math.sqrt(6 / (p.shape[0] + p.shape[1]))


def test_init_works_on_torch_modules_too():
    lstm = torch.nn.LSTM(3, 4)
    init.forget_bias_(lstm, 2.0)
    assert torch.all(lstm.bias_ih_l0[4:8] == 2.0) and torch.all(lstm.bias_hh_l0[4:8] == 0.0)
