# The two set-up commands of the README: `make repro` and `make test` create and fill .venv
# themselves (exact pins from constraints.txt), so a fresh clone needs nothing else.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
export PATH := $(BIN):$(PATH)

.PHONY: repro test test-slow lint bench venv

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --disable-pip-version-check -c constraints.txt -e '.[dev,slurm]'
	@touch $@

venv: $(STAMP)

repro: $(STAMP)  ## dvc repro on the profile in params.yaml (default: mini)
	dvc repro

test: $(STAMP)  ## fast CPU suite
	pytest $(PYTEST_ARGS)

test-slow: $(STAMP)  ## end-to-end tests (CI runs them too)
	pytest -m slow $(PYTEST_ARGS)

lint: $(STAMP)
	ruff check src tests bench

bench: $(STAMP)  ## CPU benchmarks; results go to BENCHMARKS.md by hand
	python bench/loop_overhead.py
	python bench/data_path.py
