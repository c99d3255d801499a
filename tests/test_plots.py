"""lstmkit.plots: every figure is a PNG, drawn without touching the process's matplotlib, warning or
logging state; one CJK font helper that warns once."""

import math
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from lstmkit import plots
from lstmkit.plots import fonts, training

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHINESE_TOKENS = ["我", "爱", "你", "。"]


def _assert_png(path):
    data = path.read_bytes()
    assert len(data) > 1000
    assert data[:8] == PNG_MAGIC


def _draw_every_figure(out_dir, labels=("neg", "pos"), tokens=("Tom", "reads", ".")):
    """Each plot function once; returns the paths written."""
    rng = np.random.default_rng(0)
    stamps = np.arange("2024-01", "2026-01", dtype="datetime64[M]")
    values = np.sin(np.arange(len(stamps)) / 2.0)
    tail = stamps[-6:]
    band = [plots.ForecastWindow(tail, values[-6:] + 0.1, values[-6:] - 0.3, values[-6:] + 0.4)]
    attention = rng.dirichlet(np.ones(len(tokens)), size=len(tokens) + 1)
    panels = [
        plots.UnitHeatmap("l0 forget gate", rng.uniform(0, 1, (4, len(tokens))), gate=True),
        plots.UnitHeatmap("l0 cell state", rng.normal(size=(4, len(tokens))), gate=False),
    ]
    return [
        plots.plot_learning_curves({"train_loss": [1.0, 0.5], "val_accuracy": [0.6, 0.8]}, out_dir / "curves.png"),
        plots.plot_confusion_matrix([[3, 1], [0, 4]], labels, out_dir / "cm.png", title=" ".join(labels)),
        plots.plot_attention(attention, tokens, [*tokens, "</s>"], out_dir / "attention.png", title=" ".join(tokens)),
        plots.plot_unit_heatmaps(panels, tokens, [3, 1, 0, 2], out_dir / "gates.png", title=" ".join(tokens)),
        plots.plot_forecasts(stamps, values, band, out_dir / "forecast.png", title="f", value_label="y", split=tail[0]),
        plots.plot_error_by_length(
            {"lstm": [(50, 0.001), (100, 0.004)], "rnn": [(50, 0.17), (100, 0.17)]},
            out_dir / "memory.png",
            error_name="MSE",
            baseline=0.167,
            baseline_label="baseline (predict 1)",
            threshold=0.01,
            title="adding",
        ),
    ]


# -- every figure -----------------------------------------------------------------------------------


def test_every_plot_writes_a_png(tmp_path):
    paths = _draw_every_figure(tmp_path / "sub")
    assert len(paths) == 6
    for path in paths:
        assert path.parent == tmp_path / "sub"
        _assert_png(path)
    assert not list(tmp_path.rglob("*.tmp"))


def test_chinese_labels_draw_with_or_without_a_cjk_font(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the missing-font warning has its own test
        for path in _draw_every_figure(tmp_path, labels=["正面", "负面"], tokens=CHINESE_TOKENS):
            _assert_png(path)


def test_plot_confusion_matrix_checks_shape(tmp_path):
    with pytest.raises(ValueError, match="matrix must be 3x3"):
        plots.plot_confusion_matrix([[1, 0], [0, 1]], ["a", "b", "c"], tmp_path / "cm.png")


def test_plot_learning_curves_skips_nan_and_rejects_empty_history(tmp_path):
    history = {"train_loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7], "val_accuracy": [0.5, 0.65, math.nan]}
    _assert_png(plots.plot_learning_curves(history, tmp_path / "curves.png", "run"))
    with pytest.raises(ValueError, match="no values to plot"):
        plots.plot_learning_curves({"train_loss": []}, tmp_path / "empty.png")


def test_learning_curve_families_group_splits():
    assert training._metric_family("train_loss") == training._metric_family("val/loss") == "loss"
    assert training._metric_family("val_acc") == training._metric_family("train_accuracy") == "accuracy"
    assert training._metric_family("val_macro_f1") == "macro_f1"


def _axes_of_learning_curves(history, path, monkeypatch) -> list:
    """The axes of the figure ``plot_learning_curves`` draws, as saved (tick labels are made at the save)."""
    drawn = []

    def save_and_keep(figure, target):
        written = plots.save(figure, target)
        drawn.extend(figure.axes)
        return written

    monkeypatch.setattr(training, "save", save_and_keep)
    training.plot_learning_curves(history, path)
    return drawn


@pytest.mark.parametrize("epochs", [1, 2, 7, 40])
def test_learning_curves_tick_whole_epochs_and_label_their_axes(epochs, tmp_path, monkeypatch):
    history = {
        "train_loss": np.linspace(1, 0.2, epochs).tolist(),
        "val_accuracy": np.linspace(0.5, 0.9, epochs).tolist(),
    }
    panels = _axes_of_learning_curves(history, tmp_path / "curves.png", monkeypatch)
    assert len(panels) == 2
    for axes in panels:
        low, high = axes.get_xlim()
        shown = [tick.get_text() for tick, x in zip(axes.get_xticklabels(), axes.get_xticks()) if low <= x <= high]
        assert shown and all(text.isdigit() for text in shown), shown  # a 1-epoch curve once ticked 0.945 ... 1.050
        assert "1" in shown or epochs > 10
        assert axes.get_xlabel() == "epoch"
    assert [axes.get_ylabel() for axes in panels] == [
        "loss (training objective, lower is better)",
        "accuracy (fraction correct)",
    ]


# -- no process-wide state --------------------------------------------------------------------------


def _matplotlib_state() -> tuple:
    # dict.items reads the stored values: RcParams' own lookup of "backend" would resolve (and so change) it.
    settings = {key: value for key, value in dict.items(matplotlib.rcParams) if key != "backend"}
    return matplotlib.rcParams._get_backend_or_none(), settings, list(warnings.filters)


def test_plots_leave_rcparams_backend_and_warning_filters_as_they_were(tmp_path):
    before = _matplotlib_state()
    with warnings.catch_warnings(record=True):  # the record keeps the missing-font warning out of the report
        warnings.simplefilter("always")
        inner = _matplotlib_state()
        _draw_every_figure(tmp_path, labels=["正面", "负面"], tokens=CHINESE_TOKENS)
        assert _matplotlib_state() == inner
    assert _matplotlib_state() == before


def test_plots_never_import_pyplot_nor_choose_a_backend(tmp_path):
    script = (
        "import sys, matplotlib\n"
        "from pathlib import Path\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from test_plots import _draw_every_figure\n"
        "before = matplotlib.rcParams._get_backend_or_none()\n"
        "_draw_every_figure(Path(sys.argv[1]))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
        "assert matplotlib.rcParams._get_backend_or_none() == before, 'the backend changed'\n"
    )
    tests_dir = str(Path(__file__).parent)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path), tests_dir], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(list(tmp_path.glob("*.png"))) == 6


# -- the CJK font helper ----------------------------------------------------------------------------


@pytest.fixture
def no_cjk_font(monkeypatch):
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    fonts._warn_no_cjk_font.cache_clear()
    yield
    fonts._warn_no_cjk_font.cache_clear()


def test_a_missing_cjk_font_warns_once_per_process(no_cjk_font, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for attempt in range(3):
            plots.plot_confusion_matrix([[3, 1], [0, 4]], ["正面", "负面"], tmp_path / f"cm{attempt}.png", "混淆矩阵")
            plots.plot_attention(np.full((4, 4), 0.25), CHINESE_TOKENS, CHINESE_TOKENS, tmp_path / f"a{attempt}.png")
    messages = [str(w.message) for w in caught]
    font_warnings = [m for m in messages if "no CJK font" in m]
    assert len(font_warnings) == 1
    assert "fonts-noto-cjk" in font_warnings[0]
    assert not [m for m in messages if "Glyph" in m]  # matplotlib's per-glyph warnings are not repeated


def test_without_a_cjk_font_labels_are_spelled_by_code_point_and_latin_text_is_quiet(no_cjk_font, tmp_path):
    assert fonts.readable_labels(["你好", "ok", "é"]) == ["U+4F60 U+597D", "ok", "é"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.plot_confusion_matrix([[1, 0], [0, 1]], ["négatif", "positif"], tmp_path / "cm.png")
    assert not caught


def test_an_installed_cjk_font_follows_the_users_family(monkeypatch):
    monkeypatch.setattr(fonts, "cjk_font", lambda: "Noto Sans CJK SC")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fonts.font_family(CHINESE_TOKENS, ["serif"]) == ["serif", "Noto Sans CJK SC"]
        assert fonts.readable_labels(CHINESE_TOKENS) == CHINESE_TOKENS


def test_has_cjk():
    assert fonts.has_cjk("质量很好") and fonts.has_cjk("ｏｋ，") and not fonts.has_cjk("naïve café")
