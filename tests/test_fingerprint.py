"""`make run` with nothing new to build: it says so and leaves the warehouse as it is."""

import os

from orchestration import fingerprint
from tests.conftest import copy_raw, query
from tests.test_run import make_run


def test_a_run_with_nothing_changed_stops_at_once_and_a_change_rebuilds(tmp_path, monkeypatch):
    monkeypatch.delenv(fingerprint.FORCE_ENV, raising=False)
    raw = copy_raw(tmp_path / "raw")
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    first = make_run(tmp_path, raw)
    assert first.returncode == 0, first.stderr
    built = warehouse.stat().st_mtime_ns
    ((inputs, _),) = query(warehouse, f"select inputs_hash, built_at from {fingerprint.TABLE}")
    assert inputs == fingerprint.inputs_hash(raw)

    again = make_run(tmp_path, raw)
    assert again.returncode == 0 and again.stdout.startswith("Nothing changed since the build")
    assert "Running the warehouse job" not in again.stdout
    assert warehouse.stat().st_mtime_ns == built

    # a curator edits a note: the source's hash changes, and the next run rebuilds
    figures = next(raw.glob("*/figures.csv"))
    figures.write_text(figures.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    changed = make_run(tmp_path, raw)
    assert changed.returncode == 0 and "Running the warehouse job" in changed.stdout
    assert warehouse.stat().st_mtime_ns != built
    assert query(warehouse, f"select count(*) from {fingerprint.TABLE}") == [(2,)]


def test_force_rebuilds_and_a_missing_published_copy_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.delenv(fingerprint.FORCE_ENV, raising=False)
    raw = copy_raw(tmp_path / "raw")
    assert make_run(tmp_path, raw).returncode == 0
    published = tmp_path / "data" / "published" / "giants.duckdb"
    published.unlink()
    rebuilt = make_run(tmp_path, raw)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Running the warehouse job" in rebuilt.stdout and published.is_file()
    monkeypatch.setenv(fingerprint.FORCE_ENV, "1")
    forced = make_run(tmp_path, raw)
    assert forced.returncode == 0 and "Running the warehouse job" in forced.stdout
    assert os.environ[fingerprint.FORCE_ENV] == "1"
