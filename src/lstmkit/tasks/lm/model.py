"""A finished character-LM run: sampling, and bits per character on any text."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from lstmkit.data import Vocab
from lstmkit.data.char_text import read_text_file, split_text
from lstmkit.errors import DataError
from lstmkit.heads import LanguageModel, LanguageModelConfig
from lstmkit.io import load_json, parsing
from lstmkit.layers import detach_state
from lstmkit.runs import CONFIG, METRICS, VOCAB, load_run_model, read_run_config
from lstmkit.streaming import Streaming
from lstmkit.tasks.lm.config import TEMPERATURE, LMConfig
from lstmkit.tasks.lm.task import NAME, TOKENIZER, load_text

__all__ = ["CharLM", "bits_per_character"]


@torch.no_grad()
def bits_per_character(model: LanguageModel, ids: list[int], chunk: int = 256) -> float:
    """Mean ``-log2 P(c_t | c_<t)`` over ``ids[1:]``, reading the text in order with the state carried."""
    if len(ids) < 2:
        raise DataError(f"need at least 2 characters to score, got {len(ids)}")
    model.eval()
    tokens = torch.tensor(ids, dtype=torch.long, device=next(model.parameters()).device).unsqueeze(0)
    state, total = None, 0.0
    for start in range(0, len(ids) - 1, chunk):
        inputs = tokens[:, start : start + chunk]
        targets = tokens[:, start + 1 : start + chunk + 1]
        logits, state = model(inputs, state=state)
        state = detach_state(state)
        logits = logits[:, : targets.shape[1]]
        total += torch.nn.functional.cross_entropy(logits[0], targets[0], reduction="sum").item()
    return total / (len(ids) - 1) / math.log(2)


class CharLM:
    """A trained character LM run (``load(run_dir)``): sampling and bits per character."""

    def __init__(self, run_dir: str | Path, device: str | torch.device = "cpu") -> None:
        self.run_dir = Path(run_dir)
        saved = read_run_config(self.run_dir, NAME)
        with parsing(self.run_dir / CONFIG):
            self.config = LMConfig.from_dict(saved["config"])
        self.vocab = Vocab.from_json(self.run_dir / VOCAB)
        self.model = load_run_model(self.run_dir, lambda: LanguageModel(LanguageModelConfig.from_dict(saved["model"])))
        self.device = torch.device(device)
        self.model.to(self.device).eval()

    @torch.no_grad()
    def generate(self, prime: str, temperature: float = TEMPERATURE, chars: int = 200, seed: int | None = None) -> str:
        """``prime`` followed by ``chars`` sampled characters (``temperature`` 0 takes the likeliest)."""
        if not isinstance(prime, str) or not prime:
            raise DataError("the prime is empty: give --prime at least one character to start from")
        if not (math.isfinite(temperature) and temperature >= 0):  # (NaN fails the test too)
            raise DataError(f"--temperature must be a number >= 0, got {temperature}")
        if chars < 0:
            raise DataError(f"--chars must not be negative, got {chars}")
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        ids = self.vocab.encode(TOKENIZER.tokenize(prime))
        logits, state = self.model(torch.tensor([ids], device=self.device))
        scores = logits[0, -1]
        # After the prime, one character at a time: the recurrent stack streams, its state kept in place.
        stream = Streaming(self.model.encoder.rnn)
        stream.reset(state=state)
        out = []
        specials = len(self.vocab.specials())
        for _ in range(chars):
            scores[:specials] = float("-inf")  # never emit <pad>/<unk>
            if temperature == 0:
                token = int(scores.argmax())
            else:
                token = int(torch.multinomial(torch.softmax(scores / temperature, -1), 1, generator=generator))
            out.append(self.vocab.tokens[token])
            hidden = stream.step(self.model.encoder.embedding(torch.tensor([token], device=self.device)))
            scores = self.model.logits(hidden)[0]
        return prime + "".join(out)

    def evaluate(self, data: str | None = None) -> dict[str, Any]:
        """Bits per character on the run's test text (with the baselines trained beside it) or on a file."""
        if data is None:
            text, name = load_text(self.config)
            _, _, test_text = split_text(text, name=name)
            ids = self.vocab.encode(TOKENIZER.tokenize(test_text))
            baselines = load_json(self.run_dir / METRICS, lambda metrics: metrics.get("baselines", {}))
            return {
                "data": f"{self.config.data} test",
                "characters": len(ids),
                "bpc": bits_per_character(self.model, ids),
                "baselines": baselines,
            }
        text = read_text_file(data)
        ids = self.vocab.encode(TOKENIZER.tokenize(text))
        return {
            "data": Path(data).name,
            "characters": len(ids),
            "bpc": bits_per_character(self.model, ids),
            "baselines": {},
        }
