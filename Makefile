# Everything needs only Python 3.11+: the targets create .venv and install what they use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: install dev demo test test-fast bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/python examples/demo.py

test: dev
	$(BIN)/python -m pytest -q

test-fast: dev
	$(BIN)/python -m pytest -q -m "not slow"

bench: dev
	$(BIN)/python bench/grid_overhead.py
	$(BIN)/python bench/incremental.py
	$(BIN)/python bench/pruning.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/drift.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/ui.py

lint: dev
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy

clean:
	rm -rf $(VENV) demo-project .pytest_cache .mypy_cache .ruff_cache
