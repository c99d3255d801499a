"""How far back a loss at the last step reaches: gradient norms against lag, per cell.

The loss is the adding problem's squared error at the last step (:mod:`lstmkit.diagnostics.memory`);
:func:`gradient_profile` (:mod:`lstmkit.diagnostics.gradient_lags`) measures one model, the studies here
compare cells, before and after training.

A tanh RNN multiplies the backward signal by ``diag(1 - h²) W_hhᵀ`` at each step, so its gradient
shrinks (or grows) geometrically; the LSTM's cell state is carried by ``c_t = f ⊙ c_{t-1} + …``, a path
that only the forget gate scales. :func:`exploding_demo` shows the other failure, a recurrent matrix
scaled up until gradients grow with lag, and what gradient clipping does to training then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from lstmkit.diagnostics.gradient_lags import THRESHOLD, GradientProfile, decay_lag, gradient_profile
from lstmkit.diagnostics.memory import (
    LSTM_INITS,
    TASKS,
    MemoryConfig,
    MemoryModel,
    check_cells,
    fit_memory_model,
    make_memory_model,
)

__all__ = [
    "GradientProfile",
    "GradientConfig",
    "gradient_profile",
    "decay_lag",
    "gradient_study",
    "exploding_demo",
    "plot_gradient_profiles",
    "plot_exploding",
]


@dataclass(frozen=True)
class GradientConfig:
    """Settings of :func:`gradient_study`: sequence length, model size, probe batch and the short training.

    ``train_steps`` updates of the adding problem at ``train_length`` (default: ``length``) make the
    "trained" profile. ``lstm_init`` is the LSTM's initialisation (see
    :class:`~lstmkit.diagnostics.memory.MemoryConfig`; the RNN and GRU keep torch's). Its default here is
    the common recipe, a forget-gate bias of 1.
    """

    length: int = 200
    hidden_size: int = 64
    batch_size: int = 32
    train_steps: int = 300
    train_length: int | None = None
    lr: float = 3e-3
    lstm_init: str = "forget-bias"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("length", "hidden_size", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 2:
                raise ValueError(f"{name} must be an int of at least 2, got {value!r}")
        if self.lstm_init not in LSTM_INITS:
            raise ValueError(f"lstm_init must be one of {LSTM_INITS}, got {self.lstm_init!r}")
        if not isinstance(self.train_steps, int) or self.train_steps < 0:
            raise ValueError(f"train_steps must be a non-negative int, got {self.train_steps!r}")

    def memory_config(self) -> MemoryConfig:
        return MemoryConfig(
            hidden_size=self.hidden_size,
            steps=max(self.train_steps, 1),
            batch_size=self.batch_size,
            lr=self.lr,
            lstm_init=self.lstm_init,
            eval_every=max(self.train_steps, 1),
            test_size=256,
            seed=self.seed,
        )


def gradient_study(
    cells: Sequence[str], config: GradientConfig = GradientConfig(), *, progress: Callable[[str], None] | None = None
) -> list[GradientProfile]:
    """Profiles of every cell at initialisation and, if ``config.train_steps``, after that much training."""
    task = TASKS["adding"]
    probe = task.make_batch(config.length, config.batch_size, torch.Generator().manual_seed(30_000 + config.seed))
    memory_config = config.memory_config()
    profiles = []
    for cell in check_cells(cells):
        torch.manual_seed(config.seed)
        model = make_memory_model(task, cell, memory_config, config.train_length or config.length)
        profiles.append(gradient_profile(model, *probe, stage="init"))
        if config.train_steps:
            if progress is not None:
                progress(f"training {cell} for {config.train_steps} steps")
            fit_memory_model(model, task, config.train_length or config.length, memory_config, stop_at_threshold=False)
            profiles.append(gradient_profile(model, *probe, stage="trained"))
    return profiles


@dataclass
class ClippingRun:
    """One short SGD run of :func:`exploding_demo`: per-update loss and gradient norm before clipping."""

    clip_norm: float
    loss: list[float]
    grad_norm: list[float]
    diverged: bool

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ExplodingResult:
    """A scaled-up recurrent matrix: its gradient profile at initialisation and SGD with/without clipping."""

    cell: str
    recurrent_scale: float
    profile: GradientProfile
    runs: list[ClippingRun]

    def to_dict(self) -> dict:
        return {
            "cell": self.cell,
            "recurrent_scale": self.recurrent_scale,
            "profile": self.profile.to_dict(),
            "max_relative_norm": max(self.profile.relative()),
            "runs": [r.to_dict() for r in self.runs],
        }


def _scaled_model(cell: str, scale: float, config: GradientConfig) -> MemoryModel:
    torch.manual_seed(config.seed)
    model = make_memory_model(TASKS["adding"], cell, config.memory_config(), config.length)
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(scale)
    return model


def _sgd_run(model: MemoryModel, length: int, steps: int, lr: float, clip_norm: float, seed: int) -> ClippingRun:
    task = TASKS["adding"]
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    losses, norms = [], []
    for _ in range(steps):
        batch = task.make_batch(length, 32, generator)
        loss = task.loss(model(batch.inputs), batch.targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        # max_norm=inf measures the norm without changing anything.
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip_norm if clip_norm > 0 else float("inf"))
        losses.append(float(loss.detach()))
        norms.append(float(norm))
        if not (torch.isfinite(loss) and torch.isfinite(norm)):
            return ClippingRun(clip_norm, losses, norms, diverged=True)
        optimizer.step()
    return ClippingRun(clip_norm, losses, norms, diverged=False)


def exploding_demo(
    cell: str = "rnn",
    recurrent_scale: float = 3.0,
    config: GradientConfig = GradientConfig(),
    *,
    steps: int = 200,
    lr: float = 0.05,
    clip_norms: Sequence[float] = (0.0, 1.0),
    length: int = 50,
) -> ExplodingResult:
    """Multiply ``weight_hh`` by ``recurrent_scale`` at initialisation: gradients now grow with lag.

    The profile is taken on ``config.length`` steps; then the same scaled model is trained with plain
    SGD for ``steps`` updates on the adding problem at ``length``, once per entry of ``clip_norms``
    (0: no clipping). SGD, not Adam: Adam divides each update by a running gradient scale, which
    hides the size of the gradient that clipping is about.
    """
    check_cells([cell])
    if not recurrent_scale > 0:
        raise ValueError(f"recurrent_scale must be positive, got {recurrent_scale!r}")
    probe = TASKS["adding"].make_batch(
        config.length, config.batch_size, torch.Generator().manual_seed(30_000 + config.seed)
    )
    profile = gradient_profile(
        _scaled_model(cell, recurrent_scale, config), *probe, stage=f"init, W_hh x {recurrent_scale:g}"
    )
    runs = [
        _sgd_run(_scaled_model(cell, recurrent_scale, config), length, steps, lr, clip, config.seed)
        for clip in clip_norms
    ]
    return ExplodingResult(cell, recurrent_scale, profile, runs)


_SERIES_LABELS = {"inputs": "∂L/∂x_t", "hidden": "∂L/∂h_t", "cell_state": "∂L/∂c_t"}


def plot_gradient_profiles(profiles: Sequence[GradientProfile], path: str | Path) -> Path:
    """Relative gradient norm (log scale) against lag: one panel per stage, one line per cell.

    Solid lines are inputs, dashed lines hidden states, dotted lines the LSTM's cell state; the grey
    line marks the 1e-6 threshold of :func:`decay_lag`.
    """
    from lstmkit.plots import drawing, save, subplots

    if not profiles:
        raise ValueError("no gradient profiles to plot")
    stages = list(dict.fromkeys(p.stage for p in profiles))
    colours = {"rnn": "tab:red", "lstm": "tab:blue", "gru": "tab:green", "rnn_relu": "tab:orange"}
    styles = {"inputs": "-", "hidden": "--", "cell_state": ":"}
    with drawing():
        figure, panels = subplots(1, len(stages), figsize=(6 * len(stages), 4.2), squeeze=False)
        for axes, stage in zip(panels[0], stages):
            for profile in (p for p in profiles if p.stage == stage):
                for series, style in styles.items():
                    if getattr(profile, series):
                        lag = decay_lag(getattr(profile, series))
                        where = f"{lag}" if lag is not None else f"> {len(profile.inputs) - 1}"
                        axes.plot(
                            profile.relative(series),
                            linestyle=style,
                            color=colours.get(profile.cell),
                            label=f"{profile.cell} {_SERIES_LABELS[series]} (1e-6 at lag {where})",
                        )
            axes.axhline(THRESHOLD, color="grey", linewidth=0.8)
            axes.set_yscale("log")
            axes.set_ylim(bottom=1e-20)
            axes.set_xlabel("lag (steps before the last)")
            axes.set_ylabel("gradient norm / norm at lag 0")
            axes.set_title(f"gradient of the last-step loss: {stage}")
            axes.grid(alpha=0.3)
            axes.legend(fontsize=7)
        return save(figure, path)


def plot_exploding(result: ExplodingResult, path: str | Path) -> Path:
    """Left: gradient norm against lag for the scaled-up matrix; right: SGD loss with and without clipping."""
    from lstmkit.plots import drawing, save, subplots

    with drawing():
        figure, (left, right) = subplots(1, 2, figsize=(12, 4.2))
        left.plot(result.profile.relative("inputs"), label=_SERIES_LABELS["inputs"])
        left.plot(result.profile.relative("hidden"), linestyle="--", label=_SERIES_LABELS["hidden"])
        left.set_yscale("log")
        left.set_xlabel("lag (steps before the last)")
        left.set_ylabel("gradient norm / norm at lag 0")
        left.set_title(f"{result.cell}, W_hh x {result.recurrent_scale:g} at initialisation: exploding gradients")
        left.grid(alpha=0.3)
        left.legend()
        for run in result.runs:
            label = "no clipping" if run.clip_norm == 0 else f"clip norm {run.clip_norm:g}"
            right.plot(range(1, len(run.loss) + 1), run.loss, label=label + (" (diverged)" if run.diverged else ""))
        right.set_yscale("log")
        right.set_xlabel("SGD update")
        right.set_ylabel("training loss (MSE, adding problem)")
        right.set_title("the same model trained with plain SGD")
        right.grid(alpha=0.3)
        right.legend()
        return save(figure, path)


def diagnose_gradients(
    cells: Sequence[str],
    config: GradientConfig,
    out_dir: str | Path,
    *,
    exploding_cell: str = "rnn",
    recurrent_scale: float = 3.0,
    sgd_steps: int = 200,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """The whole gradient diagnostic into ``out_dir``: ``gradients.png``, ``exploding.png``, ``gradients.json``.

    Returns what ``gradients.json`` holds: the settings, one row per (cell, stage) with the decay lags,
    the profiles, and the exploding-gradient demonstration.
    """
    from lstmkit.io import write_json

    out_dir = Path(out_dir)
    profiles = gradient_study(cells, config, progress=progress)
    if progress is not None:
        progress(
            f"exploding gradients: {exploding_cell} with W_hh x {recurrent_scale:g}, SGD with and without clipping"
        )
    exploding = exploding_demo(exploding_cell, recurrent_scale, config, steps=sgd_steps)
    summary = {
        "config": asdict(config),
        "threshold": THRESHOLD,
        "rows": [
            {
                "cell": p.cell,
                "stage": p.stage,
                "input_decay_lag": decay_lag(p.inputs),
                "hidden_decay_lag": decay_lag(p.hidden),
                "cell_state_decay_lag": decay_lag(p.cell_state) if p.cell_state else None,
                "relative_norm_at_lag_50": p.relative()[50] if len(p.inputs) > 50 else None,
            }
            for p in profiles
        ],
        "profiles": [p.to_dict() for p in profiles],
        "exploding": exploding.to_dict(),
        "figures": {
            "gradients": str(plot_gradient_profiles(profiles, out_dir / "gradients.png")),
            "exploding": str(plot_exploding(exploding, out_dir / "exploding.png")),
        },
    }
    write_json(out_dir / "gradients.json", summary)
    return summary
