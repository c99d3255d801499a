"""``lstmkit bench`` and lstmkit.bench: the tables are produced and bad options are one-line errors.

No timing is asserted: timings depend on the machine and what else runs on it.
"""

import pytest
from cli_helpers import invoke

from lstmkit import kernels
from lstmkit.bench import report


@pytest.mark.skipif(not kernels.available(), reason="the compiled kernels are not built")
def test_bench_prints_the_layer_table_for_the_chosen_cell():
    result = invoke("bench", "--cells", "gru", "--sections", "layers", "--rounds", "1")
    assert result.exit_code == 0, result.output
    assert "matmul ceiling" in result.output
    rows = [line for line in result.output.splitlines() if line.startswith("| gru | 32,100,128,128 |")]
    assert len(rows) == 1
    speed_ups = [float(rows[0].split("|")[i]) for i in (5, 8)]  # forward and forward+backward
    assert all(value > 0 for value in speed_ups)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--cells", "lstmx"], "--cells must be among ('lstm', 'gru', 'rnn'), got 'lstmx'"),
        (["--sections", "gpu"], "--sections must be among ('layers', 'extras', 'streaming'), got 'gpu'"),
        (["--rounds", "0"], "rounds must be a positive int, got 0"),
    ],
)
def test_bench_bad_options_are_one_line_errors(options, message):
    result = invoke("bench", *options)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_report_collects_what_it_echoes():
    echoed = []
    lines = report(["extras"], rounds=1, backend="bptt", echo=echoed.append)
    assert lines[0].startswith("torch ") and "lstmkit backend=bptt" in lines[0]
    assert [line for line in lines if line] == [line for line in echoed if line]
    assert any(line.startswith("| recurrent_dropout | bptt |") for line in lines)


@pytest.mark.skipif(not kernels.available(), reason="the compiled kernels are not built")
def test_report_times_two_way_layers_when_asked(monkeypatch):
    import lstmkit

    built = []
    original = lstmkit.RNN.__init__

    def recording(self, *args, **options):
        built.append(options.get("bidirectional"))
        original(self, *args, **options)

    monkeypatch.setattr(lstmkit.RNN, "__init__", recording)
    lines = report(["layers"], cells=("rnn",), shapes=[(2, 5, 3, 4)], rounds=1, bidirectional=True, echo=lambda _: None)
    assert built == [True]
    assert any(line.startswith("| rnn | 2,5,3,4 |") for line in lines)
    built.clear()
    result = invoke("bench", "--cells", "rnn", "--sections", "layers", "--rounds", "1", "--bidirectional")
    assert result.exit_code == 0, result.output
    assert built == [True] and "| rnn | 32,100,128,128 |" in result.output
