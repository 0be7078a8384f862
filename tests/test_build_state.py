"""When a dbt build may be incremental: the rules of orchestration/build_state.py, on a real
DuckDB file (the builds themselves: tests/test_incremental.py)."""

from __future__ import annotations

import duckdb
import pytest

from orchestration import build_state, fingerprint
from orchestration.build_state import FULL_REFRESH_ENV, FULL_REFRESH_TAG, Mode


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


def test_a_new_warehouse_is_built_in_full(conn):
    mode = build_state.choose_mode(conn, {}, complete=True, current_hash="a")
    assert mode.full_refresh and "no complete successful build" in mode.reason


def test_after_a_complete_build_the_next_is_incremental(conn):
    build_state.record(conn, "a", "run-1234567890", Mode(True, "first"))
    mode = build_state.choose_mode(conn, {}, complete=True, current_hash="a")
    assert not mode.full_refresh and mode.name == "incremental"
    assert "run-1234" in mode.reason


def test_a_build_that_started_and_did_not_finish_leaves_a_full_refresh_next(conn):
    build_state.record(conn, "a", "run-1", Mode(True, "first"))
    build_state.forget(conn)  # what a build does before dbt starts; a failed one stops there
    assert build_state.choose_mode(conn, {}, True, "a").full_refresh


def test_a_changed_dbt_project_is_built_in_full(conn):
    build_state.record(conn, "a", "run-1", Mode(True, "first"))
    mode = build_state.choose_mode(conn, {}, complete=True, current_hash="b")
    assert mode.full_refresh and "dbt project changed" in mode.reason


def test_a_subset_of_the_models_is_built_in_full(conn):
    build_state.record(conn, "a", "run-1", Mode(True, "first"))
    mode = build_state.choose_mode(conn, {}, complete=False, current_hash="a")
    assert mode.full_refresh and "only some" in mode.reason


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_a_run_tag_or_the_environment_asks_for_a_full_refresh(conn, monkeypatch, value):
    build_state.record(conn, "a", "run-1", Mode(True, "first"))
    assert build_state.choose_mode(conn, {FULL_REFRESH_TAG: value}, True, "a").full_refresh
    assert not build_state.choose_mode(conn, {FULL_REFRESH_TAG: "false"}, True, "a").full_refresh
    monkeypatch.setenv(FULL_REFRESH_ENV, value)
    assert build_state.choose_mode(conn, {}, True, "a").full_refresh


def test_the_project_hash_follows_the_dbt_files(tmp_path):
    project = tmp_path / "dbt_project"
    (project / "models").mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        (project / name).write_text("x\n")
    model = project / "models" / "m.sql"
    model.write_text("select 1\n")
    first = fingerprint.dbt_project_hash(project)
    assert fingerprint.dbt_project_hash(project) == first
    model.write_text("select 2\n")
    assert fingerprint.dbt_project_hash(project) != first
