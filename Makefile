# Verbatim: every target is a one-liner; `make help` lists them.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup run index test test-fast lint eval eval-baseline eval-external train calibrate bench bench-scale clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' Makefile | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP) ## create .venv: torch (CPU build) first, then the project and its test tools

run: $(STAMP) ## set up, build the index if missing, serve on http://127.0.0.1:8000
	$(BIN)/python -m server

index: $(STAMP) ## (re)build the index of data/articles into var/index (incremental)
	$(BIN)/python -m index build

test: $(STAMP) ## set up if needed and run every test (real model, real server, real browser)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) ## the tests without the slow and browser ones
	$(BIN)/python -m pytest -q -m "not slow and not browser"

lint: $(STAMP) ## ruff and mypy over the code
	$(BIN)/ruff check index server eval tests && $(BIN)/mypy index server eval

eval: $(STAMP) ## gold-set metrics and ablations; fails on a regression against eval/baseline.json
	$(BIN)/python -m eval run

eval-baseline: $(STAMP) ## re-run the eval and save it as the new eval/baseline.json
	$(BIN)/python -m eval run --update-baseline

eval-external: $(STAMP) ## SciFact (BEIR) and SQuAD v1.1 benchmarks -> eval/reports/external.json
	$(BIN)/python -m eval external

train: $(STAMP) ## fit the sentence ranker (SQuAD's training half + gold) -> server/ranker.json
	$(BIN)/python -m eval train

calibrate: $(STAMP) ## fit the abstention model on the gold set -> server/calibration.json
	$(BIN)/python -m eval calibrate

bench: $(STAMP) ## latency, throughput, build time, cold start and memory -> eval/reports/bench.json
	$(BIN)/python -m eval bench

bench-scale: $(STAMP) ## archives of 1k/10k/100k articles (hashing encoder): build, size, start, RSS, latency -> eval/reports/scale.json
	$(BIN)/python -m eval scale

clean: ## remove the index, reports and caches (keeps .venv)
	rm -rf var eval/reports/latest.* .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts
