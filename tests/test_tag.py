"""The tag task end to end: training on tiny tagged files, `lstmkit tag`, `lstmkit evaluate`, bad input."""

import json
from dataclasses import replace

import pytest
import torch
from cli_helpers import invoke
from tiny_data import write_bio, write_conllu, write_tagged_chars

from lstmkit.errors import DataError
from lstmkit.heads import EncoderConfig, SequenceTagger, TaggerConfig
from lstmkit.tasks import tag
from lstmkit.tasks.tag.data import DICTIONARY_PATTERNS, dictionary_patterns, dictionary_words
from lstmkit.tasks.tag.task import TaggingObjective
from lstmkit.train import TrainConfig

QUICK = TrainConfig(epochs=1, batch_size=16, lr=0.05, patience=None, progress=False)


def test_a_run_reports_segmentation_scores_and_writes_its_report_and_plot(tag_run):
    metrics = json.loads((tag_run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["task"] == "tag" and metrics["data"]["scheme"] == "bmes"
    sizes = metrics["data"]
    assert sizes["train"]["sentences"] + sizes["val"]["sentences"] + sizes["test"]["sentences"] == 80
    assert all(sizes[part]["characters"] > 0 for part in ("train", "val", "test"))
    model = metrics["model"]
    assert model["name"] == "bilstm-crf+bigrams"  # character data embeds bigrams by default
    for name in ("word_precision", "word_recall", "word_f1", "iv_recall", "tag_accuracy"):
        assert 0 <= model[name] <= 1, name
    assert model["oov_rate"] == 0 and model["oov_recall"] is None  # the tiny lexicon's words are all in train
    assert set(metrics["baselines"]) == {"max-match", "char-crf"}
    for scores in metrics["baselines"].values():
        assert 0 <= scores["word_f1"] <= 1 and "per_tag" not in scores
    assert set(model["per_tag"]) == {"B", "M", "E", "S"}
    report = (tag_run / "per_tag.tsv").read_text(encoding="utf-8").splitlines()
    assert report[0].split("\t") == ["tag", "precision", "recall", "f1", "support"] and len(report) == 5
    assert (tag_run / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_tag_gives_each_character_a_tag_and_the_words_they_make(tag_run):
    result = invoke("tag", tag_run, "我们喜欢 中国的手机。", "北京", "--json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert len(records) == 2
    first = records[0]
    assert first["tokens"] == list("我们喜欢中国的手机。")  # characters in, white space dropped
    assert len(first["tags"]) == len(first["tokens"]) and set(first["tags"]) <= {"B", "M", "E", "S"}
    assert "".join(first["words"]) == "我们喜欢中国的手机。"
    assert first["model"] == "bilstm-crf+bigrams"
    plain = invoke("tag", tag_run, stdin="北京人民\n\n很好\n")
    assert plain.exit_code == 0 and len(plain.output.splitlines()) == 2
    assert plain.output.splitlines()[0].replace(" ", "") == "北京人民"


def test_a_text_of_any_length_is_tagged_whole(tag_run):
    text = "我们喜欢中国的手机。" * 300  # 3000 characters, far past the 150 that training cuts at
    tagged = tag.load(tag_run).tag([text])[0]
    assert len(tagged["tags"]) == 3000 and "".join(tagged["words"]) == text


def test_evaluate_scores_the_test_part_and_draws_a_confusion_plot(tag_run, tmp_path):
    result = invoke("evaluate", tag_run, "--json", "--plot", tmp_path / "confusion.png")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    metrics = json.loads((tag_run / "metrics.json").read_text(encoding="utf-8"))
    assert scores["word_f1"] == pytest.approx(metrics["model"]["word_f1"])  # the same part, the same model
    assert scores["model"] == "bilstm-crf+bigrams" and scores["sentences"] == metrics["data"]["test"]["sentences"]
    assert scores["baselines"] == metrics["baselines"]  # scored on the same part at training
    assert (tmp_path / "confusion.png").is_file()
    table = invoke("evaluate", tag_run)
    assert table.exit_code == 0 and "word F1" in table.output
    for model in ("bilstm-crf+bigrams", "max-match", "char-crf"):
        assert model in table.output


def test_a_conllu_file_round_trips_through_train_tag_and_evaluate(tmp_path):
    data = write_conllu(tmp_path / "tiny.conllu")
    run = tmp_path / "run"
    trained = invoke(
        "train", "tag", "--data", data, "--out", run, "--epochs", "1", "--embedding-dim", "8", "--hidden-size", "8",
        "--batch-size", "8", "--lr", "0.05", "--no-progress", "--json",
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    metrics = json.loads(trained.stdout)
    assert metrics["data"]["scheme"] == "plain" and "tag_accuracy" in metrics["model"]
    assert metrics["model"]["name"] == "bilstm-crf+chars" and not (run / "bigrams.json").exists()  # words: no bigrams
    assert (run / "chars.json").is_file()  # but a character encoder of each word, by default
    tagged = invoke("tag", run, "the big cat sees a fish .", "--json")
    assert tagged.exit_code == 0, tagged.output
    record = json.loads(tagged.output)
    assert record["tokens"] == "the big cat sees a fish .".split()
    assert set(record["tags"]) <= {"DET", "ADJ", "NOUN", "VERB", "PUNCT"}
    evaluated = invoke("evaluate", run, "--data", data, "--json")
    assert evaluated.exit_code == 0, evaluated.output
    scores = json.loads(evaluated.output)
    assert scores["sentences"] == 60 and 0 <= scores["tag_accuracy"] <= 1


def test_bio_data_is_scored_by_spans(tmp_path):
    config = tag.TagConfig(data=str(write_bio(tmp_path / "ner.conll")), embedding_dim=8, hidden_size=8, train=QUICK)
    metrics = tag.train(config, tmp_path / "run").metrics
    assert metrics["data"]["scheme"] == "bio"
    assert {"span_precision", "span_recall", "span_f1"} <= set(metrics["model"])
    assert "word_f1" not in metrics["model"]
    tagged = tag.load(tmp_path / "run").tag(["Tom went to Paris ."])[0]
    assert tagged["tokens"] == ["Tom", "went", "to", "Paris", "."]
    assert all(0 <= start < end <= 5 for start, end, _ in tagged["spans"])
    assert set(metrics["baselines"]) == {"most-frequent-tag"}
    # the CRF only emits sequences BIO allows: no I-X after O or after another label
    from lstmkit.data.tag_schemes import check_tags

    check_tags(tagged["tags"], "bio")


def test_joint_segmentation_and_pos_is_scored_with_pos_accuracy_and_joint_f1(tmp_path):
    config = tag.TagConfig(
        data=str(write_tagged_chars(tmp_path / "pos.txt", pos=True)), embedding_dim=8, hidden_size=8, train=QUICK
    )
    metrics = tag.train(config, tmp_path / "run").metrics
    assert {"word_f1", "oov_recall", "pos_accuracy", "joint_f1", "tag_accuracy"} <= set(metrics["model"])
    assert metrics["model"]["joint_f1"] <= metrics["model"]["word_f1"]  # a joint hit is a word hit
    assert set(metrics["baselines"]) == {"max-match + most-frequent-tag", "char-crf + most-frequent-tag"}
    words = tag.load(tmp_path / "run").tag(["我们喜欢北京"])[0]["words"]
    assert "".join(word for word, _ in words) == "我们喜欢北京" and all(label for _, label in words)


def _quick_cli_run(tmp_path, *options: str) -> dict:
    """The metrics of a one-epoch ``lstmkit train tag`` of a tiny network on tiny data, with ``options``."""
    result = invoke(
        "train", "tag", "--data", write_tagged_chars(tmp_path / "seg.txt"), "--out", tmp_path / "run", *options,
        "--no-baselines", "--epochs", "1", "--embedding-dim", "8", "--hidden-size", "8", "--no-progress", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_softmax_ablation_without_bigrams_trains_and_tags(tmp_path):
    metrics = _quick_cli_run(tmp_path, "--decoder", "softmax", "--no-bigrams")
    assert metrics["model"]["name"] == "bilstm-softmax" and metrics["baselines"] == {}
    assert not (tmp_path / "run" / "bigrams.json").exists()
    tagged = tag.load(tmp_path / "run").tag(["我们喜欢图书馆"])[0]
    assert len(tagged["tags"]) == 7 and tagged["model"] == "bilstm-softmax"


def test_a_tagger_learns_the_tiny_segmentation(tmp_path):
    config = tag.TagConfig(
        data=str(write_tagged_chars(tmp_path / "seg.txt", n=100)), embedding_dim=16, hidden_size=16, baselines=False,
        train=TrainConfig(epochs=3, batch_size=8, lr=0.05, patience=None, progress=False),
    )  # fmt: skip
    metrics = tag.train(config, tmp_path / "run").metrics
    assert metrics["model"]["word_f1"] > 0.9, metrics["model"]  # a lexicon of 14 words, learnt in 3 epochs


def test_bigrams_rarer_than_bigram_min_freq_read_as_unknown(tmp_path):
    from collections import Counter

    from lstmkit.tasks.tag.data import bigrams_of, prepare_data

    config = tag.TagConfig(data=str(write_tagged_chars(tmp_path / "seg.txt")), bigram_min_freq=3)
    data = prepare_data(config, tmp_path / "run", resume=False)
    counts = Counter(b for tokens in data.parts["train"].tokens for b in bigrams_of(tokens))
    vocab = data.encoder.bigram_vocab
    rare, kept = [b for b, n in counts.items() if n < 3], [b for b, n in counts.items() if n >= 3]
    assert rare and kept  # the tiny data has both
    assert vocab.encode(rare) == [vocab.unk_index] * len(rare)
    assert vocab.unk_index not in vocab.encode(kept)
    everything = prepare_data(replace(config, bigram_min_freq=1), tmp_path / "run", resume=False).encoder
    assert vocab.unk_index not in everything.bigram_vocab.encode(rare)


def test_dictionary_patterns_mark_the_words_that_start_end_and_pass_through_each_character():
    counts = {"北京": 2, "大学": 1, "学生": 3, "大学生": 1, "北京大学生活": 5, "人": 9}
    words = dictionary_words(counts)  # (6 and 1 characters: out)
    assert words == {"北京", "大学", "学生", "大学生"} and dictionary_words(counts, min_freq=2) == {"北京", "学生"}
    start2, end2, start3, end3, inside3 = 1, 2, 1 << 3, 2 << 3, 4 << 3
    patterns = dictionary_patterns(list("北京大学生活"), words)
    expected = [start2, end2, start2 | start3, end2 | start2 | inside3, end2 | end3, 0]  # 活: no word
    assert patterns == [1 + bits for bits in expected]  # (id 0 pads)
    assert max(dictionary_patterns(list("北京大学生"), frozenset({"北京大学", "京大学"}))) < DICTIONARY_PATTERNS


def test_a_dictionary_run_keeps_its_dictionary_and_tags_with_it(tmp_path):
    options = ("--dictionary-min-freq", "2", "--embedding-dropout", "0.1", "--input-dropout", "0.3")
    metrics = _quick_cli_run(tmp_path, "--dictionary", *options)
    assert metrics["model"]["name"] == "bilstm-crf+bigrams+dictionary"
    config = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    assert config["config"]["embedding_dropout"] == 0.1 and config["config"]["dictionary_min_freq"] == 2
    assert config["config"]["input_dropout"] == config["model"]["encoder"]["input_dropout"] == 0.3
    assert config["model"]["dictionary_dim"] > 0
    words = json.loads((tmp_path / "run" / "dictionary.json").read_text(encoding="utf-8"))
    assert words == sorted(words) and all(2 <= len(word) <= 4 for word in words) and "我们" in words
    tagged = tag.load(tmp_path / "run").tag(["我们喜欢图书馆"])[0]
    assert len(tagged["tags"]) == 7 and tagged["model"] == "bilstm-crf+bigrams+dictionary"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--scheme", "bmesx"], ["--scheme", "'bmesx'"]),
        (["--scheme", "bio"], ["seg.txt, line 1", "not a bio tag", "(scheme bio)"]),
        (["--max-length", "0"], ["--max-length", "0"]),
        (["--tag-column", "9"], ["--token-column/--tag-column"]),
        (["--decoder", "hmm"], ["--decoder", "'hmm'"]),
        (["--char-encoder", "lstm"], ["--char-encoder lstm", "tagged by characters", "word data"]),
        (["--char-encoder", "gru"], ["--char-encoder", "'gru'"]),
        (["--char-hidden", "0"], ["--char-hidden", "0"]),
        (["--embedding-dropout", "1.5"], ["--embedding-dropout", "1.5"]),
        (["--input-dropout", "-0.1"], ["--input-dropout", "-0.1"]),
        (["--dictionary-min-freq", "0"], ["--dictionary-min-freq", "0"]),
        (["--dictionary", "--data-is-words"], ["--dictionary", "tagged by words, not characters"]),
    ],
)
def test_train_refuses_bad_options_in_one_line(args, words, tmp_path):
    data = write_tagged_chars(tmp_path / "seg.txt")
    if "--data-is-words" in args:
        args, data = [a for a in args if a != "--data-is-words"], write_bio(tmp_path / "ner.conll")
    result = invoke("train", "tag", "--data", data, "--out", tmp_path / "run", "--no-progress", *args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1
    for word in words:
        assert word in result.output
    assert not (tmp_path / "run").exists()


def test_pku_data_refuses_another_scheme_before_reading():
    with pytest.raises(DataError, match="pku-pos is tagged in bmes, not bio"):
        tag.train(tag.TagConfig(data="pku-pos", scheme="bio"), "/nonexistent/never-written")


@pytest.mark.parametrize("decoder", ["crf", "softmax"])
def test_validation_runs_the_network_once_per_batch_for_both_loss_and_tags(decoder):
    torch.manual_seed(0)
    encoder = EncoderConfig(vocab_size=6, embedding_dim=8, hidden_size=8)
    model = SequenceTagger(TaggerConfig(encoder, num_tags=3, decoder=decoder)).eval()
    lengths = torch.tensor([5, 3])
    batch = {"tokens": torch.randint(1, 6, (2, 5)), "lengths": lengths, "tags": torch.randint(0, 3, (2, 5))}
    calls = []
    model.register_forward_hook(lambda *_: calls.append(1))
    with torch.no_grad():
        sums = TaggingObjective().eval_sums(model, batch)
    assert len(calls) == 1
    paths = model.decode(batch["tokens"], lengths)
    correct = sum(p == g for path, row in zip(paths, batch["tags"].tolist()) for p, g in zip(path, row))
    assert sums["correct"].item() == correct and sums["tags"].item() == 8
    loss = model.loss(batch["tokens"], lengths, batch["tags"])
    torch.testing.assert_close(sums["loss"], loss * 2)
