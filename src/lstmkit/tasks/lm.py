"""Character language model end to end: text -> characters -> LSTM (``heads.LanguageModel``) ->
bits per character on held-out text beside unigram and interpolated trigram baselines -> sampling.

    from lstmkit.tasks import lm
    lm.train(lm.LMConfig(data="kjv"), "runs/lm")
    lm.load("runs/lm").generate("And God said", temperature=0.8, length=200)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from lstmkit.baselines.chars import TrigramModel, UnigramModel
from lstmkit.data import DATASETS, CharTokenizer, Vocab, list_datasets
from lstmkit.data.char_text import read_text_file, split_text
from lstmkit.errors import DataError, RunDirectoryError
from lstmkit.heads import EncoderConfig, LanguageModel, LanguageModelConfig
from lstmkit.io import load_weights, read_json, save_weights
from lstmkit.layers import detach_state
from lstmkit.runs import VOCAB, WEIGHTS, read_run_config, write_metrics, write_run_config
from lstmkit.streaming import Streaming
from lstmkit.train.config import TaskConfig, TrainConfig
from lstmkit.train.objectives import LanguageModelObjective

TASK = "lm"
_TOKENIZER = CharTokenizer(keep_spaces=True)


@dataclass(frozen=True)
class LMConfig(TaskConfig):
    """A character LM run; saved as ``config.json``. ``data`` is a registered text (``kjv``) or a
    UTF-8 file; ``max_chars`` keeps only its first characters (the split is taken after that)."""

    data: str = "kjv"
    max_chars: int | None = 1_000_000
    sequence_length: int = 128
    embedding_dim: int = 256
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float = 0.1
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=3, batch_size=64, lr=3e-3, patience=2, monitor="loss", monitor_mode="min", weight_decay=0.0
        )
    )

    def __post_init__(self) -> None:
        if self.sequence_length < 2:
            raise DataError(f"sequence_length must be at least 2, got {self.sequence_length}")
        if self.max_chars is not None and self.max_chars < 100:
            raise DataError(f"max_chars must be at least 100 or None, got {self.max_chars}")


@dataclass
class LMResult:
    run_dir: Path
    metrics: dict[str, Any]


def load_text(config: LMConfig) -> tuple[str, str]:
    """``(text, name)`` of ``config.data``, cut to ``max_chars``."""
    if config.data in DATASETS:
        info = DATASETS[config.data]
        if info.task != TASK:
            raise DataError(f"data set {config.data!r} is for the {info.task!r} task, not lm")
        text, name = info.loader(), info.name
    else:
        path = Path(config.data)
        if not path.is_file():
            known = ", ".join(info.name for info in list_datasets(TASK))
            raise DataError(f"--data {config.data!r} is neither a text file nor a language-model data set ({known})")
        text, name = read_text_file(path), path.name
    if config.max_chars is not None:
        text = text[: config.max_chars]
    return text, name


def _chunks(ids: list[int], length: int) -> list[list[int]]:
    """Consecutive pieces of ``length + 1`` ids overlapping by one, so every id but the first is a target once."""
    return [ids[start : start + length + 1] for start in range(0, max(len(ids) - 1, 1), length) if start + 1 < len(ids)]


def _loader(ids: list[int], length: int, batch_size: int, shuffle: bool, seed: int = 0) -> DataLoader:
    pieces = _chunks(ids, length)

    def collate(batch: list[list[int]]) -> dict:
        from lstmkit.data import pad_sequences

        tokens, lengths = pad_sequences(batch, 0)
        return {"tokens": tokens, "lengths": lengths}

    generator = torch.Generator().manual_seed(seed)
    return DataLoader(pieces, batch_size=batch_size, shuffle=shuffle, collate_fn=collate, generator=generator)


@torch.no_grad()
def bits_per_character(model: LanguageModel, ids: list[int], chunk: int = 256) -> float:
    """Mean ``-log2 P(c_t | c_<t)`` over ``ids[1:]``, reading the text in order with the state carried."""
    if len(ids) < 2:
        raise DataError(f"need at least 2 characters to score, got {len(ids)}")
    model.eval()
    tokens = torch.tensor(ids, dtype=torch.long).unsqueeze(0)
    state, total = None, 0.0
    for start in range(0, len(ids) - 1, chunk):
        inputs = tokens[:, start : start + chunk]
        targets = tokens[:, start + 1 : start + chunk + 1]
        logits, state = model(inputs, state=state)
        state = detach_state(state)
        logits = logits[:, : targets.shape[1]]
        total += torch.nn.functional.cross_entropy(logits[0], targets[0], reduction="sum").item()
    return total / (len(ids) - 1) / math.log(2)


def train(config: LMConfig, run_dir: str | Path, *, resume: bool = False, force: bool = False) -> LMResult:
    """Train a character LSTM on ``config.data``; report its test bits per character and the baselines'."""
    from lstmkit.train.engine import fit

    run_dir = Path(run_dir)
    if resume:
        config = LMConfig.from_dict(read_run_config(run_dir, TASK)["config"])
    elif (run_dir / "config.json").exists() and not force:
        raise RunDirectoryError(f"{run_dir} already holds a run; pass --resume to continue it or --force to replace it")
    started = time.perf_counter()
    text, name = load_text(config)
    train_text, val_text, test_text = split_text(text)
    vocab = Vocab.from_json(run_dir / VOCAB) if resume else Vocab.build([_TOKENIZER.tokenize(train_text)])
    train_ids, val_ids, test_ids = (
        vocab.encode(_TOKENIZER.tokenize(part)) for part in (train_text, val_text, test_text)
    )
    tie = config.embedding_dim == config.hidden_size
    model_config = LanguageModelConfig(
        EncoderConfig(
            vocab_size=len(vocab),
            embedding_dim=config.embedding_dim,
            hidden_size=config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=False,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        ),
        dropout=config.dropout,
        tie_weights=tie,
    )
    if not resume:
        vocab.to_json(run_dir / VOCAB)
        write_run_config(
            run_dir, TASK, {"config": config.to_dict(), "data_name": name, "model": model_config.to_dict()}
        )
    torch.manual_seed(config.train.seed)
    model = LanguageModel(model_config)
    train_loader = _loader(train_ids, config.sequence_length, config.train.batch_size, True, config.train.seed)
    val_loader = _loader(val_ids, config.sequence_length, 64, False)
    result = fit(model, LanguageModelObjective(), train_loader, val_loader, config.train, run_dir, resume=resume)
    save_weights(run_dir / WEIGHTS, model.state_dict())

    unigram = UnigramModel(train_ids, len(vocab))
    trigram = TrigramModel(train_ids, len(vocab))
    weights = trigram.tune(val_ids)
    metrics = {
        "task": TASK,
        "data": {"name": name, "train": len(train_ids), "val": len(val_ids), "test": len(test_ids)},
        "model": {
            "bpc": round(bits_per_character(model, test_ids), 4),
            "val_bpc": round(bits_per_character(model, val_ids), 4),
        },
        "baselines": {
            "unigram": {"bpc": round(unigram.bits_per_char(test_ids), 4)},
            "trigram": {"bpc": round(trigram.bits_per_char(test_ids), 4), "weights": list(weights)},
        },
        "vocab_size": len(vocab),
        "epochs": result.epochs,
        "train_seconds": round(result.seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    write_metrics(run_dir, metrics)
    return LMResult(run_dir, metrics)


class CharLM:
    """A trained character LM run (``load(run_dir)``): sampling and bits per character."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        saved = read_run_config(self.run_dir, TASK)
        self.config = LMConfig.from_dict(saved["config"])
        self.vocab = Vocab.from_json(self.run_dir / VOCAB)
        self.model = LanguageModel(LanguageModelConfig.from_dict(saved["model"]))
        if not (self.run_dir / WEIGHTS).is_file():
            raise RunDirectoryError(f"{self.run_dir} has no {WEIGHTS}: training did not finish (use --resume)")
        load_weights(self.run_dir / WEIGHTS, self.model)
        self.model.eval()

    @torch.no_grad()
    def generate(self, prime: str, temperature: float = 1.0, length: int = 200, seed: int | None = None) -> str:
        """``prime`` followed by ``length`` sampled characters (``temperature`` 0 takes the likeliest)."""
        if not isinstance(prime, str) or not prime:
            raise DataError("the prime is empty: give --prime at least one character to start from")
        if temperature < 0 or length < 0:
            raise DataError(f"--temperature and --length must not be negative, got {temperature} and {length}")
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        ids = self.vocab.encode(_TOKENIZER.tokenize(prime))
        logits, state = self.model(torch.tensor([ids]))
        scores = logits[0, -1]
        # After the prime, one character at a time: the recurrent stack streams, its state kept in place.
        stream = Streaming(self.model.encoder.rnn)
        stream.reset(state=state)
        out = []
        specials = len(self.vocab.specials())
        for _ in range(length):
            scores[:specials] = float("-inf")  # never emit <pad>/<unk>
            if temperature == 0:
                token = int(scores.argmax())
            else:
                token = int(torch.multinomial(torch.softmax(scores / temperature, -1), 1, generator=generator))
            out.append(self.vocab.tokens[token])
            hidden = stream.step(self.model.encoder.embedding(torch.tensor([token])))
            scores = self.model.logits(hidden)[0]
        return prime + "".join(out)

    def evaluate(self, data: str | None = None) -> dict[str, Any]:
        """Bits per character on the run's test text (with the baselines trained beside it) or on a file."""
        if data is None:
            _, _, test_text = split_text(load_text(self.config)[0])
            ids = self.vocab.encode(_TOKENIZER.tokenize(test_text))
            baselines = read_json(self.run_dir / "metrics.json").get("baselines", {})
            return {
                "data": f"{self.config.data} test",
                "characters": len(ids),
                "bpc": bits_per_character(self.model, ids),
                "baselines": baselines,
            }
        text = read_text_file(data)
        ids = self.vocab.encode(_TOKENIZER.tokenize(text))
        return {
            "data": Path(data).name,
            "characters": len(ids),
            "bpc": bits_per_character(self.model, ids),
            "baselines": {},
        }


def load(run_dir: str | Path) -> CharLM:
    return CharLM(run_dir)
