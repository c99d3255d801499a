"""The shared task lifecycle, on a task small enough to train in a second."""

import json
from dataclasses import dataclass, field

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from lstmkit.errors import RunDirectoryError
from lstmkit.tasks.registry import task_named
from lstmkit.tasks.runner import Built, Task, load_run, train_task
from lstmkit.train.config import TaskConfig, TrainConfig


@dataclass(frozen=True)
class MeanConfig(TaskConfig):
    width: int = 3
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=2, batch_size=8, monitor="loss", monitor_mode="min", progress=False)
    )


class MeanObjective:
    def loss(self, model, batch):
        return (model(batch["x"]) - batch["y"]).pow(2).mean()

    def eval_sums(self, model, batch):
        return {"loss": self.loss(model, batch) * len(batch["x"]), "count": torch.tensor(float(len(batch["x"])))}

    def summarize(self, sums):
        return {"loss": sums["loss"] / sums["count"]}

    def batch_size(self, batch):
        return len(batch["x"])


class MeanTask(Task):
    """Learn y = mean(x) with a linear layer; the baseline always answers 0."""

    name = "mean"
    config_class = MeanConfig
    prepared = 0

    def prepare(self, config, run_dir, resume):
        MeanTask.prepared += 1
        x = torch.randn(64, config.width, generator=torch.Generator().manual_seed(0))
        return [{"x": row, "y": row.mean(0, keepdim=True)} for row in x]

    def build(self, config, data):
        loader = DataLoader(data, batch_size=config.train.batch_size)
        return Built(
            nn.Linear(config.width, 1), MeanObjective(), loader, loader,
            payload={"model": {"width": config.width}},
            files={"notes.json": lambda path: path.write_text(json.dumps({"rows": len(data)}))},
        )  # fmt: skip

    def score(self, config, data, model, run_dir):
        with torch.no_grad():
            errors = [float((model(row["x"]) - row["y"]).pow(2)) for row in data]
        return {"model": {"mse": sum(errors) / len(errors)}, "baselines": {"zero": {"mse": 0.1}}}

    def load(self, run_dir):
        return run_dir


def test_train_task_writes_the_run_and_guards_it(tmp_path):
    run = tmp_path / "run"
    result = train_task(MeanTask(), MeanConfig(), run)
    assert result.metrics["task"] == "mean" and result.metrics["epochs"] == 2
    assert {"model", "baselines", "train_seconds", "total_seconds"} <= set(result.metrics)
    saved = json.loads((run / "config.json").read_text())
    assert saved["task"] == "mean" and saved["config"]["width"] == 3 and saved["model"] == {"width": 3}
    assert json.loads((run / "notes.json").read_text()) == {"rows": 64}
    assert (run / "model.safetensors").is_file() and (run / "metrics.json").is_file()
    with pytest.raises(RunDirectoryError, match="already holds a run; pass --resume .* or --force"):
        train_task(MeanTask(), MeanConfig(), run)
    replaced = train_task(MeanTask(), MeanConfig(width=5), run, force=True)
    assert json.loads((run / "config.json").read_text())["config"]["width"] == 5
    assert replaced.metrics["model"]["mse"] >= 0


def test_resume_reads_the_saved_config_back(tmp_path):
    run = tmp_path / "run"
    train_task(MeanTask(), MeanConfig(width=4), run)
    resumed = train_task(MeanTask(), MeanConfig(width=99), run, resume=True)  # the saved config wins
    assert json.loads((run / "config.json").read_text())["config"]["width"] == 4
    assert resumed.metrics["epochs"] == 2


def test_resume_refuses_a_given_setting_that_differs_from_the_runs(tmp_path):
    # The options a command line gave again (``given``) must match the run's: a run is never continued
    # with a setting other than the one asked for without a word. Display-only fields may differ.
    run = tmp_path / "run"
    train_task(MeanTask(), MeanConfig(width=4), run)
    with pytest.raises(ValueError, match="width 99 differs from the 4 the run was started with"):
        train_task(MeanTask(), MeanConfig(width=99), run, resume=True, given={"width"})
    longer = MeanConfig(width=4, train=TrainConfig(epochs=5, batch_size=8, monitor="loss", monitor_mode="min"))
    with pytest.raises(ValueError, match="epochs 5 differs from the 2"):
        train_task(MeanTask(), longer, run, resume=True, given={"epochs", "width"})
    shown = MeanConfig(width=4, train=TrainConfig(epochs=2, batch_size=8, monitor="loss", monitor_mode="min"))
    assert shown.train.progress != MeanConfig().train.progress  # given, yet display-only
    assert train_task(MeanTask(), shown, run, resume=True, given={"width", "epochs", "progress"}).metrics


def test_a_check_refuses_a_config_before_any_data_is_read(tmp_path):
    class Picky(MeanTask):
        def check(self, config):
            raise RunDirectoryError("width 3 is not allowed")

    before = MeanTask.prepared
    with pytest.raises(RunDirectoryError, match="width 3"):
        train_task(Picky(), MeanConfig(), tmp_path / "run")
    assert MeanTask.prepared == before and not (tmp_path / "run").exists()


def test_load_run_follows_the_task_its_config_names(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"task": "nonsense", "format_version": 1}))
    with pytest.raises(RunDirectoryError, match="unknown task 'nonsense': lstmkit has sentiment, translate"):
        load_run(tmp_path)
    assert task_named("lm").name == "lm"
    with pytest.raises(RunDirectoryError, match="run directory not found"):
        load_run(tmp_path / "missing")


class FailingScore(MeanTask):
    def score(self, config, data, model, run_dir):
        raise RuntimeError("killed while scoring")


def test_a_failed_force_retrain_keeps_the_old_run_and_resume_finishes_the_new_one(tmp_path):
    run = tmp_path / "run"
    train_task(MeanTask(), MeanConfig(width=3), run)
    old_weights = (run / "model.safetensors").read_bytes()
    with pytest.raises(RuntimeError, match="killed while scoring"):
        train_task(FailingScore(), MeanConfig(width=5), run, force=True)
    # The old run is whole and untouched; the new one waits beside it.
    assert json.loads((run / "config.json").read_text())["config"]["width"] == 3
    assert (run / "model.safetensors").read_bytes() == old_weights
    partial = tmp_path / ".run.partial"
    assert json.loads((partial / "config.json").read_text())["config"]["width"] == 5
    with pytest.raises(RunDirectoryError, match="already holds a run; pass --resume"):
        train_task(MeanTask(), MeanConfig(width=5), run)
    (partial / ".history.csv.123.tmp").write_text("half")  # a write a kill interrupted
    finished = train_task(MeanTask(), MeanConfig(width=99), run, resume=True)
    assert finished.run_dir == run and not partial.exists()
    assert json.loads((run / "config.json").read_text())["config"]["width"] == 5
    assert not list(run.rglob("*.tmp"))


def test_a_new_run_appears_only_when_complete(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(RuntimeError, match="killed while scoring"):
        train_task(FailingScore(), MeanConfig(), run)
    assert not run.exists()
    with pytest.raises(RunDirectoryError, match=r"unfinished run of .*run is in .*\.run\.partial; pass --resume"):
        train_task(MeanTask(), MeanConfig(), run)
    assert train_task(MeanTask(), MeanConfig(), run, force=True).metrics["epochs"] == 2 and run.is_dir()


def test_a_second_writer_and_an_out_that_is_a_file_are_refused(tmp_path):
    import fcntl

    run = tmp_path / "run"
    with open(tmp_path / ".run.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(RunDirectoryError, match="another process is writing .*run; wait for it"):
            train_task(MeanTask(), MeanConfig(), run)
    (tmp_path / "file").write_text("not a run")
    with pytest.raises(RunDirectoryError, match="--out .*file is a file, not a run directory"):
        train_task(MeanTask(), MeanConfig(), tmp_path / "file")
