"""What sequence tagging brings to the shared lifecycle (:mod:`lstmkit.tasks.runner`): tagged sentences
and their parts, the tagger and its loaders, and its scores (with a per-tag report and a confusion
matrix drawn into the run directory)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.runs import VOCAB
from lstmkit.tasks.runner import Built, Task
from lstmkit.tasks.tag.baselines import baseline_scores
from lstmkit.tasks.tag.config import NAME, TagConfig
from lstmkit.tasks.tag.data import (
    BIGRAMS,
    CHARS,
    DICTIONARY,
    TagData,
    batches,
    prepare_data,
    train_words,
    write_dictionary,
)
from lstmkit.tasks.tag.model import (
    build_network,
    draw_confusion,
    extra_inputs,
    network_name,
    tag_sentences,
    tagging_loss,
)
from lstmkit.tasks.tag.scores import score_tags

__all__ = ["TASK", "TaggingObjective", "PER_TAG_REPORT", "CONFUSION_PLOT"]

PER_TAG_REPORT = "per_tag.tsv"  # precision, recall, F1 and support of each tag on the test part
CONFUSION_PLOT = "confusion_matrix.png"
_EVAL_BATCH = 64


class TaggingObjective:
    """The tagger's own loss (the CRF's negative log-likelihood per sentence, or the softmax's cross-entropy
    per tag); validation reports it averaged over sentences, and the tag accuracy of the decoded tags."""

    def loss(self, model: nn.Module, batch: dict) -> Tensor:
        return tagging_loss(model, batch)

    def eval_sums(self, model: nn.Module, batch: dict) -> dict[str, Tensor]:
        emissions = model(batch["tokens"], batch["lengths"], **extra_inputs(batch))  # once, for tags and loss
        predicted = model.decode_emissions(emissions, batch["lengths"])
        gold = batch["tags"].tolist()
        correct = sum(p == g for row, gold_row in zip(predicted, gold) for p, g in zip(row, gold_row))
        return {
            "loss": model.emission_loss(emissions, batch["lengths"], batch["tags"]) * len(predicted),
            "sentences": torch.tensor(float(len(predicted))),
            "correct": torch.tensor(float(correct)),
            "tags": batch["lengths"].sum().float(),
        }

    def summarize(self, sums: dict[str, float]) -> dict[str, float]:
        return {"loss": sums["loss"] / sums["sentences"], "accuracy": sums["correct"] / sums["tags"]}

    def batch_size(self, batch: dict) -> int:
        return len(batch["lengths"])


def write_per_tag_report(report: dict[str, dict[str, float]], path: Path) -> Path:
    """``report`` (tag -> precision, recall, f1, support) as a TSV, one tag a line."""
    from lstmkit.io import atomic_write

    lines = ["tag\tprecision\trecall\tf1\tsupport"]
    lines += [
        f"{tag}\t{r['precision']:.4f}\t{r['recall']:.4f}\t{r['f1']:.4f}\t{r['support']}" for tag, r in report.items()
    ]
    return atomic_write(path, lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n", encoding="utf-8"))


class TagTask(Task):
    name = NAME
    config_class = TagConfig

    def prepare(self, config: TagConfig, run_dir: Path, resume: bool) -> TagData:
        return prepare_data(config, run_dir, resume)

    def build(self, config: TagConfig, data: TagData) -> Built:
        model, model_config = build_network(config, data.encoder, data.tag_names, data.scheme)
        train, encoder = config.train, data.encoder
        files = {VOCAB: encoder.vocab.to_json}
        if encoder.bigram_vocab:
            files[BIGRAMS] = encoder.bigram_vocab.to_json
        if encoder.char_vocab:
            files[CHARS] = encoder.char_vocab.to_json
        if encoder.dictionary is not None:
            files[DICTIONARY] = partial(write_dictionary, encoder.dictionary)
        return Built(
            model=model,
            objective=TaggingObjective(),
            train_loader=batches(data.parts["train"], data, train.batch_size, max_length=config.max_length,
                                 shuffle=True, seed=train.seed),
            val_loader=batches(data.parts["val"], data, _EVAL_BATCH, max_length=config.max_length, shuffle=False),
            payload={
                "data_name": data.name,
                "scheme": data.scheme,
                "characters": data.characters,
                "tag_names": data.tag_names,
                "model": model_config.to_dict(),
            },
            files=files,
        )  # fmt: skip

    def score(self, config: TagConfig, data: TagData, model: nn.Module, run_dir: Path) -> dict[str, Any]:
        """The tagger's test scores (with a per-tag report and a confusion PNG in ``run_dir``) and, with
        ``baselines``, each baseline's on the same sentences."""
        train, test = data.parts["train"], data.parts["test"]
        words = train_words(train)
        predicted = tag_sentences(model, data.encoder, data.tag_names, test.tokens)
        scores = score_tags(test.tokens, test.tags, predicted, data.scheme, data.characters, words)
        write_per_tag_report(scores["per_tag"], run_dir / PER_TAG_REPORT)
        name = network_name(config, data.characters)
        draw_confusion(test, predicted, run_dir / CONFUSION_PLOT, f"{data.name} test, {name}")
        baselines = baseline_scores(train, test, words) if config.baselines else {}
        return {
            "data": {"name": data.name, "scheme": data.scheme, **data.sizes()},
            "model": {"name": name, **scores},
            "baselines": baselines,
        }

    def load(self, run_dir: Path):
        from lstmkit.tasks.tag.model import Tagger

        return Tagger(run_dir)


TASK = TagTask()
