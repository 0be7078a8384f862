# Two commands do everything on a fresh machine: `make run` and `make test` (README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export WAREHOUSE_PATH ?= $(CURDIR)/data/warehouse.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export PATH := $(CURDIR)/.venv/bin:$(PATH)

UV_VERSION := 0.13.9
UV := $(CURDIR)/.tools/bin/uv
PYTHON := $(CURDIR)/.venv/bin/python
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml

.PHONY: help setup run test ui sql lint clean draft check-source coverage

help:
	@echo "make run    set up, then build the warehouse once ($(WAREHOUSE_PATH))"
	@echo "make test   set up, then run the whole test suite"
	@echo "make ui     the Dagster UI (assets, checks, job, schedule) on http://127.0.0.1:3000"
	@echo 'make sql Q="select * from marts.segments"   query the warehouse, read-only'
	@echo "make lint   ruff check and format check"
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

$(MANIFEST): .venv/.synced $(DBT_SOURCES)
	cd dbt_project && dbt parse --quiet
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

setup: .venv/.synced $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml

run: setup
	@$(PYTHON) -m orchestration.run

test: setup
	$(PYTHON) -m pytest

ui: setup
	dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

sql: setup
	@$(PYTHON) -m orchestration.query "$(Q)"

draft: setup
	@$(PYTHON) -m orchestration.figures draft "$(TEXT)"

check-source: setup
	@$(PYTHON) -m orchestration.figures check "$(SOURCE)"

coverage: setup
	@$(PYTHON) -m orchestration.figures coverage "$(SOURCE)"

lint: setup
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

clean:
	rm -rf .venv .tools data .dagster_home dbt_project/target dbt_project/logs .pytest_cache
