"""Export of a trained run's model to ONNX or a ``torch.export`` program, with a JSON beside the file
saying how to feed it.

Per task: ``sentiment`` (token ids + lengths -> class probabilities of the recurrent network),
``lm`` (token ids + state -> next-character logits + state, one step or a whole prime at once),
``forecast`` (feature windows + series index -> sorted quantile forecasts on the original scale; a run on
the LTSF protocol: the last rows of every column -> their forecasts, :mod:`lstmkit.export.ltsf`),
``translate`` (two files: the encoder, and one decoder step with its state, so greedy or beam search
runs outside Python) and ``tag`` (token ids + lengths -> per-step emissions; the CRF's scores, for
Viterbi, in the JSON: :mod:`lstmkit.export.tagging`). What a file cannot hold is said, not hidden: a
fused sentiment run's TF-IDF model stays in Python (the JSON gives the fusion rule), and a forecast's
feature windows are built by the caller (the JSON gives the scalers, layout and recipe).

Both formats export the same modules, traced on the same examples; only the writer differs
(:func:`~lstmkit.export.layers.export_onnx` or :func:`~lstmkit.export.program.export_program`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lstmkit.export._common import (
    EXAMPLE_LENGTHS,
    add_step_inputs,
    bigram_input,
    example_tokens,
    lexicon_input,
    tensor_entry,
)
from lstmkit.export.layers import FORMATS, OPSET, ExportError, export_onnx, require_onnx
from lstmkit.export.ltsf import export_ltsf
from lstmkit.export.program import export_program
from lstmkit.export.tagging import export_tagger
from lstmkit.io import check_output_file, write_json

__all__ = ["FORMATS", "EXPORTED_TASKS", "Exported", "export_run", "metadata_path", "part_paths"]

EXPORTED_TASKS = ("sentiment", "lm", "forecast", "translate", "tag")
_WRITERS = {"onnx": export_onnx, "torch-export": export_program}
_SUFFIXES = {"onnx": ".onnx", "torch-export": ".pt2"}


@dataclass(frozen=True)
class Exported:
    """What :func:`export_run` wrote: the model file(s) (``path`` the first), the JSON beside it, notes."""

    path: Path
    metadata: Path
    notes: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()


def metadata_path(path: str | Path) -> Path:
    """The JSON beside an exported file: ``model.onnx`` -> ``model.onnx.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


class _Probabilities(nn.Module):
    """A classifier's ``softmax(logits)``: what ``predict_proba`` returns, in one graph; the per-step inputs
    after ``tokens`` and ``lengths`` are named by ``step_names`` (``bigrams``, ``lexicon``: those it reads)."""

    def __init__(self, classifier: nn.Module, step_names: list[str]) -> None:
        super().__init__()
        self.classifier = classifier
        self.step_names = step_names

    def forward(self, tokens, lengths, *steps):
        return torch.softmax(self.classifier(tokens, lengths, **dict(zip(self.step_names, steps))), dim=-1)


class _LanguageModelStep(nn.Module):
    """A language model over ``tokens (B, T)`` from a given state: logits ``(B, T, V)`` and the new state."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.cell_kind = model.encoder.rnn.cell_kind  # read before export wraps the layer

    def forward(self, tokens, *states):
        kind = self.cell_kind
        logits, state = self.model(tokens, state=kind.as_hx(states))
        return (logits, *kind.as_states(state))


def _state_tensors(layer, batch: int) -> tuple[list[torch.Tensor], list[dict[str, Any]], list[dict[str, Any]]]:
    """Zero example states of ``layer`` and the JSON entries of the state inputs and outputs."""
    shapes = layer._state_shapes(batch)
    names = ["h", "c"][: len(shapes)]
    meaning = "the recurrent state (zeros to start; feed back the returned one)"
    inputs = [
        tensor_entry(f"{n}0", "float32", [shape[0], "batch", shape[2]], meaning) for n, shape in zip(names, shapes)
    ]
    outputs = [
        tensor_entry(f"{n}_n", "float32", [shape[0], "batch", shape[2]], "the new state")
        for n, shape in zip(names, shapes)
    ]
    return [torch.zeros(s) for s in shapes], inputs, outputs


def _sentiment(run, path: Path, write) -> tuple[dict[str, Any], list[str]]:
    encoder = run.text_encoder
    pad = encoder.vocab.pad_index
    args, names = example_tokens(pad), ["tokens", "lengths"]
    axes = {"tokens": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, "probabilities": {0: "batch"}}
    inputs = [
        tensor_entry("tokens", "int64", ["batch", "time"], f"vocabulary ids, right-padded with {pad}"),
        tensor_entry("lengths", "int64", ["batch"], "each text's number of tokens (at least 1)"),
    ]
    step_ids = {
        "bigrams": None if encoder.bigram_vocab is None else bigram_input(encoder.bigram_vocab, args[0]),
        "lexicon": None if encoder.lexicon is None else lexicon_input(encoder.lexicon, args[0], encoder.characters),
    }
    args, names, step_preprocessing = add_step_inputs(step_ids, args, names, axes, inputs)
    write(_Probabilities(run.model, names[2:]), args, path, names, ["probabilities"], axes)
    notes = []
    metadata: dict[str, Any] = {
        "inputs": inputs,
        "outputs": [tensor_entry("probabilities", "float32", ["batch", len(run.labels)], "class probabilities")],
        "labels": run.labels,
        "preprocessing": {
            "tokenizer": encoder.tokenizer.to_config(),
            "max_length": encoder.max_length,
            "unknown_token_id": encoder.vocab.unk_index,
            "padding_id": pad,
            "empty_text": "a text without tokens is one unknown token",
            "vocabulary": list(encoder.vocab.tokens),
            **step_preprocessing,
        },
    }
    if run.fusion is not None:
        weight = run.fusion.recurrent_weight
        metadata["fusion"] = {
            "recurrent_weight": weight,
            "rule": "fused = normalise(recurrent ** w * linear ** (1 - w)), w = recurrent_weight",
            "left_to_caller": "the TF-IDF logistic regression (linear.json, linear.safetensors in the run)",
        }
        notes.append(
            f"this run predicts with late fusion (recurrent weight {weight}); the file gives the recurrent "
            "network's probabilities, and the JSON says how to fuse them with the run's TF-IDF model"
        )
    if run.predictor == "forward_backward":
        metadata["model"] = run.predictor
        notes.append("this run is a forward + backward ensemble: the file gives its members' averaged probabilities")
    members = run.config.resolve_members()
    if members > 1:
        metadata["model"] = run.predictor
        metadata["members"] = members
        notes.append(f"this run is {run.model_name}: the file gives its {members} networks' averaged probabilities")
    return metadata, notes


def _lm(run, path: Path, write) -> tuple[dict[str, Any], list[str]]:
    states, state_inputs, state_outputs = _state_tensors(run.model.encoder.rnn, len(EXAMPLE_LENGTHS))
    tokens = example_tokens(0)[0]  # to a language model the padding ids are characters too: only shapes matter
    names = [entry["name"] for entry in state_inputs]
    outputs = [entry["name"] for entry in state_outputs]
    axes = {"tokens": {0: "batch", 1: "time"}, "logits": {0: "batch", 1: "time"}}
    axes.update({name: {1: "batch"} for name in names + outputs})
    write(_LanguageModelStep(run.model), (tokens, *states), path, ["tokens", *names], ["logits", *outputs], axes)
    vocab = run.vocab
    metadata = {
        "inputs": [
            tensor_entry("tokens", "int64", ["batch", "time"], "character ids (time 1 for one step)"),
            *state_inputs,
        ],
        "outputs": [
            tensor_entry("logits", "float32", ["batch", "time", len(vocab)], "next-character scores"),
            *state_outputs,
        ],
        "preprocessing": {
            "tokenizer": {"name": "char", "keep_spaces": True},
            "unknown_token_id": vocab.unk_index,
            "never_sample_ids": list(range(len(vocab.specials()))),
            "vocabulary": list(vocab.tokens),
        },
    }
    return metadata, []


class _ScaledForecast(nn.Module):
    """A forecaster's sorted quantiles on the original scale: ``predict_windows`` after the features."""

    def __init__(self, model: nn.Module, scaler) -> None:
        super().__init__()
        self.model, self.log = model, scaler.log
        self.register_buffer("mean", torch.tensor(scaler.mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(scaler.std, dtype=torch.float32))

    def forward(self, past, future, base, series):
        scaled = torch.sort(self.model(past, future, base), dim=-1).values  # quantiles never cross
        values = scaled * self.std[series].view(-1, 1, 1) + self.mean[series].view(-1, 1, 1)
        return torch.exp(values) if self.log else values


def _forecast(run, path: Path, write) -> tuple[dict[str, Any], list[str]]:
    if not hasattr(run, "layout"):  # an LtsfModel: its network reads windows of every column, not features
        return export_ltsf(run, path, write)
    config, layout, windows = run.model.config, run.layout, len(EXAMPLE_LENGTHS)
    example = (
        torch.zeros(windows, layout.lookback, config.past_size),
        torch.zeros(windows, layout.horizon, config.future_size),
    )
    args = (*example, torch.zeros(windows, layout.horizon), torch.zeros(windows, dtype=torch.long))
    names = ["past", "future", "base", "series"]
    axes = {name: {0: "windows"} for name in [*names, "forecast"]}
    axes["past"][1] = "lookback"  # the encoder reads any length; the run was trained on its own lookback
    write(_ScaledForecast(run.model, run.scalers.targets), args, path, names, ["forecast"], axes)
    info = run.series_info
    scaled = "scaled with the run's scalers (below)"
    metadata = {
        "inputs": [
            tensor_entry("past", "float32", ["windows", layout.lookback, config.past_size],
                    f"[target, covariates, calendar, series one-hot] per past step, {scaled}"),
            tensor_entry("future", "float32", ["windows", layout.horizon, config.future_size],
                    f"[known covariates, calendar, seasonal-naive target, series one-hot] per future step, {scaled}"),
            tensor_entry("base", "float32", ["windows", layout.horizon], "the scaled seasonal-naive forecast"),
            tensor_entry("series", "int64", ["windows"], "which target column each window forecasts"),
        ],
        "outputs": [tensor_entry("forecast", "float32", ["windows", layout.horizon, len(run._columns())],
                            f"forecasts on the original scale, columns {run._columns()}")],
        "preprocessing": {
            "windows": "lstmkit.tasks.forecast.dataset.window_arrays builds past, future and base from a series",
            "targets": info["targets"], "covariates": info["covariates"], "known": info["known"],
            "scalers": {"targets": run.scalers.targets.to_dict(),
                        "covariates": run.scalers.covariates.to_dict() if run.scalers.covariates else None},
            "layout": run.layout.to_dict(),
        },
    }  # fmt: skip
    notes = ["the file maps feature windows to forecasts (inverse scaling included); the JSON says how to build them"]
    return metadata, notes


class _TranslateEncoder(nn.Module):
    """Source ids + lengths -> what every decoder step reads, and the decoder's first state."""

    def __init__(self, model: nn.Module, outputs: list[str]) -> None:
        super().__init__()
        self.model, self.outputs = model, outputs

    def forward(self, source, lengths):
        encoded = self.model.encode(source, lengths)
        state = self.model.initial_state(encoded)
        values = {"memory": encoded.memory, "keys": encoded.keys, "mask": encoded.mask}
        values.update(h=state.rnn[0], c=state.rnn[1], feed=state.feed)
        return tuple(values[name] for name in self.outputs)


class _TranslateStep(nn.Module):
    """One decoder step: previous tokens + what the encoder gave + state -> log-probabilities + new state."""

    def __init__(self, model: nn.Module, inputs: list[str], outputs: list[str]) -> None:
        super().__init__()
        self.model, self.inputs, self.outputs = model, inputs, outputs

    def forward(self, tokens, *given):
        from lstmkit.heads.seq2seq import DecoderState, EncodedSource

        values = dict(zip(self.inputs[1:], given))
        h, c = values["h"], values["c"]
        feed = values.get("feed", h.new_zeros(h.shape[1], h.shape[2]))
        encoded = EncodedSource(values.get("memory"), values.get("keys"), values.get("mask"), (h, c))
        log_probs, state, weights = self.model.step(tokens, encoded, DecoderState((h, c), feed))
        results = {"log_probs": log_probs, "h_n": state.rnn[0], "c_n": state.rnn[1], "feed_n": state.feed}
        results["attention"] = weights
        return tuple(results[name] for name in self.outputs)


def _translate(run, path: Path, write) -> tuple[dict[str, Any], list[str]]:
    model, config = run.model, run.model.config
    attention, feeding = config.attention != "none", config.input_feeding
    source = ["memory", "keys", "mask"] if attention else []
    encoder_out = [*source, "h", "c"] + (["feed"] if feeding else [])
    step_in = ["tokens", *source, "h", "c"] + (["feed"] if feeding else [])
    step_out = ["log_probs", "h_n", "c_n"] + (["feed_n"] if feeding else []) + (["attention"] if attention else [])
    encoder_path, step_path = part_paths(path, "translate")
    axes = {name: {0: "batch", 1: "source_time"} for name in source}
    axes.update({name: {1: "batch"} for name in ("h", "c", "h_n", "c_n")})
    axes.update({name: {0: "batch"} for name in ("feed", "feed_n", "tokens", "log_probs", "lengths")})
    axes.update(source={0: "batch", 1: "source_time"}, attention={0: "batch", 1: "source_time"})
    example = example_tokens(0)
    write(_TranslateEncoder(model, encoder_out), example, encoder_path, ["source", "lengths"], encoder_out, axes)
    with torch.no_grad():
        first = dict(zip(encoder_out, _TranslateEncoder(model, encoder_out).eval()(*example)))
    bos = run.target.vocab.bos_index
    step_args = (torch.full((len(EXAMPLE_LENGTHS),), bos), *(first[name] for name in step_in[1:]))
    write(_TranslateStep(model, step_in, step_out), step_args, step_path, step_in, step_out, axes)
    metadata = {
        "files": {"encoder": encoder_path.name, "decoder_step": step_path.name},
        "encoder": {"inputs": ["source (batch, source_time) int64, right-padded with 0", "lengths (batch,) int64"],
                    "outputs": encoder_out},
        "decoder_step": {
            "inputs": step_in, "outputs": step_out,
            "loop": "tokens = BOS; feed memory/keys/mask from the encoder and the state (h, c, feed) from the "
                    "encoder, then from the previous step's h_n, c_n, feed_n; stop at EOS",
        },
        "search": {  # what `translate` does with the steps (lstmkit.heads.decoding.beam_search)
            "beam_size": run.config.beam_size, "length_penalty": run.config.length_penalty,
            "max_length": "min(max_tokens + 10, 2 * source tokens + 10)",
            "score": "log-probability / (tokens + EOS) ** length_penalty",
        },
        "preprocessing": {
            "source": {"tokenizer": run.source.tokenizer.to_config(), "vocabulary": list(run.source.vocab.tokens),
                       "unknown_token_id": run.source.vocab.unk_index, "max_tokens": run.config.max_pair_tokens},
            "target": {"language": run.target.language, "vocabulary": list(run.target.vocab.tokens),
                       "bos_id": bos, "eos_id": run.target.vocab.eos_index},
        },
    }  # fmt: skip
    return metadata, [f"wrote the encoder to {encoder_path.name} and one decoder step to {step_path.name}"]


# What a program's recurrent layers run (lstmkit.export.program): said in its JSON and notes.
_PROGRAM_PATH = "lstmkit's reference path (the gate equations, the time loop as a torch scan), not the compiled kernels"
_EXPORTERS = {"sentiment": _sentiment, "lm": _lm, "forecast": _forecast, "translate": _translate, "tag": export_tagger}
_PARTS = {"translate": ("encoder", "decoder")}  # tasks exported as several graphs, one file each


def part_paths(path: str | Path, task: str) -> list[Path]:
    """The model files of ``task`` for ``--out path``: ``path`` itself, or ``name.encoder.onnx`` and
    ``name.decoder.onnx`` (``.pt2``) for a translator (the JSON is always ``path.json``)."""
    path = Path(path)
    return [path.with_name(f"{path.stem}.{part}{path.suffix}") for part in _PARTS.get(task, ())] or [path]


def export_run(
    run_dir: str | Path, out: str | Path | None = None, *, fmt: str = "onnx", force: bool = False
) -> Exported:
    """Export the model of the run in ``run_dir`` to ``out`` (default: ``<run_dir>.onnx``, or ``.pt2`` for
    ``fmt="torch-export"``, beside the run).

    Writes ``out`` and ``out.json`` (inputs, outputs, vocabulary and pre-processing), each atomically;
    an existing file is refused unless ``force``.
    """
    from lstmkit.runs import run_task
    from lstmkit.tasks.runner import load_run

    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    run_dir = Path(run_dir)
    task = run_task(run_dir)
    if task not in _EXPORTERS:
        raise ExportError(f"{run_dir} holds a {task!r} run; lstmkit exports {', '.join(EXPORTED_TASKS)} runs so far")
    path = Path(out) if out is not None else run_dir.with_name(run_dir.name + _SUFFIXES[fmt])
    check_output_file(path, "--out")  # a folder given as --out is refused even where other files are written
    files = part_paths(path, task)
    for target in (*files, metadata_path(path)):
        check_output_file(target, "--out")
        if target.exists() and not force:
            raise ExportError(f"--out {target} exists: pass --force to replace it")
    if fmt == "onnx":
        require_onnx("onnx")
    metadata, notes = _EXPORTERS[task](load_run(run_dir), path, _WRITERS[fmt])
    header = {"task": task, "run": str(run_dir), "format": fmt, "file": files[0].name}
    if fmt == "onnx":
        header["opset"] = OPSET
    else:
        header.update(torch=torch.__version__, recurrent_path=_PROGRAM_PATH)
        notes = [*notes, f"the recurrent layers run {_PROGRAM_PATH}"]
    write_json(metadata_path(path), {**header, **metadata, "notes": notes})
    return Exported(files[0], metadata_path(path), tuple(notes), tuple(files))
