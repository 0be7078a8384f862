# Two commands do everything on a fresh machine: `make run` and `make test` (README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export WAREHOUSE_PATH ?= $(CURDIR)/data/warehouse.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export PATH := $(CURDIR)/.venv/bin:$(PATH)
UI_PORT ?= 3000

UV_VERSION := 0.13.9
UV := $(CURDIR)/.tools/bin/uv
PYTHON := $(CURDIR)/.venv/bin/python
MANIFEST := dbt_project/target/manifest.json
PARSE := dbt_project/target/partial_parse.msgpack
PREPARED := dbt_project/target/.prepared
# What dbt parses (orchestration/paths.py, dbt_project_files): a change re-parses.
DBT_SOURCES := $(shell find $(addprefix dbt_project/,models macros seeds tests snapshots analyses) -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml

.PHONY: always help setup run rebuild test test-fast ui sql lint clean draft check-source coverage ui-check chromium docs bench bench-ui

help:
	@echo "make run    set up, then build and publish the warehouse once (bin/run: same, with its exit code)"
	@echo "make rebuild    the same as make run, but every model built anew (a full refresh)"
	@echo "make test   set up, then run the whole test suite (unit, integration, system)"
	@echo "make test-fast  the unit tests only: no pipeline run, under a minute"
	@echo "make ui     the Dagster UI (assets, checks, job, schedule, sensors) on http://127.0.0.1:3000 (UI_PORT=...)"
	@echo "make ui-check   open the UI's asset graph in headless Chromium: .artifacts/ui/asset-graph.png"
	@echo 'make sql Q="select * from marts.segments"   query the published snapshot, read-only'
	@echo "make lint   ruff check and format check"
	@echo "make bench  time the pipeline on synthetic data (SIZES=seed,100,10000,...): benchmarks/RESULTS.md"
	@echo "make docs   dbt docs (models, columns, tests, exposures), one file: dbt_project/target/static_index.html"
	@echo "make bench-ui   click to published marts: Launch run, Materialize all, make run"
	@echo "make draft TEXT=raw/<id>/article.txt   draft figures.csv from an article (raw/README.md)"
	@echo "make check-source SOURCE=raw/<id>       validate one source folder, no warehouse needed"
	@echo "make coverage SOURCE=raw/<id>           numbers of the article no figure or exclusion covers"

$(UV):
	@command -v python3 >/dev/null || { echo "error: python3 (3.11 or newer) is needed"; exit 2; }
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

# dbt's parse for the runs' profile (orchestration/prepare.py): again when a dbt file changed, when
# the parse or the manifest is missing, or when a dbt command run by hand in dbt_project/ parsed
# the project for a profile of its own (another WAREHOUSE_PATH) and so wrote a newer parse.
$(PREPARED): .venv/.synced $(DBT_SOURCES) $(wildcard $(PARSE)) \
		$(if $(and $(wildcard $(MANIFEST)),$(wildcard $(PARSE))),,always)
	$(PYTHON) -m orchestration.prepare
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

setup: .venv/.synced $(PREPARED) $(DAGSTER_HOME)/dagster.yaml

run: setup
	@$(PYTHON) -m orchestration.run

# A run that builds every dbt model from scratch instead of by changed source
# (orchestration/build_state.py), even when raw/ and the code are unchanged.
rebuild: setup
	@FORCE=1 FULL_REFRESH=1 $(PYTHON) -m orchestration.run

# The suite on every core (at most 4), a test file per worker at a time: a file's module
# fixtures (a built warehouse, a running `dagster dev`) are set up once. Files go out in the
# order tests/conftest.py gives (the longest layer first), not by their number of tests.
test: setup chromium
	$(PYTHON) -m pytest -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

test-fast: setup
	$(PYTHON) -m pytest -m unit -q -n auto

ui: setup
	@$(PYTHON) -m orchestration.ui -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

ui-check: setup chromium
	$(PYTHON) -m pytest "tests/system/test_webserver.py::test_the_asset_graph_shows_raw_staging_and_marts" -q -s

# The browser checks (tests/system/test_webserver.py) drive Debian's chromium. Installed when
# missing, if this is a Debian machine and we are root (CI); otherwise those tests skip and say
# why.
chromium:
	@if [ -x /usr/bin/chromium ]; then echo "chromium: /usr/bin/chromium"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		mkdir -p .artifacts; start=$$(date +%s); export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; } \
			>.artifacts/apt-chromium.log 2>&1 \
		&& echo "chromium: installed with apt-get in $$(( $$(date +%s) - start )) s" \
		|| echo "chromium: apt-get install failed (.artifacts/apt-chromium.log); the UI check will skip"; \
	else echo "chromium: not installed and cannot install it here (needs root and apt-get); the UI check will skip"; fi

sql: setup
	@$(PYTHON) -m orchestration.query "$(Q)"

# The curator's commands read raw/ and the seed CSVs in Python: no dbt parse, even after a seed
# was edited (a new metric), so they need only the virtualenv, not `setup`.
draft: .venv/.synced
	@$(PYTHON) -m orchestration.figures draft "$(TEXT)"

check-source: .venv/.synced
	@$(PYTHON) -m orchestration.figures check "$(SOURCE)"

coverage: .venv/.synced
	@$(PYTHON) -m orchestration.figures coverage "$(SOURCE)"

# dbt docs read the catalog of the working database: build it first when there is none. One
# self-contained HTML file (--static) that opens from disk; or serve them on 127.0.0.1 with
# `cd dbt_project && ../.venv/bin/dbt docs serve --host 127.0.0.1`.
docs: setup
	@test -f "$(WAREHOUSE_PATH)" || $(PYTHON) -m orchestration.run
	$(PYTHON) -m orchestration.docs
	@echo "dbt docs: dbt_project/target/static_index.html (opens without a server)"

# Synthetic corpora are cached in .bench/; each size runs in a temporary folder (benchmarks/run.py).
bench: setup
	$(PYTHON) -m benchmarks.run $(if $(SIZES),--sizes $(SIZES)) --results benchmarks/RESULTS.md

bench-ui: setup
	$(PYTHON) -m benchmarks.ui_path --rounds 3 --results benchmarks/RESULTS.md

lint: setup
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

clean:
	rm -rf .venv .tools data .dagster_home dbt_project/target dbt_project/logs .pytest_cache
