"""The LTSF protocol (lstmkit.data.ltsf) and its training loop (tasks.forecast.ltsf), on small synthetic series."""

import numpy as np
import pytest
import torch
from torch import nn

from lstmkit.data.ltsf import LtsfWindows, choose_split, describe_split, ett_rows_per_month, ltsf_split
from lstmkit.tasks.forecast.ltsf import LtsfTrainConfig, fit_ltsf, model_forecaster, score_ltsf


def _series(length: int = 400, columns: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    steps = np.arange(length)[:, None]
    return 10 + np.sin(2 * np.pi * steps / 24 + np.arange(columns)) * 3 + rng.normal(0, 0.3, (length, columns))


def test_ett_split_is_12_4_4_months_with_val_and_test_starting_one_lookback_early():
    split = ltsf_split(17420, 96, ett_rows_per_month("h"))
    assert split.stops == (8640, 8640 + 2880, 8640 + 2 * 2880)
    assert split.starts == (0, 8640 - 96, 8640 + 2880 - 96)
    # the first target of val and test is the first row after their boundary
    assert split.origins("val", 96)[0] == 8640 and split.origins("test", 192)[0] == 11520
    assert split.origins("test", 192)[-1] + 192 == 14400
    assert ett_rows_per_month("15min") == 4 * 720


def test_the_split_is_chosen_by_frequency_and_size_not_by_name():
    assert choose_split("auto", "h", 17420) == 720 and choose_split("auto", "15min", 69680) == 2880
    # hourly but far from ETT's 20-25 months, or not hourly at all: the proportional split
    assert choose_split("auto", "h", 14399) is None and choose_split("auto", "h", 18001) is None
    assert choose_split("auto", "30min", 17420) is None and choose_split("auto", "D", 17420) is None
    assert choose_split("ett", "h", 1000) == 720 and choose_split("ratio", "h", 17420) is None
    assert describe_split(720) == "ett (12/4/4 months of 720 rows)" and describe_split(None) == "ratio (70/10/20 %)"
    with pytest.raises(
        ValueError, match="split: the ETT split counts 30-day months of sub-daily rows, got a series at 'MS'"
    ):
        choose_split("ett", "MS", 300)
    with pytest.raises(ValueError, match="split must be one of"):
        choose_split("months", "h", 300)


def test_other_series_split_70_10_20_and_short_parts_are_refused():
    split = ltsf_split(1000, 24)
    assert split.stops == (700, 800, 1000) and split.starts == (0, 676, 776)
    with pytest.raises(ValueError, match="lookback must be shorter"):
        ltsf_split(1000, 100)
    with pytest.raises(ValueError, match="needs 14400 rows"):
        ltsf_split(10000, 96, 720)
    with pytest.raises(ValueError, match="part must be one of"):
        split.origins("holdout", 4)


def test_every_test_row_is_a_target_and_every_origin_is_scored_once():
    split = ltsf_split(400, 24)
    horizon = 12
    origins = split.origins("test", horizon)
    assert len(origins) == len(set(origins.tolist())) == (400 - 320) - horizon + 1
    targets = np.unique(np.concatenate([np.arange(o, o + horizon) for o in origins]))
    np.testing.assert_array_equal(targets, np.arange(320, 400))
    windows = LtsfWindows(_series(), split)
    seen = []

    def spy(past):
        seen.extend(past[:, -1, 0].tolist())
        return past[:, -horizon:]

    scores = score_ltsf(spy, windows, "test", horizon, batch_size=7)
    assert scores["origins"] == len(origins)
    np.testing.assert_allclose(seen, windows.scaled[origins - 1, 0])


def test_quantile_forecasts_score_their_median_and_the_coverage_of_their_interval():
    windows = LtsfWindows(_series(), ltsf_split(400, 24))

    def repeat(past):
        return past[:, -12:]

    def quantiles(past):  # (N, H, C, 3), given out of order: the scorer sorts them
        return np.stack([repeat(past) + 100, repeat(past), repeat(past) - 100], axis=-1)

    point = score_ltsf(repeat, windows, "test", 12)
    scores = score_ltsf(quantiles, windows, "test", 12, point=1)
    assert scores["mse"] == pytest.approx(point["mse"]) and scores["coverage"] == 1.0 and "coverage" not in point
    narrow = score_ltsf(lambda past: np.stack([repeat(past)] * 2, axis=-1), windows, "test", 12)
    assert narrow["coverage"] == 0.0  # a zero-width interval holds no noisy value


def test_scaling_uses_train_rows_only():
    values = _series()
    split = ltsf_split(len(values), 24)
    windows = LtsfWindows(values, split)
    changed = values.copy()
    changed[split.stops[0] :] *= 100  # every val/test row (and the rows after them)
    other = LtsfWindows(changed, split)
    assert other.scaler == windows.scaler
    np.testing.assert_allclose(windows.scaled[: split.stops[0]].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(windows.scaled[: split.stops[0]].std(axis=0), 1, atol=1e-5)
    assert not np.allclose(other.scaled[split.stops[0] :], windows.scaled[split.stops[0] :])


def test_batch_holds_the_windows_around_each_origin():
    values = _series()
    windows = LtsfWindows(values, ltsf_split(len(values), 24))
    origins = np.array([24, 100, 376])
    past, target = windows.batch(origins, 24)
    assert past.shape == (3, 24, 3) and target.shape == (3, 24, 3)
    for i, origin in enumerate(origins):
        np.testing.assert_array_equal(past[i], windows.scaled[origin - 24 : origin])
        np.testing.assert_array_equal(target[i], windows.scaled[origin : origin + 24])


def test_fit_keeps_the_best_validation_epoch_and_beats_the_untrained_model():
    values = _series()
    windows = LtsfWindows(values, ltsf_split(len(values), 24))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(1), nn.Linear(24 * 3, 6 * 3), nn.Unflatten(1, (6, 3)))
    before = score_ltsf(model_forecaster(model), windows, "val", 6)["mse"]
    lines = []
    result = fit_ltsf(model, windows, 6, LtsfTrainConfig(epochs=4, batch_size=32, lr=1e-2, patience=2), lines.append)
    after = score_ltsf(model_forecaster(model), windows, "val", 6)["mse"]
    best = min(epoch["val_mse"] for epoch in result["epochs"])
    assert after == pytest.approx(best, rel=1e-6) and after < before / 2
    assert len(lines) == len(result["epochs"]) and lines[0].startswith("epoch 1:")
