"""Corpus BLEU and chrF of translations against references (sacrebleu)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["corpus_scores"]


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
