"""The segment recurrent forecaster (lstmkit.heads.segment_forecaster): shapes, causality, the parallel decoder."""

import pytest
import torch

from lstmkit.heads.segment_forecaster import (
    SegmentForecaster,
    SegmentForecasterConfig,
    denormalise_windows,
    normalise_windows,
)


def _model(cell: str = "gru", **kwargs) -> SegmentForecaster:
    torch.manual_seed(0)
    settings = {"lookback": 24, "horizon": 10, "channels": 3, "segment_length": 6, "hidden_size": 16, "dropout": 0.0}
    return SegmentForecaster(SegmentForecasterConfig(cell=cell, **{**settings, **kwargs})).eval()


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_shapes_and_layers(cell):
    model = _model(cell)
    forecast = model(torch.randn(5, 24, 3))
    assert forecast.shape == (5, 10, 3)  # 2 output segments of 6, the last one cut to 10 steps
    assert type(model.rnn).__name__ == cell.upper() and model.rnn.last_backend is not None
    with pytest.raises(ValueError, match=r"past must be \(B, 24, C\), got \(5, 12, 3\)"):
        model(torch.randn(5, 12, 3))
    with pytest.raises(ValueError, match="past must have 3 columns"):
        model(torch.randn(5, 24, 2))


@pytest.mark.parametrize("normalisation", ["last", "revin", "none"])
def test_forecast_reads_the_lookback_only_and_each_column_alone(normalisation):
    model = _model(normalisation=normalisation)
    series = torch.randn(2, 40, 3)
    forecast = model(series[:, :24])
    changed = series.clone()
    changed[:, 24:] += 7.0  # values after the origin
    torch.testing.assert_close(model(changed[:, :24]), forecast)
    changed[:, :24, 2] += 1.0  # channel independence: column 2's past moves column 2 only
    moved = model(changed[:, :24])
    torch.testing.assert_close(moved[..., :2], forecast[..., :2])
    assert not torch.allclose(moved[..., 2], forecast[..., 2])


def test_last_value_normalisation_makes_the_forecast_follow_a_shift():
    model = _model(normalisation="last")
    past = torch.randn(2, 24, 3)
    torch.testing.assert_close(model(past + 3.0), model(past) + 3.0)
    normalised, stats = normalise_windows(past, "revin")
    torch.testing.assert_close(denormalise_windows(normalised, stats), past)
    torch.testing.assert_close(normalised.mean(dim=1), torch.zeros(2, 3), atol=1e-5, rtol=0)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_parallel_decoder_equals_one_step_per_output_segment(cell):
    """The broadcast decoder step equals running the layer one step for each (series, segment) row."""
    model = _model(cell, horizon=12)
    past = torch.randn(2, 24, 3)
    segments = (past - past[:, -1:]).permute(0, 2, 1).reshape(6, 4, 6)
    _, state = model.rnn(model.segment_embedding(segments))
    inputs = model._decoder_inputs(3).expand(2, -1, -1, -1).reshape(12, 1, 16)  # (B*C*M, 1, d)

    def repeat(s):
        return s.repeat_interleave(2, dim=1)  # each series' state once per output segment

    state = (repeat(state[0]), repeat(state[1])) if cell == "lstm" else repeat(state)
    outputs, _ = model.rnn(inputs, state)
    expected = model.head(outputs[:, 0]).reshape(2, 3, 12).permute(0, 2, 1) + past[:, -1:]
    torch.testing.assert_close(model(past), expected, atol=1e-5, rtol=1e-5)


def test_config_checks():
    with pytest.raises(ValueError, match="lookback must be a multiple of segment_length=24, got 100"):
        SegmentForecasterConfig(lookback=100, horizon=96, channels=7)
    with pytest.raises(ValueError, match="cell must be one of"):
        SegmentForecasterConfig(lookback=96, horizon=96, channels=7, cell="rnn")
    config = SegmentForecasterConfig(lookback=96, horizon=720, channels=7)
    assert config.output_segments == 30
    assert SegmentForecasterConfig.from_dict(config.to_dict()) == config
    # without a channel embedding any number of columns is accepted
    assert _model(channel_embedding=False)(torch.randn(1, 24, 5)).shape == (1, 10, 5)


def test_quantile_outputs_move_with_the_window_and_keep_the_point_shape():
    quantiles = (0.1, 0.5, 0.9)
    model = _model(quantiles=quantiles)
    past = torch.randn(4, 24, 3)
    forecast = model(past)
    assert forecast.shape == (4, 10, 3, 3)
    # the "last" normalisation: shifting a window shifts every quantile of its forecast by the same amount
    torch.testing.assert_close(model(past + 5.0), forecast + 5.0)
    assert model.head.out_features == 6 * 3 and _model().head.out_features == 6


def test_window_forecaster_reads_each_column_of_the_lookback_alone():
    from lstmkit.heads.forecaster import ForecasterConfig, WindowForecaster

    for kind, quantiles, shape in (("direct", (), (2, 10, 3)), ("seq2seq", (0.1, 0.9), (2, 10, 3, 2))):
        torch.manual_seed(0)
        config = ForecasterConfig(1, 0, 10, kind=kind, hidden_size=8, dropout=0.0, quantiles=quantiles, residual=False)
        model = WindowForecaster(config).eval()
        past = torch.randn(2, 24, 3)
        forecast = model(past)
        assert forecast.shape == shape
        changed = past.clone()
        changed[:, :, 2] += torch.randn(2, 24)
        torch.testing.assert_close(model(changed)[:, :, :2], forecast[:, :, :2])
        assert not torch.allclose(model(changed)[:, :, 2], forecast[:, :, 2])
    with pytest.raises(ValueError, match="config must read one value per step"):
        WindowForecaster(ForecasterConfig(1, 0, 10, residual=True))
