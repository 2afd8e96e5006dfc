# warroom: `make run` serves a demo, `make test` runs every suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint types imports unit deps system-deps bench bench-api bench-ingest bench-paging bench-report bench-statuspage clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

deps: $(STAMP)

run: $(STAMP)
	$(BIN)/warroom db upgrade
	$(BIN)/warroom demo --if-empty
	$(BIN)/warroom serve

system-deps:
	scripts/install-system-deps

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=25

test: system-deps $(STAMP) lint types imports unit

bench: bench-api bench-ingest bench-paging bench-report bench-statuspage

bench-api: $(STAMP)
	$(BIN)/python bench/api.py

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py

bench-paging: $(STAMP)
	$(BIN)/python bench/paging.py

bench-report: $(STAMP)
	$(BIN)/python bench/report.py

bench-statuspage: $(STAMP)
	$(BIN)/python bench/statuspage.py

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
