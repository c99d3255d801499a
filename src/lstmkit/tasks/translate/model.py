"""A finished translation run: translate text (greedy or beam search), draw attention, score BLEU/chrF."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, overload

import torch
from torch import Tensor

from lstmkit.data import pad_sequences
from lstmkit.data.pairs import Pairs, read_pairs
from lstmkit.errors import DataError
from lstmkit.heads.decoding import Hypothesis, beam_search, greedy_decode
from lstmkit.heads.seq2seq import Seq2Seq, Seq2SeqConfig
from lstmkit.io import atomic_write, parsing
from lstmkit.runs import CONFIG, VOCAB, load_run_model, read_run_config
from lstmkit.tasks.translate.bleu import corpus_scores
from lstmkit.tasks.translate.config import TranslateConfig
from lstmkit.tasks.translate.data import NAME, read_file_pairs
from lstmkit.tasks.translate.sides import SideEncoder, read_sides

__all__ = ["Translation", "Translator", "TEST_PAIRS", "TEST_TRANSLATIONS"]

TEST_PAIRS = "test_pairs.tsv"
TEST_TRANSLATIONS = "test_translations.tsv"


@dataclass
class Translation:
    """One translated text: the best translation, its score (mean log-probability per token, EOS
    included), the tokens on both sides, the attention weights ``(target steps, source tokens)``
    (``None`` without attention) and the next best translations of the beam."""

    text: str
    translation: str
    score: float
    source_tokens: list[str]
    target_tokens: list[str]
    attention: Tensor | None
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    truncated: bool = False


class Translator:
    """A trained encoder-decoder with its two sides (``load(run_dir)``): translate, draw attention, evaluate."""

    def __init__(
        self, config: TranslateConfig, source: SideEncoder, target: SideEncoder, model: Seq2Seq, run_dir: Path
    ) -> None:
        self.config, self.source, self.target, self.run_dir = config, source, target, Path(run_dir)
        self.model = model.eval()
        self.device = next(model.parameters()).device

    @classmethod
    def from_run(cls, run_dir: str | Path, device: str | torch.device = "cpu") -> Translator:
        """The run in ``run_dir`` with its model on ``device``."""
        run_dir = Path(run_dir)
        saved = read_run_config(run_dir, NAME)
        with parsing(run_dir / CONFIG):
            config = TranslateConfig.from_dict(saved["config"])
        source, target = read_sides(run_dir / VOCAB)
        model = load_run_model(run_dir, lambda: Seq2Seq(Seq2SeqConfig.from_dict(saved["model"])))
        return cls(config, source, target, model.to(device), run_dir)

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
            tokens = tokens.to(self.device)
            max_length = min(self.config.max_pair_tokens + 10, 2 * int(lengths.max()) + 10)
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
        limit = self.config.max_pair_tokens
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"text {i + 1} is empty: nothing to translate")
            tokens = self.source.tokens(text)
            if not tokens:
                raise DataError(f"text {i + 1} has no tokens to translate: {text!r}")
            cut = len(tokens) > limit
            if cut:
                warnings.warn(
                    f"text {i + 1} has {len(tokens)} tokens, more than the model's maximum length {limit}: "
                    f"translating its first {limit}",
                    stacklevel=3,
                )
                tokens = tokens[:limit]
            token_lists.append(tokens)
            ids.append(self.source.vocab.encode(tokens))
            truncated.append(cut)
        return token_lists, ids, truncated

    @overload
    def translate(self, texts: str, beam_size: int | None = None, n_best: int = 1) -> Translation: ...
    @overload
    def translate(self, texts: Sequence[str], beam_size: int | None = None, n_best: int = 1) -> list[Translation]: ...
    def translate(self, texts, beam_size=None, n_best=1):
        """Translate one text (one :class:`Translation`) or a list of texts (a list); ``beam_size`` 1 is
        greedy (default: the run's ``beam_size``); ``n_best`` > 1 keeps the next best as ``alternatives``."""
        beam_size = self.config.beam_size if beam_size is None else beam_size
        if beam_size < 1 or not 1 <= n_best <= beam_size:
            raise DataError(f"--beam must be at least 1 and --n-best between 1 and the beam, got {beam_size}, {n_best}")
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
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
        return results[0] if single else results

    def attention_heatmap(self, text: str, path: str | Path | None = None, beam_size: int | None = None) -> Path:
        """Translate ``text`` and draw its attention weights as a PNG (default ``attention.png`` in the run)."""
        from lstmkit.plots import plot_attention

        if self.model.attention is None:
            raise DataError(f"{self.run_dir} was trained without attention (--attention none): no weights to plot")
        result = self.translate(text, beam_size=beam_size)
        path = Path(path) if path is not None else self.run_dir / "attention.png"
        rows = result.target_tokens + ["</s>"]
        weights = result.attention[: len(rows)]
        return plot_attention(weights, result.source_tokens, rows[: weights.shape[0]], path, title=result.translation)

    def score(self, pairs: Pairs, write_translations: bool = False) -> dict[str, dict[str, float]]:
        """BLEU and chrF of greedy and beam decoding against ``pairs.targets``; with ``write_translations``,
        the translations go to the run's ``test_translations.tsv`` and the first pair's attention to
        ``attention.png``."""
        _, ids, _ = self._source_ids(pairs.sources)
        out: dict[str, dict[str, float]] = {}
        outputs: dict[str, list[str]] = {}
        for name, beam in (("greedy", 1), ("beam", self.config.beam_size)):
            found = self._decode(ids, beam)
            outputs[name] = [self.target.detokenize(self.target.vocab.decode(h[0].tokens)) for h in found]
            out[name] = corpus_scores(outputs[name], pairs.targets, self.config.tgt, self.target.lowercases)
        if write_translations:
            rows = zip(pairs.sources, pairs.targets, outputs["greedy"], outputs["beam"], pairs.attributions)
            text = "source\treference\tgreedy\tbeam\tattribution\n" + "".join("\t".join(row) + "\n" for row in rows)
            atomic_write(self.run_dir / TEST_TRANSLATIONS, lambda tmp: tmp.write_text(text, encoding="utf-8"))
            if self.model.attention is not None:
                self.attention_heatmap(pairs.sources[0])
        return out

    def evaluate(self, data: str | None = None, columns: str | None = None) -> dict[str, Any]:
        """Greedy and beam BLEU/chrF on the run's test pairs (``test_pairs.tsv``) or on a TSV file; writes
        nothing. ``columns`` names the file's two languages (``"en,zh"``) where its language evidence is
        unclear, as ``--columns`` does at training; the run's own setting is used otherwise."""
        if data is None:
            pairs = read_pairs(self.run_dir / TEST_PAIRS, (self.config.src, self.config.tgt))
            name = f"{self.config.data} test"
        else:
            path = Path(data)
            if not path.is_file():
                raise DataError(f"--data {data!r}: no such TSV file")
            config = self.config if columns is None else replace(self.config, columns=columns)
            pairs, name = read_file_pairs(path, config), path.name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # long test sentences are truncated like any input
            scores = self.score(pairs)
        return {"data": name, "size": len(pairs), "beam_size": self.config.beam_size, **scores}
