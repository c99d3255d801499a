"""What translation brings to the shared lifecycle (:mod:`lstmkit.tasks.runner`): sentence pairs and
both sides' vocabularies, the encoder-decoder and its loaders, and greedy and beam BLEU/chrF on the
test pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lstmkit.heads.seq2seq import Seq2Seq
from lstmkit.io import atomic_write
from lstmkit.runs import VOCAB
from lstmkit.tasks.runner import Built, Task
from lstmkit.tasks.translate.config import TranslateConfig
from lstmkit.tasks.translate.data import NAME, TranslateData, pair_loader, prepare_data
from lstmkit.tasks.translate.model import TEST_PAIRS, Translator
from lstmkit.tasks.translate.objective import TranslationObjective
from lstmkit.tasks.translate.sides import write_sides
from lstmkit.train.engine import evaluate_model

__all__ = ["TASK", "NAME"]

VALIDATION_BATCH = 128


class TranslateTask(Task):
    name = NAME
    config_class = TranslateConfig

    def prepare(self, config: TranslateConfig, run_dir: Path, resume: bool) -> TranslateData:
        return prepare_data(config, run_dir, resume)

    def build(self, config: TranslateConfig, data: TranslateData) -> Built:
        model_config = config.model_config(len(data.source.vocab), len(data.target.vocab))
        test_tsv = data.parts["test"].to_tsv()
        return Built(
            model=Seq2Seq(model_config),
            objective=TranslationObjective(config.label_smoothing),
            train_loader=pair_loader(
                data.encoded("train"), data.target.vocab, config.train.batch_size, True, config.train.seed
            ),
            val_loader=self._val_loader(data),
            payload={"data_name": data.name, "model": model_config.to_dict()},
            files={
                VOCAB: lambda path: write_sides(path, data.source, data.target),
                TEST_PAIRS: lambda path: atomic_write(path, lambda tmp: tmp.write_text(test_tsv, encoding="utf-8")),
            },
        )

    @staticmethod
    def _val_loader(data: TranslateData):
        return pair_loader(data.encoded("val"), data.target.vocab, VALIDATION_BATCH, False)

    def score(self, config: TranslateConfig, data: TranslateData, model: Seq2Seq, run_dir: Path) -> dict[str, Any]:
        """Greedy and beam BLEU/chrF of the encoder-decoder on the test pairs (writing its test
        translations and attention heatmap into the run), and its validation loss (the best epoch's:
        ``model`` holds the best weights)."""
        val_loss = evaluate_model(model, TranslationObjective(), self._val_loader(data))["loss"]
        scores = Translator(config, data.source, data.target, model, run_dir).score(
            data.parts["test"], write_translations=True
        )
        return {
            "data": {
                "name": data.name,
                "direction": f"{config.src}-{config.tgt}",
                "columns": data.columns,
                **{part: len(pairs) for part, pairs in data.parts.items()},
            },
            "model": {
                "attention": config.attention,
                "input_feeding": model.config.input_feeding,
                "bleu": scores["beam"]["bleu"],
                "chrf": scores["beam"]["chrf"],
                "greedy": scores["greedy"],
                "beam": scores["beam"],
                "beam_size": config.beam_size,
                "val_loss": round(val_loss, 4),
            },
            "baselines": {},
        }

    def load(self, run_dir: Path) -> Translator:
        return Translator.from_run(run_dir)


TASK = TranslateTask()
