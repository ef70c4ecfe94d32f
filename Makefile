# The interface to the project: `make demo`, `make test`, `make lint`, `make up`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
FEEDBACK := $(VENV)/bin/feedback
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml scripts/install.sh | sha1sum | cut -c1-12)
SENTIMENT_MODEL := models/sentiment/build/current
PRIVACY_MODEL := models/privacy/build/names/model.int8.onnx
THEMES_CLASSIFIER := models/themes/build/classifier/.built
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GX_ANALYTICS_ENABLED := false
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=
export PYTHONHASHSEED := 0

.PHONY: help install lock models privacy-model reliability reliability-short reliability-faults demo report test test-fast test-browser lint bench bench-10k bench-sentiment bench-themes bench-privacy bench-ingest bench-incremental airflow-standalone up down clean eval-themes stability-themes

help:  ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-20s %s\n", $$1, $$2}'

install: $(STAMP)  ## Create .venv and install the hashed lock (torch CPU first): scripts/install.sh
$(STAMP): requirements.lock pyproject.toml scripts/install.sh
	PYTHON=$(PYTHON) scripts/install.sh $(VENV)
	rm -f $(VENV)/.installed-*
	touch $@

lock:  ## Re-resolve requirements.lock (hashes) from pyproject.toml, keeping current pins where they fit
	grep -E '^[A-Za-z0-9]' requirements.lock | sed 's/ \\$$//' > .lock-constraints.txt
	$(PIP) install --dry-run --ignore-installed --quiet --report .lock-report.json -c .lock-constraints.txt ".[airflow,gx,train]" --group dev
	rm -f .lock-constraints.txt
	$(PY) scripts/write_lock.py .lock-report.json requirements.lock && rm -f .lock-report.json

models: install $(SENTIMENT_MODEL) $(PRIVACY_MODEL) $(THEMES_CLASSIFIER)  ## Build the default models (sentiment classifier, PERSON names model, theme category classifier) from models/

$(SENTIMENT_MODEL): $(wildcard models/sentiment/*.yaml models/sentiment/*.py models/sentiment/data/*.jsonl pipelines/sentiment/*.py)
	$(PY) models/sentiment/train.py

$(THEMES_CLASSIFIER): $(wildcard models/themes/train_classifier.py models/themes/config.yaml models/themes/taxonomy.yaml models/themes/eval/*.jsonl models/themes/eval/*.yaml models/themes/data/*/coded.jsonl pipelines/themes/classifier.py pipelines/themes/encoders.py)
	$(PY) models/themes/train_classifier.py
	touch $@

privacy-model: install $(PRIVACY_MODEL)  ## Build the PERSON names model (MiniLM token classifier, ONNX int8)
$(PRIVACY_MODEL): $(wildcard models/privacy/train_names.py models/privacy/names/* models/privacy/recognizers.yaml pipelines/privacy/synthetic.py pipelines/privacy/namemodel.py models/privacy/eval/*.jsonl models/privacy/eval/*/names.jsonl)
	$(PY) models/privacy/train_names.py --force

demo: install models  ## Generate demo data and run the whole pipeline into data/warehouse.duckdb
	$(FEEDBACK) demo-data --rows 1000 --seed 42
	$(FEEDBACK) run
	@echo "warehouse: $(CURDIR)/data/warehouse.duckdb"
	@echo "reports:   $(CURDIR)/reports/"

# Two pytest workers by default (one per core of the reference machine); each holds up to ~2 GB.
TEST_WORKERS ?= 2

test: install models  ## Run the whole test suite (builds models first; TEST_WORKERS=2 pytest-xdist workers)
	$(PY) -m pytest -q --timeout=900 -n $(TEST_WORKERS) --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: treating as a failure"; exit 1; fi; exit $$rc

test-fast: install  ## Unit tests only (no model build, no Airflow, no browser)
	$(PY) -m pytest -q tests/unit -m "not slow"

lint: install  ## Ruff, import-linter layer contracts, deptry, and the duplicate-code check
	$(VENV)/bin/ruff check pipelines dags models tests benchmarks scripts
	$(VENV)/bin/ruff format --check pipelines dags tests benchmarks scripts
	$(VENV)/bin/lint-imports
	$(VENV)/bin/deptry .
	$(VENV)/bin/pylint --disable=all --enable=duplicate-code --min-similarity-lines=10 --ignore-imports=yes pipelines

report: install  ## Write the HTML reports and exports for the latest month with enough responses
	$(FEEDBACK) report --out reports/

test-browser: install  ## Report tests in headless Chromium (installs Debian chromium if missing)
	$(PY) -m pytest -q -m browser tests/e2e/test_reports_browser.py

bench: models  ## End to end at 10k and 100k records: per-stage wall, CPU, rows/s, peak RSS, naive baselines (long)
	$(PY) -m benchmarks.pipeline --rows 10000
	$(PY) -m benchmarks.pipeline --rows 100000

bench-10k: models  ## End to end at 10k records only (about 10 min on 2 idle cores): benchmarks/results/pipeline-10000.json
	$(PY) -m benchmarks.pipeline --rows 10000

bench-sentiment: models  ## Sentiment throughput: naive vs ours (fp32/int8) vs compute bound
	$(FEEDBACK) bench sentiment

bench-themes: install  ## Theme stage time and peak memory at 10k and 100k comments
	$(PY) -m benchmarks.themes scale --n 10000
	$(PY) -m benchmarks.themes scale --n 100000 --no-second-refit

eval-themes: install  ## Theme quality vs the human-coded evaluation set (per-category F1)
	$(PY) -m benchmarks.themes eval

stability-themes: install  ## Theme ids kept across refits (shuffled input, other seed, more data)
	$(PY) -m benchmarks.themes stability

bench-privacy: install  ## PHI redaction recall/precision per entity type on a planted set
	$(PY) -m benchmarks.privacy --n 600

bench-ingest: install  ## Ingestion throughput on a 100k-row CSV
	$(PY) -m benchmarks.ingest --rows 100000

BENCH_INCREMENTAL_ROWS ?= 10000
bench-incremental: models  ## Full run vs no-op run vs a 1% increment (targets: no-op <= 3 s, 1% <= 5% of full)
	$(PY) -m benchmarks.incremental --rows $(BENCH_INCREMENTAL_ROWS)

reliability: models  ## Hostile inputs, property tests, fuzzing, kill -9 in every stage and other faults, leak scan: one table (long)
	$(PY) -m benchmarks.reliability

reliability-short: models  ## The same table with CI budgets (a few minutes)
	$(PY) -m benchmarks.reliability --short

reliability-faults: models  ## Only the pipeline fault suite (kill -9 per stage, reruns, concurrent runs, disk full, keys)
	$(PY) -m benchmarks.reliability_faults

airflow-standalone: install  ## Run Airflow locally (http://127.0.0.1:8080) with this repo's DAGs
	AIRFLOW_HOME=$(CURDIR)/airflow_home AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__CORE__PARALLELISM=4 \
	$(VENV)/bin/airflow standalone

up:  ## Start the Airflow stack with Docker Compose (needs a Docker engine)
	docker compose up -d --build

down:  ## Stop the Docker Compose stack
	docker compose down

clean:  ## Remove generated data, reports and built models (keeps .venv)
	rm -rf data reports airflow_home test-artifacts models/*/build great_expectations/gx/uncommitted
