"""Character bigrams as the sentiment network's second input: featurising, the options' rules, and a
bigram run through train, load, predict, evaluate, inspect, resume and the CLI."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
import torch
from cli_helpers import invoke
from tiny_data import write_reviews

from lstmkit.data import CharTokenizer, Vocab, WordTokenizer
from lstmkit.data.bigrams import BIGRAM_END, BIGRAMS, bigrams_of
from lstmkit.errors import DataError
from lstmkit.io import read_json
from lstmkit.tasks import sentiment
from lstmkit.tasks.sentiment.data import TextEncoder
from lstmkit.tasks.sentiment.task import TASK


def test_each_character_reads_its_bigram_id_and_rare_bigrams_are_unknown():
    vocab = Vocab.build([list("好很好")])
    bigram_vocab = Vocab.build([bigrams_of(list("很好很好"))], min_freq=2)  # 很好 twice; 好很 and 好</s> once
    encoder = TextEncoder(CharTokenizer(), vocab, max_length=3, bigram_vocab=bigram_vocab)
    inputs = encoder.inputs(["很 好很好", "  "])
    unknown = bigram_vocab.unk_index
    # Cut to 3 characters (很好很): the last one's bigram is 很</s>, as the model reads it, not 很好.
    assert bigrams_of(["很", "好", "很"]) == ["很好", "好很", "很" + BIGRAM_END]
    assert inputs["bigrams"][0] == [bigram_vocab.encode(["很好"])[0], unknown, unknown]
    assert inputs["tokens"] == encoder.encode(["很 好很好", "  "])
    assert inputs["bigrams"][1] == [unknown] and inputs["tokens"][1] == [vocab.unk_index]  # no characters
    assert set(TextEncoder(CharTokenizer(), vocab, 3).inputs(["很好"])) == {"tokens"}


def test_bigrams_default_to_character_tokens_and_are_refused_where_they_cannot_apply():
    auto = sentiment.SentimentConfig(bigrams=None)
    assert auto.uses_bigrams(characters=True) and not auto.uses_bigrams(characters=False)
    assert not replace(auto, pretrain_lm=True).uses_bigrams(characters=True)
    with pytest.raises(ValueError, match="bigrams=True: .*next character.*got pretrain_lm=True"):
        sentiment.SentimentConfig(bigrams=True, pretrain_lm=True)
    with pytest.raises(ValueError, match="got forward_backward=True"):
        sentiment.SentimentConfig(bigrams=True, forward_backward=True, bidirectional=False)
    with pytest.raises(ValueError, match="bigram_min_freq must be a positive int"):
        sentiment.SentimentConfig(bigram_min_freq=0)


def test_word_tokens_refuse_bigrams_before_training(tmp_path):
    data = write_reviews(tmp_path / "reviews.csv")
    config = sentiment.SentimentConfig(data=str(data), tokenizer="word", bigrams=True, baselines=False)
    with pytest.raises(DataError, match="--bigrams: the tokens are word tokens, not characters"):
        TASK.prepare(config, tmp_path / "run", resume=False)
    words = TASK.prepare(replace(config, bigrams=None), tmp_path / "run", resume=False)
    assert isinstance(words.text_encoder.tokenizer, WordTokenizer) and words.text_encoder.bigram_vocab is None


def test_a_bigram_run_saves_its_vocabulary_and_reads_it_back(bigram_sentiment_run):
    run = sentiment.load(bigram_sentiment_run)
    saved = Vocab.from_json(bigram_sentiment_run / BIGRAMS)
    assert run.text_encoder.bigram_vocab == saved and len(saved) > 10
    assert run.model.config.bigram_vocab_size == len(saved) and run.model.config.bigram_dim == 8
    texts = ["很好喜欢这个东西", "太差失望"]
    # Prediction reads the bigrams: replace them all by the unknown bigram and the probabilities move.
    unknown_bigrams = replace(run.text_encoder, bigram_vocab=Vocab(saved.specials()))
    moved = sentiment.load(bigram_sentiment_run)
    moved.text_encoder = unknown_bigrams
    assert not torch.allclose(torch.from_numpy(moved.predict_proba(texts)), torch.from_numpy(run.predict_proba(texts)))
    scores, metrics = run.evaluate(), read_json(bigram_sentiment_run / "metrics.json")
    assert scores["accuracy"] == pytest.approx(metrics["model"]["accuracy"])
    # inspect's input: each character's embedding, then its bigram's.
    tokens, _ = run.tokenize(texts[1])
    assert run.recurrent_input(texts[1]).shape == (1, len(tokens), 16)
    # A resumed run reads the saved bigram vocabulary instead of building one.
    config = sentiment.SentimentConfig.from_dict(read_json(bigram_sentiment_run / "config.json")["config"])
    resumed = TASK.prepare(replace(config, bigram_min_freq=1000), bigram_sentiment_run, resume=True)
    assert resumed.text_encoder.bigram_vocab == saved


def test_cli_trains_predicts_and_inspects_a_bigram_run(tmp_path):
    data = write_reviews(tmp_path / "reviews.csv")
    out = tmp_path / "run"
    options = ["--embedding-dim", "8", "--hidden-size", "8", "--epochs", "1", "--no-baselines", "--no-progress",
               "--members", "1"]  # fmt: skip
    bigram_options = ["--bigrams", "--bigram-min-freq", "3", "--input-dropout", "0.25"]
    result = invoke("train", "sentiment", "--data", data, "--out", out, *bigram_options, *options)
    assert result.exit_code == 0, result.output
    config = read_json(out / "config.json")
    assert config["config"]["bigrams"] is True and config["config"]["bigram_min_freq"] == 3
    assert config["config"]["input_dropout"] == config["model"]["encoder"]["input_dropout"] == 0.25
    texts = [line.rsplit(",", 1)[0] for line in data.read_text(encoding="utf-8").splitlines()[1:]]
    counts = Counter(b for text in texts for b in bigrams_of(CharTokenizer().tokenize(text)))
    kept = Vocab.from_json(out / BIGRAMS)
    assert min(counts[b] for b in kept.tokens[len(kept.specials()) :]) >= 3 and len(kept) < len(counts)
    predicted = invoke("predict", out, "很好喜欢", "--json")
    assert predicted.exit_code == 0 and '"model": "recurrent"' in predicted.output
    inspected = invoke("inspect", out, "很好喜欢", "--out", tmp_path / "inspect")
    assert inspected.exit_code == 0, inspected.output
    assert (tmp_path / "inspect" / "inspect.html").is_file()
    words = invoke("train", "sentiment", "--data", data, "--out", tmp_path / "w", "--tokenizer", "word", "--bigrams")
    assert words.exit_code == 2 and words.output.startswith("error: --bigrams: the tokens are word tokens")
    assert words.output.count("\n") == 1
