"""LTSF baselines (lstmkit.baselines.ltsf): repeat-last, seasonal repeat, least-squares linear, DLinear."""

import numpy as np
import pytest
import torch

from lstmkit.baselines.ltsf import DLinear, LinearLeastSquares, moving_average, repeat_last, seasonal_repeat
from lstmkit.data.ltsf import LtsfWindows, ltsf_split
from lstmkit.tasks.forecast.ltsf import score_ltsf


def test_repeat_last_and_seasonal_repeat():
    past = np.arange(2 * 8 * 2, dtype=np.float64).reshape(2, 8, 2)
    np.testing.assert_array_equal(repeat_last(past, 3), np.repeat(past[:, -1:], 3, axis=1))
    forecast = seasonal_repeat(past, 6, 4)
    # steps 0..3 repeat the last season (rows 4..7), steps 4..5 repeat it again (rows 4..5)
    np.testing.assert_array_equal(forecast, past[:, [4, 5, 6, 7, 4, 5]])
    with pytest.raises(ValueError, match="period must be in 1..lookback=8, got 9"):
        seasonal_repeat(past, 6, 9)


def test_least_squares_recovers_a_linear_series_and_beats_repeat_last():
    steps = np.arange(600, dtype=np.float64)
    values = np.stack([np.sin(2 * np.pi * steps / 12), np.cos(2 * np.pi * steps / 12)], axis=1)
    windows = LtsfWindows(values, ltsf_split(len(values), 24))
    model = LinearLeastSquares(ridge=0.0).fit(windows, 6, batch_size=50)
    scores = score_ltsf(model, windows, "test", 6)
    assert scores["mse"] < 1e-8  # a sinusoid is exactly a linear recurrence of its past
    assert score_ltsf(lambda p: repeat_last(p, 6), windows, "test", 6)["mse"] > 0.1
    with pytest.raises(ValueError, match="past must have 24 steps, got 12"):
        model(np.zeros((1, 12, 2)))


def test_moving_average_keeps_the_length_and_a_constant():
    past = torch.randn(2, 10, 3)
    trend = moving_average(past, 5)
    assert trend.shape == past.shape
    torch.testing.assert_close(trend[:, 4], past[:, 2:7].mean(dim=1))
    torch.testing.assert_close(moving_average(torch.full((1, 10, 1), 2.0), 25), torch.full((1, 10, 1), 2.0))
    with pytest.raises(ValueError, match="odd"):
        moving_average(past, 4)


def test_dlinear_starts_at_the_window_mean_and_maps_each_column_alone():
    model = DLinear(12, 4, kernel_size=5)
    past = torch.randn(3, 12, 2)
    with torch.no_grad():
        forecast = model(past)
        assert forecast.shape == (3, 4, 2)
        expected = past.mean(dim=1, keepdim=True) + model.trend.bias.view(1, 4, 1) + model.seasonal.bias.view(1, 4, 1)
        torch.testing.assert_close(forecast, expected.expand(-1, 4, -1), atol=1e-5, rtol=1e-5)
        changed = past.clone()
        changed[:, :, 1] += 5
        torch.testing.assert_close(model(changed)[:, :, 0], forecast[:, :, 0])
