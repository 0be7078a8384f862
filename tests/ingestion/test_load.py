"""Writing to a real DuckDB file: one transaction, no duplicates, nothing stale, no reload
of what did not change."""

from datetime import datetime

import duckdb
import pytest

from orchestration.ingestion import load
from orchestration.ingestion.assets import audited_through, record_audit
from orchestration.ingestion.contract_check import audit_figures
from orchestration.ingestion.load import load_raw
from tests.sources import GOOD_CSV, GOOD_ROWS, HEADER, make_source


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
            load_raw(conn, raw)
    assert counts(warehouse) == {"sources": 1, "figures": 3, "figures_rejected": 0}


def test_a_removed_source_is_removed_from_the_warehouse(tmp_path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw, "a-source")
    make_source(
        raw,
        "b-source",
        figures=(raw / "a-source" / "figures.csv").read_text().replace("syn-", "b-"),
    )
    with duckdb.connect(str(warehouse)) as conn:
        load_raw(conn, raw)
    assert counts(warehouse)["figures"] == 6
    for path in (raw / "b-source").iterdir():
        path.unlink()
    (raw / "b-source").rmdir()
    with duckdb.connect(str(warehouse)) as conn:
        load_raw(conn, raw)
    assert counts(warehouse) == {"sources": 1, "figures": 3, "figures_rejected": 0}


def test_rejected_rows_are_kept_with_lineage(tmp_path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw, figures="figure_id,company\n")
    loaded_at = datetime(2025, 1, 2, 3, 4, 5)
    with duckdb.connect(str(warehouse)) as conn:
        load_raw(conn, raw, loaded_at)
        row = conn.execute(
            "select source_id, reason, loaded_at, length(file_hash) from raw.figures_rejected"
        ).fetchone()
    assert row[0] == "synthetic-2025-01-01"
    assert "header" in row[1] or "missing column" in row[1]
    assert row[2] == loaded_at and row[3] == 64


def loaded_at_by_source(path):
    with duckdb.connect(str(path), read_only=True) as conn:
        return dict(
            conn.execute("select source_id, max(loaded_at) from raw.figures group by 1").fetchall()
        )


def test_an_unchanged_raw_folder_is_not_reloaded(tmp_path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw)
    with duckdb.connect(str(warehouse)) as conn:
        first = load_raw(conn, raw, datetime(2025, 1, 1))
        second = load_raw(conn, raw, datetime(2025, 1, 2))
    assert first.sources_reloaded == ["synthetic-2025-01-01"] and first.changed
    assert not second.changed and second.sources_unchanged == ["synthetic-2025-01-01"]
    assert second.counts == first.counts == {"sources": 1, "figures": 3, "rejected": 0}
    assert loaded_at_by_source(warehouse) == {"synthetic-2025-01-01": datetime(2025, 1, 1)}


def test_only_a_changed_source_is_reloaded_and_a_removed_one_removed(tmp_path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw, "a-source")
    make_source(raw, "b-source", figures=GOOD_CSV.replace("syn-", "b-"))
    make_source(raw, "c-source", figures=GOOD_CSV.replace("syn-", "c-"))
    with duckdb.connect(str(warehouse)) as conn:
        load_raw(conn, raw, datetime(2025, 1, 1))
        (raw / "b-source" / "figures.csv").write_text(
            GOOD_CSV.replace("syn-", "b-").replace(",synthetic\n", ",edited\n"), "utf-8"
        )
        for path in (raw / "c-source").iterdir():
            path.unlink()
        (raw / "c-source").rmdir()
        report = load_raw(conn, raw, datetime(2025, 1, 2))
    assert report.sources_reloaded == ["b-source"] and report.sources_removed == ["c-source"]
    assert report.sources_unchanged == ["a-source"]
    assert loaded_at_by_source(warehouse) == {
        "a-source": datetime(2025, 1, 1),
        "b-source": datetime(2025, 1, 2),
    }
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        notes = conn.execute("select distinct note from raw.figures where source_id = 'b-source'")
        assert notes.fetchall() == [("edited",)]


def test_a_source_sharing_an_id_with_a_changed_one_is_reloaded_too(tmp_path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw, "a-source")
    # b-source repeats syn-001: rejected there, since a-source comes first
    make_source(
        raw, "b-source", figures=GOOD_CSV.replace("syn-002", "b-2").replace("syn-003", "b-3")
    )
    with duckdb.connect(str(warehouse)) as conn:
        first = load_raw(conn, raw)
        assert first.counts == {"sources": 2, "figures": 5, "rejected": 1}
        # a-source renumbers its figure: syn-001 now belongs to b-source alone
        figures = raw / "a-source" / "figures.csv"
        figures.write_text(figures.read_text("utf-8").replace("syn-001", "a-1"), "utf-8")
        second = load_raw(conn, raw)
    assert second.sources_reloaded == ["a-source", "b-source"]
    assert second.counts == {"sources": 2, "figures": 6, "rejected": 0}


def test_sources_sharing_ids_in_a_chain_are_reloaded_together(tmp_path):
    """c-source shares an id with b-source, which shares another with a-source: when c-source
    changes, b-source is reloaded, and a-source with it, or b-source's copy of a-source's id
    would load beside it."""
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(
        raw, "a-source", figures=GOOD_CSV.replace("syn-002", "a-2").replace("syn-003", "a-3")
    )
    # b-source repeats a-source's syn-001 (rejected there) and owns x-1, which c-source repeats
    make_source(
        raw, "b-source", figures=GOOD_CSV.replace("syn-002", "x-1").replace("syn-003", "b-3")
    )
    c_figures = (
        GOOD_CSV.replace("syn-001", "x-1").replace("syn-002", "c-2").replace("syn-003", "c-3")
    )
    make_source(raw, "c-source", figures=c_figures)
    with duckdb.connect(str(warehouse)) as conn:
        first = load_raw(conn, raw)
        assert first.counts == {"sources": 3, "figures": 7, "rejected": 2}
        (raw / "c-source" / "figures.csv").write_text(
            c_figures.replace(",synthetic\n", ",edited\n"), "utf-8"
        )
        second = load_raw(conn, raw)
        ((ids, distinct),) = conn.execute(
            "select count(*), count(distinct figure_id) from raw.figures"
        ).fetchall()
    assert ids == distinct == 7
    assert second.counts == {"sources": 3, "figures": 7, "rejected": 2}
    assert second.sources_reloaded == ["a-source", "b-source", "c-source"]


def test_a_load_that_fails_midway_keeps_the_previous_load(tmp_path, monkeypatch):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw)
    with duckdb.connect(str(warehouse)) as conn:
        load_raw(conn, raw)
    (raw / "synthetic-2025-01-01" / "figures.csv").write_text(
        "\n".join([HEADER, GOOD_ROWS[0]]) + "\n", "utf-8"
    )

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load, "_finish", fail)
    with duckdb.connect(str(warehouse)) as conn, pytest.raises(RuntimeError, match="disk full"):
        load_raw(conn, raw)
    assert counts(warehouse) == {"sources": 1, "figures": 3, "figures_rejected": 0}
    monkeypatch.undo()
    with duckdb.connect(str(warehouse)) as conn:
        assert load_raw(conn, raw).counts["figures"] == 1


def test_the_audit_finds_a_loaded_row_that_breaks_the_contract(tmp_path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw)
    with duckdb.connect(str(warehouse)) as conn:
        load_raw(conn, raw)
        assert audit_figures(conn).empty
        conn.execute("update raw.figures set company = 'nobody' where figure_id = 'syn-002'")
        conn.execute("update raw.figures set value = -1 where figure_id = 'syn-003'")
        found = audit_figures(conn)
    assert list(found.figure_id) == ["syn-002", "syn-003"]
    assert "company 'nobody' is not one of the allowed values" in found.reason.iloc[0]
    assert "figures.csv line 3: " in found.reason.iloc[0]
    assert "value '-1' is out of range" in found.reason.iloc[1]


def test_the_audit_reads_the_rows_loaded_since_the_last_audit_that_passed(tmp_path):
    """A run audits what was loaded since the audit last passed under this contract; every row
    when none passed, the contract changed, or a full refresh is asked (`make rebuild`)."""
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    make_source(raw, "a-source")
    with duckdb.connect(str(warehouse)) as conn:
        load_raw(conn, raw)
        assert audited_through(conn, every_row=False) is None
        assert audit_figures(conn).empty
        record_audit(conn)
        since = audited_through(conn, every_row=False)
        assert since == conn.execute("select max(loaded_at) from raw.figures").fetchone()[0]
        # a row of the audited load, changed in place: no later audit reads it, unless asked to
        conn.execute("update raw.figures set company = 'nobody' where figure_id = 'syn-002'")
        assert audit_figures(conn, since).empty
        assert audited_through(conn, every_row=True) is None
        assert list(audit_figures(conn).figure_id) == ["syn-002"]
        # a source loaded since is audited
        make_source(raw, "b-source", figures=GOOD_CSV.replace("syn-", "b-"))
        load_raw(conn, raw)
        conn.execute("update raw.figures set value = -1 where figure_id = 'b-003'")
        assert list(audit_figures(conn, since).figure_id) == ["b-003"]
        # under another contract, no audit counts
        conn.execute("update meta.audited_figures set contract_hash = 'another'")
        assert audited_through(conn, every_row=False) is None


def test_line_numbers_hold_when_the_files_are_read_in_parallel_scans(tmp_path):
    """Files are split over one ordered scan per thread: every row keeps its own file's line,
    and a file DuckDB cannot parse, in any scan, is still read line by line."""
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    for number, copies in enumerate([1, 4, 2, 7, 3]):
        name = f"source-{number}"
        rows = [
            row.replace("syn-", f"s{number}c{copy}-") for copy in range(copies) for row in GOOD_ROWS
        ]
        if number == 3:  # a stray field on line 5
            rows[3] = rows[3] + ",stray"
        make_source(raw, name, figures="\n".join([HEADER, *rows]) + "\n")
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("set threads = 3")
        report = load_raw(conn, raw)
        loaded = conn.execute("select source_id, figure_id, source_row from raw.figures").fetchall()
        rejected = conn.execute(
            "select source_id, source_row, reason from raw.figures_rejected"
        ).fetchall()
    assert report.files_read_by_python == 1
    assert [(source, line) for source, line, _ in rejected] == [("source-3", 5)]
    assert "19 fields where the header has 18" in rejected[0][2]
    assert len(loaded) == 3 * (1 + 4 + 2 + 7 + 3) - 1
    for source_id, figure_id, line in loaded:
        lines = (raw / source_id / "figures.csv").read_text().splitlines()
        assert lines[line - 1].startswith(figure_id + ","), (source_id, figure_id, line)
