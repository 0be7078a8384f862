"""Writing to a real DuckDB file: one transaction, no duplicates, nothing stale."""

from datetime import datetime

import duckdb

from orchestration.ingestion.load import write_batch
from orchestration.ingestion.raw_files import read_raw
from tests.ingestion.test_raw_files import make_source


def counts(path):
    with duckdb.connect(str(path), read_only=True) as conn:
        return {
            t: conn.execute(f"select count(*) from raw.{t}").fetchone()[0]
            for t in ("sources", "figures", "figures_rejected")
        }


def test_loading_twice_gives_the_same_rows(tmp_path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw)
    for _ in range(2):
        with duckdb.connect(str(warehouse)) as conn:
            write_batch(conn, read_raw(raw))
    assert counts(warehouse) == {"sources": 1, "figures": 3, "figures_rejected": 0}


def test_a_removed_source_is_removed_from_the_warehouse(tmp_path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw, "a-source")
    make_source(raw, "b-source", figures=(raw / "a-source" / "figures.csv").read_text().replace("syn-", "b-"))
    with duckdb.connect(str(warehouse)) as conn:
        write_batch(conn, read_raw(raw))
    assert counts(warehouse)["figures"] == 6
    for path in (raw / "b-source").iterdir():
        path.unlink()
    (raw / "b-source").rmdir()
    with duckdb.connect(str(warehouse)) as conn:
        write_batch(conn, read_raw(raw))
    assert counts(warehouse) == {"sources": 1, "figures": 3, "figures_rejected": 0}


def test_rejected_rows_are_kept_with_lineage(tmp_path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw, figures="figure_id,company\n")
    loaded_at = datetime(2025, 1, 2, 3, 4, 5)
    with duckdb.connect(str(warehouse)) as conn:
        write_batch(conn, read_raw(raw), loaded_at)
        row = conn.execute(
            "select source_id, reason, loaded_at, length(file_hash) from raw.figures_rejected"
        ).fetchone()
    assert row[0] == "synthetic-2025-01-01"
    assert "header" in row[1] or "missing column" in row[1]
    assert row[2] == loaded_at and row[3] == 64


def test_a_failed_write_keeps_the_previous_load(tmp_path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw)
    with duckdb.connect(str(warehouse)) as conn:
        write_batch(conn, read_raw(raw))
    batch = read_raw(raw)
    batch.figures["value"] = batch.figures["value"].astype(str) + "x"  # cannot cast to double
    with duckdb.connect(str(warehouse)) as conn:
        try:
            write_batch(conn, batch)
        except duckdb.Error:
            pass
        else:
            raise AssertionError("the write should have failed")
    assert counts(warehouse) == {"sources": 1, "figures": 3, "figures_rejected": 0}
