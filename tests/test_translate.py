"""Translation: pairs loading and splitting, the Bible export, the Tatoeba download, the encoder–decoder
(masks, greedy = beam 1), and the task end to end through Python and the CLI, bad input included."""

import csv
import json
import random
import shutil
import zipfile
from pathlib import Path

import pytest
import torch
from cli_helpers import invoke, run_cli

from lstmkit.data import DATASETS, DownloadError
from lstmkit.data import bible as bible_module
from lstmkit.data.bible import align_verses, bible_pairs, osis_to_text, parse_osis
from lstmkit.data.pairs import Pairs, load_tatoeba, parse_pairs, prepare_pairs, read_pairs, split_pairs
from lstmkit.errors import DataError
from lstmkit.heads.decoding import beam_search, greedy_decode
from lstmkit.heads.seq2seq import ATTENTIONS, Seq2Seq, Seq2SeqConfig
from lstmkit.tasks import translate
from lstmkit.train import TrainConfig

WORDS = {
    **{"i": "我", "you": "你", "he": "他", "she": "她", "we": "我们"},
    **{"love": "爱", "see": "看", "like": "喜欢", "want": "想要", "eat": "吃"},
    **{"cats": "猫", "tea": "茶", "apples": "苹果", "rice": "米饭", "dogs": "狗"},
    **{"today": "今天", "now": "现在", "": ""},
}


def _write_pairs(path: Path, n: int = 500, seed: int = 0) -> Path:
    """Toy English–Chinese pairs (word-for-word), with a Tatoeba-like attribution column."""
    rng = random.Random(seed)
    subjects, verbs = ["i", "you", "he", "she", "we"], ["love", "see", "like", "want", "eat"]
    objects, times = ["cats", "tea", "apples", "rice", "dogs"], ["today", "now", ""]
    lines = []
    for i in range(n):
        subject, verb, obj, when = rng.choice(subjects), rng.choice(verbs), rng.choice(objects), rng.choice(times)
        english = " ".join(w for w in (subject, verb, obj, when) if w).capitalize() + "."
        # The time word moves to the front of the verb in Chinese: a reordering for attention to find.
        chinese = WORDS[subject] + WORDS[when] + WORDS[verb] + WORDS[obj] + "。"
        lines.append(f"{english}\t{chinese}\tCC-BY 2.0 (France) Attribution: tatoeba.org #{i} (test)\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


# -- pairs ------------------------------------------------------------------------------------------


def test_parse_pairs_keeps_attribution_and_rejects_bad_lines():
    pairs = parse_pairs(["Hi.\t嗨。\tCC-BY #1", "", "Run!\t跑！"], "x.tsv", ("en", "zh"))
    assert pairs.sources == ("Hi.", "Run!") and pairs.targets == ("嗨。", "跑！")
    assert pairs.attributions == ("CC-BY #1", "")
    with pytest.raises(DataError, match=r"x.tsv line 2: .*no tab"):
        parse_pairs(["a\tb", "no tab here"], "x.tsv")
    with pytest.raises(DataError, match=r"line 1: the target \(second column\) is empty"):
        parse_pairs(["a\t  "], "x.tsv")
    with pytest.raises(DataError, match="line 1: the source"):
        parse_pairs(["\tb"], "x.tsv")
    with pytest.raises(DataError, match="holds no sentence pairs"):
        parse_pairs(["", "  "], "x.tsv")


def test_read_pairs_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_pairs(tmp_path / "missing.tsv")
    bad = tmp_path / "latin1.tsv"
    bad.write_bytes("caf\xe9\tcafé\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        read_pairs(bad)


def test_prepare_pairs_orients_filters_and_deduplicates():
    pairs = Pairs(
        ("Hi.", "Hi.", "Hi.", "A very long sentence indeed."),
        ("嗨。", "嗨。", "你好。", "很长。"),
        ("a", "b", "c", "d"),
        ("en", "zh"),
    )
    forward = prepare_pairs(pairs, "en", "zh", max_length=10)
    assert forward.sources == ("Hi.", "Hi.") and forward.targets == ("嗨。", "你好。")
    assert forward.report.duplicates_removed == 1 and forward.report.too_long_dropped == 1
    backward = prepare_pairs(pairs, "zh", "en")
    assert backward.languages == ("zh", "en") and backward.sources[0] == "嗨。" and backward.attributions[0] == "a"
    with pytest.raises(DataError, match="unknown direction en->fr"):
        prepare_pairs(pairs, "en", "fr")
    with pytest.raises(DataError, match="must differ"):
        prepare_pairs(pairs, "en", "en")


def test_split_keeps_every_translation_of_a_source_on_one_side():
    sources = [f"Sentence number {i}." for i in range(400) for _ in range(3)]
    targets = [f"句子{i}-{j}" for i in range(400) for j in range(3)]
    # Case and spacing variants of one source normalise to the same key.
    sources[1] = sources[1].upper().replace(" ", "  ")
    pairs = Pairs(tuple(sources), tuple(targets), ("",) * len(sources), ("en", "zh"))
    split = split_pairs(pairs)
    assert split_pairs(pairs) == split  # deterministic
    parts = [{s.lower().split()[-1] for s in getattr(split, name).sources} for name in ("train", "val", "test")]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert len(split.train) + len(split.val) + len(split.test) == len(pairs)
    assert 0.02 < len(split.test) / len(pairs) < 0.09 and 0.02 < len(split.val) / len(pairs) < 0.09


# -- downloads and the Bible ------------------------------------------------------------------------


def test_tatoeba_download_from_a_local_zip_is_cached_and_checked(tmp_path):
    text = "Hi.\t嗨。\tCC-BY 2.0 (France) Attribution: tatoeba.org #538123 (CM) & #891077 (Martha)\nRun.\t跑。\tCC-BY\n"
    archive = tmp_path / "cmn-eng.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("cmn.txt", text)
        zipped.writestr("_about.txt", "about")
    cache = tmp_path / "cache"
    pairs = load_tatoeba("cmn", url=archive.as_uri(), cache=cache)
    assert pairs.languages == ("en", "zh") and pairs.targets == ("嗨。", "跑。")
    assert "tatoeba.org #538123" in pairs.attributions[0]
    assert (cache / "tatoeba-cmn-eng.zip.sha256").is_file()
    archive.unlink()  # the cached copy is used now
    assert load_tatoeba("cmn", url=archive.as_uri(), cache=cache).sources == pairs.sources
    with pytest.raises(DownloadError, match="checksum mismatch"):
        load_tatoeba("cmn", url=(cache / "tatoeba-cmn-eng.zip").as_uri(), sha256="0" * 64, cache=tmp_path / "other")
    wrong = tmp_path / "wrong.zip"
    with zipfile.ZipFile(wrong, "w") as zipped:
        zipped.writestr("fra.txt", text)
    with pytest.raises(DataError, match="has no cmn.txt"):
        load_tatoeba("cmn", url=wrong.as_uri(), cache=tmp_path / "c3")


def test_translation_data_sets_are_registered():
    assert DATASETS["bible-en-es"].task == "translate" and "public domain" in DATASETS["bible-en-es"].licence
    assert DATASETS["tatoeba-cmn"].task == "translate" and "CC-BY" in DATASETS["tatoeba-cmn"].licence


def test_osis_markup_and_strongs_numbers_are_stripped():
    osis = '<w>In</w> <w>the</w> <w>beginning</w>, <w>God</w><w lemma="strong:H0430">created</w> <note>a note</note>it.'
    assert osis_to_text(osis + '<milestone type="line"/>') == "In the beginning, God created it."
    assert osis_to_text("Jesucristo <G5547> sea con vosotros.") == "Jesucristo sea con vosotros."


ENGLISH_OSIS = """Genesis 1:1: <w>In</w> <w>the</w> <w>beginning</w>.<milestone type="line"/>
Genesis 1:2: <w>The</w> <w>earth</w>.<milestone type="line"/>
A Psalm by David.  Psalms 3:1: <w>Yahweh</w>, <w>how</w>!<milestone type="line"/>
Jonah 1:1: <w>One</w>.<milestone type="line"/>
Jonah 1:2: <w>Two</w> <w>and</w> <w>three</w>.<milestone type="line"/>
Jonah 2:1: <w>Four</w>.<milestone type="line"/>
Jonah 3:1: <w>Five</w>.<milestone type="line"/>
Tobit 1:1: <w>Not</w> <w>in</w> <w>the</w> <w>other</w>.<milestone type="line"/>
(engWEB2015eb)
"""
SPANISH_OSIS = """Genesis 1:1: <w>EN el principio</w>.<milestone type="line"/>
Genesis 1:2: <w>Y la tierra</w>.<milestone type="line"/>
Psalms 3:1: <w>Jehová</w> <w lemma="H3068">cuánto</w>!<milestone type="line"/>
Jonah 1:1: <w>Uno</w>.<milestone type="line"/>
Jonah 1:2: <milestone type="line"/>
Jonah 2:1: <w>Dos y tres</w>.<milestone type="line"/>
Jonah 3:1: <w>Cinco</w>.<milestone type="line"/>
(spaRV1909eb)
"""


def test_bible_verses_align_by_reference_and_differently_numbered_chapters_are_dropped():
    spanish = parse_osis(SPANISH_OSIS)
    english = parse_osis(ENGLISH_OSIS, {book for book, _, _ in spanish})
    assert english[("Psalms", 3, 1)] == "Yahweh, how!"  # the heading before the reference is not the verse
    assert ("Tobit", 1, 1) not in english
    pairs, dropped = align_verses(english, spanish)
    references = [reference for reference, _, _ in pairs]
    # Jonah 1:2 is empty in the Spanish: chapters 1 and 2 are shifted against each other and dropped.
    assert references == [("Genesis", 1, 1), ("Genesis", 1, 2), ("Psalms", 3, 1), ("Jonah", 3, 1)]
    assert dropped == 3
    assert pairs[0][1:] == ("In the beginning.", "EN el principio.")


def test_bible_pairs_keep_the_reference_as_attribution():
    outputs = {bible_module.ENGLISH_MODULE: ENGLISH_OSIS, bible_module.SPANISH_MODULE: SPANISH_OSIS}
    pairs, dropped = bible_pairs(outputs.__getitem__)
    assert pairs.languages == ("en", "es") and len(pairs) == 4 and dropped == 3
    assert pairs.attributions[0].startswith("public domain") and pairs.attributions[0].endswith("Genesis 1:1")


def test_bible_without_diatheke_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(bible_module.shutil, "which", lambda name: None)
    with pytest.raises(DataError, match="apt-get install -y diatheke sword-text-web sword-text-sparv.*--data"):
        bible_module.load_bible(cache=tmp_path)


# -- model and decoding -----------------------------------------------------------------------------


def _model(attention: str, seed: int = 0, **options) -> Seq2Seq:
    torch.manual_seed(seed)
    options = {"embedding_dim": 12, "hidden_size": 16, "input_feeding": attention != "none", **options}
    return Seq2Seq(Seq2SeqConfig(40, 30, attention=attention, **options)).eval()


def _sources(seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([6, 2, 4, 1, 5])
    tokens = torch.randint(4, 40, (5, 6), generator=generator)
    tokens[torch.arange(6) >= lengths.unsqueeze(1)] = 0
    return tokens, lengths


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_beam_search_with_beam_1_equals_greedy(attention):
    model = _model(attention)
    tokens, lengths = _sources()
    greedy = greedy_decode(model, tokens, lengths, bos=2, eos=3, max_length=9)
    beam = beam_search(model, tokens, lengths, bos=2, eos=3, beam_size=1, max_length=9)
    for g, (b,) in zip(greedy, beam):
        assert g.tokens == b.tokens and g.finished == b.finished
        assert g.log_prob == pytest.approx(b.log_prob, abs=1e-9)
        if attention != "none":
            assert torch.allclose(g.attention, b.attention.float(), atol=1e-6)


def test_beam_search_returns_n_best_sorted_with_attention_rows():
    model = _model("additive", bidirectional=False)
    tokens, lengths = _sources()
    results = beam_search(model, tokens, lengths, bos=2, eos=3, beam_size=4, max_length=7, n_best=3)
    for hypotheses, length in zip(results, lengths.tolist()):
        assert len(hypotheses) == 3
        assert [h.score for h in hypotheses] == sorted((h.score for h in hypotheses), reverse=True)
        for h in hypotheses:
            assert h.attention.shape == (len(h.tokens) + int(h.finished), tokens.shape[1])
            assert torch.allclose(h.attention.sum(-1), torch.ones(h.attention.shape[0], dtype=h.attention.dtype))
            assert h.attention[:, length:].abs().sum() == 0  # padding gets no attention


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_padding_never_changes_outputs(attention):
    model = _model(attention)
    tokens, lengths = _sources()
    targets = torch.randint(4, 30, (5, 4), generator=torch.Generator().manual_seed(2))
    reference = model(tokens, lengths, targets)
    # More padding, and junk instead of the pad id in padded positions: same logits.
    wider = torch.cat([tokens, torch.zeros(5, 3, dtype=torch.long)], 1)
    wider[torch.arange(9) >= lengths.unsqueeze(1)] = 7
    assert torch.allclose(model(wider, lengths, targets), reference, atol=1e-6)
    # A sentence decoded alone or padded in a batch gives the same translation.
    alone = greedy_decode(model, tokens[1:2, :2], lengths[1:2], bos=2, eos=3, max_length=8)[0]
    batched = greedy_decode(model, wider, lengths, bos=2, eos=3, max_length=8)[1]
    assert alone.tokens == batched.tokens and alone.log_prob == pytest.approx(batched.log_prob, abs=1e-5)
    beam_alone = beam_search(model, tokens[1:2, :2], lengths[1:2], bos=2, eos=3, beam_size=3, max_length=8)[0][0]
    beam_batched = beam_search(model, wider, lengths, bos=2, eos=3, beam_size=3, max_length=8)[1][0]
    assert beam_alone.tokens == beam_batched.tokens


def test_seq2seq_config_rejects_bad_settings():
    with pytest.raises(ValueError, match="attention must be one of"):
        Seq2SeqConfig(10, 10, attention="luong")
    with pytest.raises(ValueError, match="input_feeding=True needs attention"):
        Seq2SeqConfig(10, 10, attention="none", input_feeding=True)
    with pytest.raises(ValueError, match="hidden_size must be even"):
        Seq2SeqConfig(10, 10, hidden_size=15)


# -- the task ---------------------------------------------------------------------------------------


def _config(data: Path, **overrides) -> translate.TranslateConfig:
    train = TrainConfig(
        epochs=overrides.pop("epochs", 8),
        batch_size=16,
        lr=0.01,
        patience=None,
        monitor="loss",
        monitor_mode="min",
        progress=False,
        weight_decay=0.0,
    )
    options = {
        "src": "en",
        "tgt": "zh",
        "embedding_dim": 24,
        "hidden_size": 32,
        "min_freq": 1,
        "beam_size": 3,
        "max_pair_tokens": 8,
        "dropout": 0.0,
        "embedding_dropout": 0.0,
        "label_smoothing": 0.0,
        **overrides,
    }
    return translate.TranslateConfig(data=str(data), train=train, **options)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("translate")
    data = _write_pairs(root / "pairs.tsv")
    result = translate.train(_config(data), root / "run")
    return root, data, result


def test_training_writes_a_complete_run_directory(trained):
    root, _, result = trained
    run = root / "run"
    for name in (
        "config.json",
        "vocab.json",
        "model.safetensors",
        "metrics.json",
        "history.csv",
        "test_pairs.tsv",
        "test_translations.tsv",
        "attention.png",
    ):
        assert (run / name).is_file(), name
    vocab = json.loads((run / "vocab.json").read_text(encoding="utf-8"))
    assert "我" in vocab["target"]["vocab"]["tokens"] and "love" in vocab["source"]["vocab"]["tokens"]
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["task"] == "translate" and metrics["data"]["direction"] == "en-zh"
    # A word-for-word toy language is learned well within a few epochs.
    assert metrics["model"]["greedy"]["bleu"] > 50 and metrics["model"]["beam"]["chrf"] > 60
    assert "tatoeba.org" in (run / "test_translations.tsv").read_text(encoding="utf-8")


def test_translator_translates_and_truncates_long_input(trained):
    root, _, _ = trained
    translator = translate.load(root / "run")
    (result,) = translator.translate(["I love cats."], beam_size=3, n_best=2)
    assert result.translation == "我爱猫。" and len(result.alternatives) == 1
    with pytest.warns(UserWarning, match="more than the model's maximum length 8"):
        (long,) = translator.translate(["I love cats and you love tea and he likes cats ."])
    assert long.truncated and len(long.source_tokens) == 8
    with pytest.raises(DataError, match="text 2 is empty"):
        translator.translate(["I love tea.", "  "])


def test_evaluate_rescores_the_saved_test_part(trained):
    root, data, result = trained
    scores = translate.load(root / "run").evaluate()
    assert scores["greedy"] == result.metrics["model"]["greedy"]
    assert scores["beam"] == result.metrics["model"]["beam"]
    assert translate.load(root / "run").evaluate(str(data))["size"] == len(
        {tuple(line.split("\t")[:2]) for line in data.read_text(encoding="utf-8").splitlines()}
    )


def test_cli_translate_as_a_real_command(trained):
    root, _, _ = trained
    done = run_cli("translate", root / "run", "You like tea.", "--beam", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\t")[0] == "你喜欢茶。"


def test_cli_stdin_json_heatmap_evaluate_and_long_input(trained, tmp_path):
    root, _, _ = trained
    run = root / "run"
    piped = invoke("translate", run, "--json", "--heatmap", tmp_path / "map.png", stdin="He see cats now.\n")
    assert piped.exit_code == 0, piped.stderr
    assert json.loads(piped.stdout.splitlines()[0])["translation"] == "他现在看猫。"
    assert (tmp_path / "map.png").stat().st_size > 1000
    long = invoke("translate", run, "i love cats and you love tea and he likes cats")
    assert long.exit_code == 0 and "warning:" in long.stderr and "maximum length" in long.stderr
    evaluated = invoke("evaluate", run, "--json")
    assert evaluated.exit_code == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["beam_size"] == 3


def test_cli_bad_input_is_one_line_and_exit_code_2(trained, tmp_path):
    root, data, _ = trained
    run = root / "run"
    no_tab = tmp_path / "bad.tsv"
    no_tab.write_text("Hello.\t你好。\nHello there 你好\n", encoding="utf-8")
    cases = [
        (["translate", run, " "], "text 1 is empty"),
        (["translate", run, "hi", "--beam", "0"], "--beam must be at least 1"),
        (["train", "translate", "--data", no_tab, "--src", "en", "--tgt", "zh", "--out", tmp_path / "r1"], "line 2"),
        (
            ["train", "translate", "--data", data, "--src", "en", "--tgt", "fr", "--out", tmp_path / "r2"],
            "unknown direction en->fr: the second column",
        ),
        (["train", "translate", "--data", data, "--attention", "luong", "--out", tmp_path / "r3"], "--attention"),
        (["train", "translate", "--data", "no-such-set", "--out", tmp_path / "r4"], "neither a TSV file"),
        (["translate", tmp_path / "nowhere", "hi"], "run directory not found"),
        (["train", "translate", "--data", data, "--src", "en", "--tgt", "zh", "--out", run], "already holds a run"),
    ]
    for args, message in cases:
        failed = invoke(*args)
        assert failed.exit_code == 2, (args, failed.stderr, failed.exception)
        assert message in failed.stderr and len(failed.stderr.strip().splitlines()) == 1, failed.stderr


def test_translate_takes_one_text_or_a_list_on_a_device(trained):
    root, _, _ = trained
    translator = translate.load(root / "run", device=torch.device("cpu"))
    assert translator.device == torch.device("cpu")
    assert {p.device for p in translator.model.parameters()} == {torch.device("cpu")}
    one = translator.translate("I love cats.")
    assert isinstance(one, translate.Translation) and one.translation == "我爱猫。"
    many = translator.translate(("I love cats.", "You like tea."))
    assert isinstance(many, list) and [t.text for t in many] == ["I love cats.", "You like tea."]
    assert (
        many[0].translation == one.translation
        and many[1].translation == translator.translate("You like tea.").translation
    )
    assert translator.translate([]) == []


def test_metrics_keep_the_best_epochs_validation_loss(trained):
    root, _, result = trained
    history = [float(row["val_loss"]) for row in csv.DictReader((root / "run" / "history.csv").open(encoding="utf-8"))]
    assert result.metrics["model"]["val_loss"] == pytest.approx(min(history), rel=1e-3)
    assert result.metrics["epochs"] == len(history)


def test_a_run_saved_with_max_length_loads_as_max_pair_tokens(trained, tmp_path):
    root, _, _ = trained
    old = tmp_path / "old-run"
    shutil.copytree(root / "run", old)
    saved = json.loads((old / "config.json").read_text(encoding="utf-8"))
    saved["config"]["max_length"] = saved["config"].pop("max_pair_tokens")
    (old / "config.json").write_text(json.dumps(saved), encoding="utf-8")
    translator = translate.load(old)
    assert translator.config.max_pair_tokens == 8
    with pytest.warns(UserWarning, match="maximum length 8"):
        translator.translate("I love cats and you love tea and he likes cats .")


def test_cli_two_process_ddp_trains_and_evaluates(tmp_path):
    data = _write_pairs(tmp_path / "pairs.tsv", n=200)
    run = tmp_path / "run"
    tiny = ["--embedding-dim", "16", "--hidden-size", "16", "--batch-size", "16", "--min-freq", "1", "--beam", "2"]
    done = run_cli(
        "train", "translate", "--data", data, "--src", "en", "--tgt", "zh", "--out", run, "--devices", "2",
        "--epochs", "1", "--max-pair-tokens", "8", "--no-progress", "--json", *tiny,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads(done.stdout)
    saved_metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert {**metrics, "versions": saved_metrics["versions"]} == saved_metrics  # one writer, the first process
    assert metrics["epochs"] == 1 and metrics["data"]["train"] > 100
    saved = json.loads((run / "config.json").read_text(encoding="utf-8"))["config"]
    assert saved["train"]["devices"] == 2 and saved["max_pair_tokens"] == 8
    evaluated = invoke("evaluate", run, "--json")
    assert evaluated.exit_code == 0, evaluated.stderr
    scores = json.loads(evaluated.stdout)
    assert scores["greedy"] == metrics["model"]["greedy"] and scores["beam"] == metrics["model"]["beam"]


def test_resuming_a_finished_run_keeps_its_config_vocabularies_and_scores(trained, tmp_path):
    root, data, result = trained
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    vocab = (run / "vocab.json").read_text(encoding="utf-8")
    # The config given is not the run's (min_freq 5 would build other vocabularies): resume reads the saved one.
    resumed = translate.train(_config(data, min_freq=5), run, resume=True)
    assert (run / "vocab.json").read_text(encoding="utf-8") == vocab
    assert resumed.metrics["model"]["greedy"] == result.metrics["model"]["greedy"]


def _write_anki_en_fr(path: Path, n: int = 160, seed: int = 0) -> Path:
    """The anki/Tatoeba layout: English first, French second, the attribution third."""
    rng = random.Random(seed)
    subjects = {"I": "Je", "You": "Tu", "He": "Il", "We": "Nous"}
    verbs = {"see": "vois", "like": "aime", "want": "veux"}
    objects = {"the dog": "le chien", "the cats": "les chats", "the tea": "le thé"}
    lines = []
    for i in range(n):
        subject, verb, obj = rng.choice(list(subjects)), rng.choice(list(verbs)), rng.choice(list(objects))
        english, french = f"{subject} {verb} {obj}.", f"{subjects[subject]} {verbs[verb]} {objects[obj]}."
        lines.append(f"{english} {i}\t{french} {i}\tCC-BY 2.0 (France) Attribution: tatoeba.org #{i} (test)\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_an_anki_file_trained_fr_to_en_is_read_the_other_way_and_says_so(tmp_path, capsys):
    data = _write_anki_en_fr(tmp_path / "fra.txt")
    config = _config(data, src="fr", tgt="en", epochs=1, embedding_dim=8, hidden_size=8, beam_size=1)
    translate.train(config, tmp_path / "run")
    note = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(note) == 1 and "fra.txt holds en in its first column and fr in its second" in note[0]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["data"]["columns"] == {"first": "en", "second": "fr", "by": "swapped"}
    first_test_source = (tmp_path / "run" / "test_pairs.tsv").read_text(encoding="utf-8").split("\t")[0]
    assert first_test_source.split()[0] in ("Je", "Tu", "Il", "Nous")  # the model reads French


def test_columns_the_evidence_cannot_tell_apart_ask_for_columns(tmp_path):
    data = tmp_path / "pairs.tsv"
    data.write_text("".join(f"Hola {i}.\tHi {i}.\n" for i in range(60)), encoding="utf-8")
    out = invoke("train", "translate", "--data", data, "--src", "es", "--tgt", "en", "--out", tmp_path / "run")
    lines = out.stderr.strip().splitlines()
    assert out.exit_code == 2 and len(lines) == 1, out.stderr
    assert "cannot tell which column" in lines[0] and "--columns es,en" in lines[0]
    assert not (tmp_path / "run").exists() and not (tmp_path / ".run.partial").exists()


def test_evaluate_takes_columns_where_a_files_evidence_is_unclear(tmp_path):
    data = _write_anki_en_fr(tmp_path / "fra.txt")  # clear evidence: file order, en then fr
    run = tmp_path / "run"
    out = invoke("train", "translate", "--data", data, "--src", "en", "--tgt", "fr", "--out", run, "--epochs", "1",
                 "--embedding-dim", "8", "--hidden-size", "8", "--beam", "1", "--no-progress")  # fmt: skip
    assert out.exit_code == 0, out.stderr
    unclear = tmp_path / "unclear.tsv"
    unclear.write_text("".join(f"Bonjour {i}.\tHi {i}.\n" for i in range(20)), encoding="utf-8")
    asked = invoke("evaluate", run, "--data", unclear)
    assert asked.exit_code == 2 and "--columns" in asked.stderr, asked.stderr
    named = invoke("evaluate", run, "--data", unclear, "--columns", "fr,en", "--json")
    assert named.exit_code == 0, named.stderr
    assert json.loads(named.stdout)["size"] == 20
    refused = invoke("evaluate", run, "--columns", "en,fr", "--plot", tmp_path / "x.png")
    assert refused.exit_code == 2 and "--plot" in refused.stderr and not (tmp_path / "x.png").exists()


def test_a_part_with_no_pair_within_the_token_limit_says_how_short_its_shortest_is(tmp_path):
    from lstmkit.tasks.translate.data import prepare_data

    data = _write_pairs(tmp_path / "pairs.tsv")
    with pytest.raises(DataError, match=r"none of the \d+ \w+ pairs has at most 1 tokens per side") as caught:
        prepare_data(_config(data, max_pair_tokens=1), tmp_path / "run", resume=False)
    shortest = int(str(caught.value).split("the shortest has ")[1].split()[0])
    assert shortest > 1 and "--max-pair-tokens" in str(caught.value)
