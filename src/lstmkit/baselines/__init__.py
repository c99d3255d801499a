"""Non-neural baselines that every task reports beside its model (``metrics.json`` ``"baselines"``)."""

from lstmkit.baselines.segmenters import CharCRFSegmenter, JiebaSegmenter, MaxMatchSegmenter
from lstmkit.baselines.taggers import MostFrequentTagger
from lstmkit.baselines.text import (
    C_GRID,
    BaselineResult,
    LinearTextModel,
    run_split_baselines,
    run_text_baselines,
    text_features,
)

__all__ = [
    "C_GRID",
    "BaselineResult",
    "LinearTextModel",
    "run_split_baselines",
    "run_text_baselines",
    "text_features",
    "MaxMatchSegmenter",
    "CharCRFSegmenter",
    "JiebaSegmenter",
    "MostFrequentTagger",
]
