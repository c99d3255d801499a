"""Machine translation end to end: sentence pairs -> tokenizers and vocabularies -> encoder–decoder
(context vector or attention) -> greedy and beam decoding -> BLEU/chrF -> a run directory -> translations.

    from lstmkit.tasks import translate
    config = translate.TranslateConfig(data="pairs.tsv", src="en", tgt="zh", attention="general")
    translate.train(config, "runs/en-zh")
    translator = translate.load("runs/en-zh")
    translator.translate(["I love you.", "Where is the station?"], beam_size=5)
"""

from __future__ import annotations

import functools
import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from lstmkit.data import (
    DATASETS,
    BucketBatchSampler,
    SubwordTokenizer,
    Vocab,
    list_datasets,
    make_tokenizer,
    pad_sequences,
)
from lstmkit.data.pairs import Pairs, PairSplit, guess_columns, prepare_pairs, read_pairs, split_pairs
from lstmkit.data.tokenize import tokenizer_from_config
from lstmkit.errors import DataError, RunDirectoryError
from lstmkit.heads.decoding import Hypothesis, beam_search, greedy_decode
from lstmkit.heads.seq2seq import ATTENTIONS, Seq2Seq, Seq2SeqConfig
from lstmkit.io import atomic_write, load_weights, read_json, save_weights, write_json
from lstmkit.runs import VOCAB, WEIGHTS, read_run_config, write_metrics, write_run_config
from lstmkit.train.config import TaskConfig, TrainConfig

TASK = "translate"
LANGUAGES_WITHOUT_SPACES = ("zh", "ja")
TOKENIZER_CHOICES = ("auto", "char", "word", "subword", "jieba")


@dataclass(frozen=True)
class TranslateConfig(TaskConfig):
    """Everything a translation run needs; saved as ``config.json`` in the run directory.

    ``data`` is a registered data set (``lstmkit data list --task translate``) or a TSV file of
    ``first<TAB>second[<TAB>attribution]`` lines; ``columns`` names the file's two languages
    (``"en,zh"``), guessed from the script when Chinese is one side, else taken as ``src,tgt``.
    Tokenizers ``"auto"``: characters for Chinese, words for other languages; ``"subword"`` trains a
    WordPiece vocabulary of ``subword_vocab_size`` on the training part. Pairs with more than
    ``max_length`` tokens on either side are left out of every part.
    """

    data: str = "bible-en-es"
    src: str = "en"
    tgt: str = "es"
    columns: str | None = None
    source_tokenizer: str = "auto"
    target_tokenizer: str = "auto"
    subword_vocab_size: int = 8000
    min_freq: int = 2
    max_length: int = 30
    max_pairs: int | None = None
    embedding_dim: int = 256
    hidden_size: int = 256
    num_layers: int = 1
    bidirectional: bool = True
    attention: str = "general"
    input_feeding: bool = True
    dropout: float = 0.2
    embedding_dropout: float = 0.1
    label_smoothing: float = 0.1
    beam_size: int = 5
    length_penalty: float = 1.0
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=10, batch_size=64, lr=2e-3, patience=3, monitor="loss", monitor_mode="min", weight_decay=0.0
        )
    )

    def __post_init__(self) -> None:
        if self.attention not in ATTENTIONS:
            raise DataError(f"--attention must be one of {', '.join(ATTENTIONS)}, got {self.attention!r}")
        for name in ("source_tokenizer", "target_tokenizer"):
            if getattr(self, name) not in TOKENIZER_CHOICES:
                raise DataError(f"{name} must be one of {', '.join(TOKENIZER_CHOICES)}, got {getattr(self, name)!r}")
        if self.max_length < 1 or self.beam_size < 1:
            raise DataError(f"max_length and beam_size must be at least 1, got {self.max_length}, {self.beam_size}")

    def model_config(self, source_vocab: int, target_vocab: int) -> Seq2SeqConfig:
        return Seq2SeqConfig(
            source_vocab_size=source_vocab,
            target_vocab_size=target_vocab,
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            attention=self.attention,
            input_feeding=self.input_feeding and self.attention != "none",
            dropout=self.dropout,
            embedding_dropout=self.embedding_dropout,
        )


@dataclass
class TranslateResult:
    run_dir: Path
    metrics: dict[str, Any]


# -- data -------------------------------------------------------------------------------------------


def _parse_columns(columns: str) -> tuple[str, str]:
    parts = [part.strip() for part in columns.split(",")]
    if len(parts) != 2 or not all(parts):
        raise DataError(f"--columns must name the file's two languages like 'en,zh', got {columns!r}")
    return parts[0], parts[1]


def load_pairs(config: TranslateConfig) -> tuple[Pairs, str]:
    """All pairs of ``config.data`` oriented ``src -> tgt`` and de-duplicated, and the data's name."""
    if config.data in DATASETS:
        info = DATASETS[config.data]
        if info.task != TASK:
            raise DataError(f"data set {config.data!r} is for the {info.task!r} task, not translate")
        pairs, name = info.loader(), info.name
        if config.columns:
            pairs = Pairs(
                pairs.sources, pairs.targets, pairs.attributions, _parse_columns(config.columns), pairs.report
            )
    else:
        path = Path(config.data)
        if not path.is_file():
            known = ", ".join(info.name for info in list_datasets(TASK))
            raise DataError(f"--data {config.data!r} is neither a TSV file nor a translation data set ({known})")
        pairs, name = read_pairs(path), path.name
        columns = _parse_columns(config.columns) if config.columns else guess_columns(pairs, config.src, config.tgt)
        pairs = Pairs(pairs.sources, pairs.targets, pairs.attributions, columns, pairs.report)
    return prepare_pairs(pairs, config.src, config.tgt), name


@dataclass(frozen=True)
class SideEncoder:
    """One side's tokenizer and vocabulary (the target's has BOS/EOS), and how tokens join back."""

    tokenizer: Any
    vocab: Vocab
    language: str

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(text)

    def encode(self, text: str) -> list[int]:
        return self.vocab.encode(self.tokens(text))

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Tokens back to text: joined without spaces for Chinese, else with spaces before words only."""
        if self.language in LANGUAGES_WITHOUT_SPACES and self.tokenizer.name in ("char", "jieba"):
            return "".join(tokens)
        text = ""
        for token in tokens:
            if token.startswith("##"):
                text += token[2:]
            elif not text or re.fullmatch(r"[.,!?;:)\]}%'’”]", token) or text[-1] in "([{¿¡“$":
                text += token
            else:
                text += " " + token
        return text

    @property
    def lowercases(self) -> bool:
        return self.tokenizer.name == "subword" or bool(getattr(self.tokenizer, "lowercase", False))

    def to_dict(self) -> dict:
        return {"tokenizer": self.tokenizer.to_config(), "vocab": self.vocab.to_dict(), "language": self.language}

    @classmethod
    def from_dict(cls, data: dict) -> SideEncoder:
        return cls(tokenizer_from_config(data["tokenizer"]), Vocab.from_dict(data["vocab"]), data["language"])


def _make_side(name: str, language: str, texts: Sequence[str], config: TranslateConfig, target: bool) -> SideEncoder:
    if name == "subword":
        tokenizer = SubwordTokenizer.train(texts, config.subword_vocab_size, model="wordpiece")
    else:
        tokenizer = make_tokenizer(name if name != "auto" or language in ("zh", "en") else "word", language)
    vocab = Vocab.build((tokenizer.tokenize(t) for t in texts), min_freq=config.min_freq, bos_eos=target)
    return SideEncoder(tokenizer, vocab, language)


def _within_length(pairs: Pairs, source: SideEncoder, target: SideEncoder, max_length: int) -> Pairs:
    keep = [
        i
        for i, (s, t) in enumerate(zip(pairs.sources, pairs.targets))
        if 0 < len(source.tokens(s)) <= max_length and 0 < len(target.tokens(t)) <= max_length
    ]
    return pairs.subset(keep)


class PairDataset(torch.utils.data.Dataset):
    def __init__(self, sources: list[list[int]], targets: list[list[int]]) -> None:
        self.sources, self.targets = sources, targets

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, index: int) -> tuple[list[int], list[int]]:
        return self.sources[index], self.targets[index]


def collate_pairs(batch, bos: int, eos: int) -> dict[str, Tensor]:
    """``(source ids, target ids)`` pairs -> padded ``source (B, S)``, ``source_lengths``, and
    ``target_inputs`` (BOS + target) / ``target_outputs`` (target + EOS), ``(B, T + 1)`` with ``target_lengths``."""
    source, source_lengths = pad_sequences([s for s, _ in batch], 0)
    target_inputs, target_lengths = pad_sequences([[bos, *t] for _, t in batch], 0)
    target_outputs, _ = pad_sequences([[*t, eos] for _, t in batch], 0)
    return {
        "source": source,
        "source_lengths": source_lengths,
        "target_inputs": target_inputs,
        "target_outputs": target_outputs,
        "target_lengths": target_lengths,
    }


def _loader(sources, targets, target_vocab: Vocab, batch_size: int, shuffle: bool, seed: int = 0) -> DataLoader:
    dataset = PairDataset(sources, targets)
    lengths = [max(len(s), len(t)) for s, t in zip(sources, targets)]
    sampler = BucketBatchSampler(lengths, batch_size, shuffle=shuffle, seed=seed)
    collate = functools.partial(collate_pairs, bos=target_vocab.bos_index, eos=target_vocab.eos_index)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate)


class TranslationObjective:
    """Label-smoothed cross-entropy of the next target token (teacher forcing), padding left out;
    validation reports the plain per-token loss and perplexity."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        self.label_smoothing = label_smoothing

    def _logits(self, model: nn.Module, batch: dict) -> tuple[Tensor, Tensor, Tensor]:
        logits = model(batch["source"], batch["source_lengths"], batch["target_inputs"])
        mask = batch["target_outputs"] != 0
        return logits[mask], batch["target_outputs"][mask], mask

    def loss(self, model: nn.Module, batch: dict) -> Tensor:
        logits, targets, _ = self._logits(model, batch)
        return F.cross_entropy(logits, targets, label_smoothing=self.label_smoothing)

    def eval_sums(self, model: nn.Module, batch: dict) -> dict[str, Tensor]:
        logits, targets, mask = self._logits(model, batch)
        return {"loss": F.cross_entropy(logits, targets, reduction="sum"), "tokens": mask.sum()}

    def summarize(self, sums: dict[str, float]) -> dict[str, float]:
        import math

        loss = sums["loss"] / max(sums["tokens"], 1)
        return {"loss": loss, "perplexity": math.exp(min(loss, 50))}

    def batch_size(self, batch: dict) -> int:
        return len(batch["source_lengths"])


# -- metrics ----------------------------------------------------------------------------------------


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str], target_language: str, lowercase: bool) -> dict:
    """Corpus BLEU (sacrebleu; its ``zh`` tokenizer for Chinese targets) and chrF, both 0-100."""
    import sacrebleu

    tokenize = "zh" if target_language == "zh" else "13a"
    bleu = sacrebleu.BLEU(tokenize=tokenize, lowercase=lowercase)
    chrf = sacrebleu.CHRF(lowercase=lowercase)
    refs = [list(references)]
    return {
        "bleu": round(bleu.corpus_score(list(hypotheses), refs).score, 2),
        "chrf": round(chrf.corpus_score(list(hypotheses), refs).score, 2),
    }


# -- train ------------------------------------------------------------------------------------------


def _split_and_encoders(config: TranslateConfig) -> tuple[PairSplit, SideEncoder, SideEncoder, str]:
    pairs, name = load_pairs(config)
    if config.max_pairs is not None:
        pairs = pairs.subset(range(min(config.max_pairs, len(pairs))))
    split = split_pairs(pairs)
    for part in ("train", "val", "test"):
        if len(getattr(split, part)) == 0:
            raise DataError(f"{name}: the {part} part of the split is empty; the data set is too small")
    source = _make_side(config.source_tokenizer, config.src, split.train.sources, config, target=False)
    target = _make_side(config.target_tokenizer, config.tgt, split.train.targets, config, target=True)
    return split, source, target, name


def train(
    config: TranslateConfig, run_dir: str | Path, *, resume: bool = False, force: bool = False
) -> TranslateResult:
    """Train an encoder–decoder on ``config.data`` into ``run_dir``; score greedy and beam on the test part."""
    from lstmkit.train.engine import fit

    run_dir = Path(run_dir)
    if resume:
        config = TranslateConfig.from_dict(read_run_config(run_dir, TASK)["config"])
    elif (run_dir / "config.json").exists() and not force:
        raise RunDirectoryError(f"{run_dir} already holds a run; pass --resume to continue it or --force to replace it")
    started = time.perf_counter()
    split, source, target, data_name = _split_and_encoders(config)
    if resume:
        saved = read_json(run_dir / VOCAB)
        source, target = SideEncoder.from_dict(saved["source"]), SideEncoder.from_dict(saved["target"])
    parts = {
        name: _within_length(getattr(split, name), source, target, config.max_length)
        for name in ("train", "val", "test")
    }
    for name, part in parts.items():
        if len(part) == 0:
            raise DataError(f"{data_name}: no {name} pair has at most {config.max_length} tokens per side")
    model_config = config.model_config(len(source.vocab), len(target.vocab))
    if not resume:
        write_json(run_dir / VOCAB, {"source": source.to_dict(), "target": target.to_dict()})
        write_run_config(
            run_dir, TASK, {"config": config.to_dict(), "data_name": data_name, "model": model_config.to_dict()}
        )
        atomic_write(run_dir / "test_pairs.tsv", lambda tmp: tmp.write_text(parts["test"].to_tsv(), encoding="utf-8"))

    torch.manual_seed(config.train.seed)
    model = Seq2Seq(model_config)

    def encode(part: Pairs) -> tuple[list[list[int]], list[list[int]]]:
        return [source.encode(s) for s in part.sources], [target.encode(t) for t in part.targets]

    train_loader = _loader(*encode(parts["train"]), target.vocab, config.train.batch_size, True, config.train.seed)
    val_loader = _loader(*encode(parts["val"]), target.vocab, 128, False)
    result = fit(
        model,
        TranslationObjective(config.label_smoothing),
        train_loader,
        val_loader,
        config.train,
        run_dir,
        resume=resume,
    )
    save_weights(run_dir / WEIGHTS, model.state_dict())
    translator = Translator(run_dir)
    scores = translator.score(parts["test"], write_translations=True)
    best_val = min((row.get("val_loss", float("inf")) for row in result.history), default=None)
    metrics = {
        "task": TASK,
        "data": {
            "name": data_name,
            "direction": f"{config.src}-{config.tgt}",
            "train": len(parts["train"]),
            "val": len(parts["val"]),
            "test": len(parts["test"]),
        },
        "model": {
            "attention": config.attention,
            "input_feeding": model_config.input_feeding,
            "bleu": scores["beam"]["bleu"],
            "chrf": scores["beam"]["chrf"],
            "greedy": scores["greedy"],
            "beam": scores["beam"],
            "beam_size": config.beam_size,
            "val_loss": best_val,
        },
        "baselines": {},
        "epochs": result.epochs,
        "train_seconds": round(result.seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    write_metrics(run_dir, metrics)
    return TranslateResult(run_dir, metrics)


# -- using a run ------------------------------------------------------------------------------------


@dataclass
class Translation:
    text: str
    translation: str
    score: float
    source_tokens: list[str]
    target_tokens: list[str]
    attention: Tensor | None
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    truncated: bool = False


class Translator:
    """A trained translation run, loaded to translate and evaluate (``load(run_dir)``)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        saved = read_run_config(self.run_dir, TASK)
        self.config = TranslateConfig.from_dict(saved["config"])
        sides = read_json(self.run_dir / VOCAB)
        if not isinstance(sides, dict) or "source" not in sides or "target" not in sides:
            raise RunDirectoryError(f"{self.run_dir / VOCAB} has no source and target vocabularies")
        self.source = SideEncoder.from_dict(sides["source"])
        self.target = SideEncoder.from_dict(sides["target"])
        self.model = Seq2Seq(Seq2SeqConfig.from_dict(saved["model"]))
        if not (self.run_dir / WEIGHTS).is_file():
            raise RunDirectoryError(f"{self.run_dir} has no {WEIGHTS}: training did not finish (use --resume)")
        load_weights(self.run_dir / WEIGHTS, self.model)
        self.model.eval()

    def _decode(
        self, sources: list[list[int]], beam_size: int, n_best: int = 1, batch_size: int | None = None
    ) -> list[list[Hypothesis]]:
        batch_size = batch_size or (128 if beam_size == 1 else 32)
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
        results: list[list[Hypothesis]] = [[] for _ in sources]
        bos, eos = self.target.vocab.bos_index, self.target.vocab.eos_index
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            tokens, lengths = pad_sequences([sources[i] for i in chunk], 0)
            max_length = min(self.config.max_length + 10, 2 * int(lengths.max()) + 10)
            if beam_size == 1 and n_best == 1:
                found = [[h] for h in greedy_decode(self.model, tokens, lengths, bos, eos, max_length)]
            else:
                found = beam_search(
                    self.model, tokens, lengths, bos, eos, beam_size, max_length, self.config.length_penalty, n_best
                )
            for i, hypotheses in zip(chunk, found):
                results[i] = hypotheses
        return results

    def _source_ids(self, texts: Sequence[str]) -> tuple[list[list[str]], list[list[int]], list[bool]]:
        token_lists, ids, truncated = [], [], []
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"text {i + 1} is empty: nothing to translate")
            tokens = self.source.tokens(text)
            if not tokens:
                raise DataError(f"text {i + 1} has no tokens to translate: {text!r}")
            cut = len(tokens) > self.config.max_length
            if cut:
                warnings.warn(
                    f"text {i + 1} has {len(tokens)} tokens, more than the model's maximum length "
                    f"{self.config.max_length}: translating its first {self.config.max_length}",
                    stacklevel=3,
                )
                tokens = tokens[: self.config.max_length]
            token_lists.append(tokens)
            ids.append(self.source.vocab.encode(tokens))
            truncated.append(cut)
        return token_lists, ids, truncated

    def translate(self, texts: Sequence[str], beam_size: int | None = None, n_best: int = 1) -> list[Translation]:
        """Translate ``texts``; ``beam_size`` 1 is greedy (default: the run's ``beam_size``)."""
        beam_size = self.config.beam_size if beam_size is None else beam_size
        if beam_size < 1 or not 1 <= n_best <= beam_size:
            raise DataError(f"--beam must be at least 1 and --n-best between 1 and the beam, got {beam_size}, {n_best}")
        texts = list(texts)
        if not texts:
            return []
        token_lists, ids, truncated = self._source_ids(texts)
        results = []
        for text, tokens, cut, hypotheses in zip(texts, token_lists, truncated, self._decode(ids, beam_size, n_best)):
            best = hypotheses[0]
            target_tokens = self.target.vocab.decode(best.tokens, skip_specials=False)
            results.append(
                Translation(
                    text=text,
                    translation=self.target.detokenize(target_tokens),
                    score=best.score,
                    source_tokens=tokens,
                    target_tokens=target_tokens,
                    attention=best.attention,
                    alternatives=[
                        (self.target.detokenize(self.target.vocab.decode(h.tokens)), h.score) for h in hypotheses[1:]
                    ],
                    truncated=cut,
                )
            )
        return results

    def attention_heatmap(self, text: str, path: str | Path | None = None, beam_size: int | None = None) -> Path:
        """Translate ``text`` and draw its attention weights as a PNG (default ``attention_<n>.png`` in the run)."""
        from lstmkit.plots import plot_attention

        if self.model.attention is None:
            raise DataError(f"{self.run_dir} was trained without attention (--attention none): no weights to plot")
        result = self.translate([text], beam_size=beam_size)[0]
        path = Path(path) if path is not None else self.run_dir / "attention.png"
        rows = result.target_tokens + ["</s>"]
        weights = result.attention[: len(rows)]
        return plot_attention(weights, result.source_tokens, rows[: weights.shape[0]], path, title=result.translation)

    def score(self, pairs: Pairs, write_translations: bool = False) -> dict[str, dict[str, float]]:
        """BLEU and chrF of greedy and beam decoding against ``pairs.targets``."""
        _, ids, _ = self._source_ids(pairs.sources)
        out: dict[str, dict[str, float]] = {}
        outputs: dict[str, list[str]] = {}
        for name, beam in (("greedy", 1), ("beam", self.config.beam_size)):
            found = self._decode(ids, beam)
            outputs[name] = [self.target.detokenize(self.target.vocab.decode(h[0].tokens)) for h in found]
            out[name] = corpus_scores(outputs[name], pairs.targets, self.config.tgt, self.target.lowercases)
        if write_translations:
            lines = "".join(
                f"{s}\t{t}\t{g}\t{b}\t{a}\n"
                for s, t, g, b, a in zip(
                    pairs.sources, pairs.targets, outputs["greedy"], outputs["beam"], pairs.attributions
                )
            )
            header = "source\treference\tgreedy\tbeam\tattribution\n"
            atomic_write(
                self.run_dir / "test_translations.tsv", lambda tmp: tmp.write_text(header + lines, encoding="utf-8")
            )
            if self.model.attention is not None:
                self.attention_heatmap(pairs.sources[0])
        return out

    def evaluate(self, data: str | None = None) -> dict[str, Any]:
        """Greedy and beam BLEU/chrF on the run's test pairs (``test_pairs.tsv``) or on a TSV file."""
        if data is None:
            pairs = read_pairs(self.run_dir / "test_pairs.tsv", (self.config.src, self.config.tgt))
            name = f"{self.config.data} test"
        else:
            path = Path(data)
            if not path.is_file():
                raise DataError(f"--data {data!r}: no such TSV file")
            raw = read_pairs(path)
            columns = (
                _parse_columns(self.config.columns)
                if self.config.columns
                else guess_columns(raw, self.config.src, self.config.tgt)
            )
            pairs = prepare_pairs(
                Pairs(raw.sources, raw.targets, raw.attributions, columns), self.config.src, self.config.tgt
            )
            name = path.name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # long test sentences are truncated like any input
            scores = self.score(pairs)
        return {"data": name, "size": len(pairs), "beam_size": self.config.beam_size, **scores}


def load(run_dir: str | Path) -> Translator:
    return Translator(run_dir)
