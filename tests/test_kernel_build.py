"""Building the kernels: the stamp that notices a stale library, a missing compiler, and the loops the
compiler must vectorise."""

import shutil
import subprocess

import pytest

from lstmkit.io import umask
from lstmkit.kernels import _artifact, build


def test_build_writes_a_current_library_and_notices_stale_sources(tmp_path, monkeypatch):
    target = tmp_path / "kernels.so"
    assert build.build(target) == target
    assert _artifact.is_current(target)
    assert (target.stat().st_mode & 0o777) == 0o755 & ~umask()
    monkeypatch.setattr(_artifact, "source_hash", lambda: "something else")
    assert not _artifact.is_current(target)


def test_build_without_a_compiler_says_so_and_the_install_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CXX", "no-such-compiler-xyz")
    with pytest.raises(RuntimeError, match="no C\\+\\+ compiler: 'no-such-compiler-xyz'"):
        build.build(tmp_path / "k.so")
    monkeypatch.setattr(build, "LIBRARY", tmp_path / "k.so")
    assert build.main([]) == 0
    assert "run its Python loops" in capsys.readouterr().err


def test_the_required_flags_are_part_of_the_stamp(monkeypatch):
    before = _artifact.source_hash()
    monkeypatch.setattr(_artifact, "REQUIRED_FLAGS", (*_artifact.REQUIRED_FLAGS, "-fno-inline"))
    assert _artifact.source_hash() != before


# One instance of each fused element-wise pass whose activations must run on vectors: a loop the compiler
# keeps scalar (the activations' clamps kept as branches, without -fno-trapping-math) ran the LSTM's
# gate pass 2.5 times slower.
PROBE = """
#include "lstm_gates.h"
void keep_f32(int h, float* row, float* c, float* out, float* cells, float* tanh_cells) {
    lstmkit::lstm_gate_row<float, true>(h, row, c, out, cells, tanh_cells);
}
void infer_f64(int h, double* row, double* c, double* out) {
    lstmkit::lstm_gate_row<double, false>(h, row, c, out, nullptr, nullptr);
}
"""


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++ (the compiler the build uses by default)")
def test_the_gate_passes_are_vectorised_with_the_build_flags(tmp_path):
    probe = tmp_path / "probe.cpp"
    probe.write_text(PROBE)
    flags = [flag for flag in _artifact.REQUIRED_FLAGS if flag != "-shared"]
    command = ["g++", *flags, *build.DEFAULT_FLAGS.split(), "-I", str(_artifact.SOURCES_DIR), "-c", str(probe),
               "-o", str(tmp_path / "probe.o"), "-fopt-info-vec-all"]  # fmt: skip
    report = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    gate_lines = [line for line in report.splitlines() if "lstm_gates.h:" in line]
    assert any("optimized: loop vectorized" in line for line in gate_lines), report[-2000:]
    assert not any("not vectorized: control flow" in line for line in gate_lines), report[-2000:]
