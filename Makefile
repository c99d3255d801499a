# Two entry points for a fresh machine: `make demo` (the main job) and `make test`.
VENV   ?= .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench clean

install: $(STAMP)

# torch is installed first and pinned: a looser requirement would let pip pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q torch==2.13.0
	$(PYTHON) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: install
	$(VENV)/bin/lstmkit selftest

test: install
	$(VENV)/bin/ruff check .
	$(PYTHON) -m pytest -q

bench: install
	$(PYTHON) benchmarks/bench_layers.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
