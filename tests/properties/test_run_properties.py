"""Properties of the run-directory loaders (hypothesis): a damaged file loads or raises lstmkit's own error.

One tiny run of each task is trained once per session; each case copies it, replaces one of the files a user
can hand to ``load_run`` (``config.json``, ``vocab.json``/``scalers.json``, ``metrics.json``, the
safetensors weights) with random bytes, a cut or overwritten copy, or its JSON with one entry
deleted or replaced, and loads it. A KeyError, TypeError or AttributeError from inside is a defect.
"""

import json
import shutil

import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from repeatable import repeatable

from lstmkit.errors import LstmkitError, RunDirectoryError
from lstmkit.io import read_json
from lstmkit.tasks.runner import load_run

# The files each task's loader reads (metrics.json: the language model's evaluate reads its baselines).
FILES = {
    "sentiment": ("config.json", "vocab.json", "model.safetensors"),
    "lm": ("config.json", "vocab.json", "metrics.json", "model.safetensors"),
    "translate": ("config.json", "vocab.json", "model.safetensors"),
    "forecast": ("config.json", "scalers.json", "model.safetensors"),
}


@pytest.fixture(scope="module")
def runs(request):
    """Task -> a finished tiny run directory of it (the suite's, tests/conftest.py)."""
    return {task: request.getfixturevalue(f"{task}_run") for task in FILES}


# -- damaged files ------------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**70), st.floats(allow_nan=False), st.text(max_size=4))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def _entries(doc, where=()):
    """The path of every entry of a JSON document (the first 3 items of lists), the root first."""
    yield where
    items = doc.items() if isinstance(doc, dict) else enumerate(doc[:3]) if isinstance(doc, list) else ()
    for key, value in items:
        yield from _entries(value, (*where, key))


@st.composite
def near_valid_json(draw, doc):
    """``doc`` with one entry deleted or replaced by a random JSON value (the root: the whole document)."""
    doc = json.loads(json.dumps(doc))
    where = draw(st.sampled_from(list(_entries(doc))))
    if not where:
        return draw(json_values)
    parent = doc
    for key in where[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[where[-1]]
    else:
        parent[where[-1]] = draw(json_values)
    return doc


@st.composite
def damaged_bytes(draw, raw: bytes):
    """Random bytes, or ``raw`` cut short, or ``raw`` with a few bytes overwritten."""
    kind = draw(st.sampled_from(["random", "cut", "overwritten"]))
    if kind == "random":
        return draw(st.binary(max_size=100))
    at = draw(st.integers(0, len(raw)))
    return raw[:at] if kind == "cut" else raw[:at] + draw(st.binary(min_size=1, max_size=16)) + raw[at + 16 :]


@st.composite
def damaged_weights(draw, raw: bytes):
    """A damaged safetensors file: its bytes, or its JSON header (8-byte little-endian length, then JSON)."""
    if draw(st.booleans()):
        return draw(damaged_bytes(raw))
    size = int.from_bytes(raw[:8], "little")
    header = json.dumps(draw(near_valid_json(json.loads(raw[8 : 8 + size])))).encode()
    return len(header).to_bytes(8, "little") + header + raw[8 + size :]


def damaged(raw: bytes, name: str):
    if name.endswith(".safetensors"):
        return damaged_weights(raw)
    return damaged_bytes(raw) | near_valid_json(json.loads(raw)).map(lambda doc: json.dumps(doc).encode())


@pytest.mark.parametrize("task, name", [(task, name) for task, names in FILES.items() for name in names])
@repeatable(examples=16, suppress_health_check=[HealthCheck.function_scoped_fixture])  # the runs are read-only
@given(data=st.data())
def test_a_damaged_run_file_loads_or_raises_lstmkit_errors(runs, task, name, data, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("damaged")
    for source in runs[task].iterdir():
        if source.is_file():
            shutil.copyfile(source, run_dir / source.name)
    (run_dir / name).write_bytes(data.draw(damaged((runs[task] / name).read_bytes(), name)))
    try:
        loaded = load_run(run_dir)
        if name == "metrics.json":
            loaded.evaluate()
    except LstmkitError as error:
        assert str(run_dir) in str(error)


def _edited(runs, tmp_path, task: str, name: str, edit):
    """A copy of the ``task`` run with ``edit(content)`` written back as its JSON file ``name``."""
    run_dir = tmp_path / task
    shutil.copytree(runs[task], run_dir)
    content = read_json(run_dir / name)
    (run_dir / name).write_text(json.dumps(edit(content)), encoding="utf-8")
    return run_dir


def _set(path: tuple, value):
    """An edit that sets the entry at ``path`` (``value`` is ``...``: deletes it)."""

    def edit(doc):
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if value is ...:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        return doc

    return edit


# What each found before the fix: AttributeError, TypeError, KeyError, AttributeError, TypeError,
# AttributeError, and a DataError that did not say it came from the run's config.json.
@pytest.mark.parametrize(
    "task, name, edit, message",
    [
        ("lm", "config.json", lambda doc: [doc], r"config.json: expected a JSON object, got a list"),
        ("lm", "config.json", _set(("format_version",), [1]), r"format_version must be an int >= 0, got \[1\]"),
        ("lm", "vocab.json", _set(("tokens",), ...), r"vocab.json cannot be read back .*: no entry 'tokens'"),
        ("forecast", "scalers.json", _set(("covariates",), ...), r"scalers.json cannot be read back .*'covariates'"),
        ("lm", "metrics.json", lambda doc: [doc], r"metrics.json cannot be read back .*'list' object has no attribute"),
        ("sentiment", "config.json", _set(("model", "encoder"), []), r"config.json describes a model that cannot be"),
        ("translate", "config.json", _set(("config", "source_tokenizer"), None), r"config.json cannot .*source_token"),
    ],
)
def test_a_damaged_run_file_is_a_run_directory_error_naming_it(runs, tmp_path, task, name, edit, message):
    run_dir = _edited(runs, tmp_path, task, name, edit)
    with pytest.raises(RunDirectoryError, match=message):
        loaded = load_run(run_dir)
        loaded.evaluate()  # the language model reads metrics.json here
