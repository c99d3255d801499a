"""The tag task's character encoder on word data: words the vocabulary lacks are tagged by their spelling;
the encoder's options, saved files and name (its bad options: test_tag.py)."""

import json
import random
from collections import Counter

from cli_helpers import invoke
from tiny_data import SUFFIX_STEMS, suffix_sentence, write_conllu

from lstmkit.tasks import tag
from lstmkit.tasks.tag.data import TokenEncoder


def test_unseen_words_are_tagged_by_their_suffix_where_words_alone_cannot_tell_them_apart(tag_chars_run):
    rng = random.Random(1)
    unseen = [suffix_sentence(SUFFIX_STEMS[40:], rng, 5) for _ in range(30)]  # stems never seen in training
    texts = [" ".join(word for word, _ in sentence) for sentence in unseen]
    tagger = tag.load(tag_chars_run)
    assert tagger.name == "bilstm-crf+chars"
    predicted = [result["tags"] for result in tagger.tag(texts)]
    right = sum(p == g for tags, sentence in zip(predicted, unseen) for p, (_, g) in zip(tags, sentence))
    assert right / 150 > 0.9, predicted[:3]
    # Read by their word ids alone, all 30 sentences are the same five <unk>s: a word-only tagger gives them
    # all one tag sequence, so at best each position's most frequent tag is right.
    words_only = TokenEncoder(tagger.inputs.vocab).batch([text.split() for text in texts])["tokens"]
    assert (words_only == tagger.inputs.vocab.unk_index).all()
    best = sum(Counter(sentence[i][1] for sentence in unseen).most_common(1)[0][1] for i in range(5))
    assert best / 150 < 0.6


def test_a_char_cnn_run_trains_tags_and_evaluates_from_the_command_line(tmp_path):
    data = write_conllu(tmp_path / "tiny.conllu", n=40)
    run = tmp_path / "run"
    trained = invoke(
        "train", "tag", "--data", data, "--out", run, "--char-encoder", "cnn", "--char-dim", "6", "--char-hidden",
        "5", "--epochs", "1", "--embedding-dim", "8", "--hidden-size", "8", "--no-baselines", "--no-progress", "--json",
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.stdout)["model"]["name"] == "bilstm-crf+char-cnn"
    saved = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert saved["model"]["chars"] == {"vocab_size": saved["model"]["chars"]["vocab_size"], "embedding_dim": 6,
                                       "hidden_size": 5, "kind": "cnn", "padding_idx": 0}  # fmt: skip
    chars = json.loads((run / "chars.json").read_text(encoding="utf-8"))["tokens"]
    assert chars[:2] == ["<pad>", "<unk>"] and {"t", "h", "e"} <= set(chars)
    assert len(chars) == saved["model"]["chars"]["vocab_size"]
    tagged = invoke("tag", run, "the blorpy cat sees a fish .", "--json")
    assert tagged.exit_code == 0, tagged.output
    assert json.loads(tagged.output)["model"] == "bilstm-crf+char-cnn"
    evaluated = invoke("evaluate", run, "--json")
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["model"] == "bilstm-crf+char-cnn"


def test_character_data_gets_no_char_encoder_by_default(tag_run):
    assert tag.load(tag_run).inputs.char_vocab is None and not (tag_run / "chars.json").exists()
