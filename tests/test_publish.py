"""The published copy BI tools read: complete, readable by duckdb 1.x and SQLAlchemy, never
in the way of a run."""

import dataclasses
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from xml.etree import ElementTree

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa

from orchestration import snapshots
from orchestration.chart import latest_segment_revenue
from orchestration.paths import PROJECT_ROOT
from orchestration.publish import CHART_FILE, DATABASE_FILE
from orchestration.published_copy import (
    FROM_PREVIOUS,
    FROM_RETIRING,
    mart_tables,
    write_published_copy,
)
from orchestration.published_parquet import write_parquet
from orchestration.snapshots import current_build
from tests.conftest import copy_built, failed_checks, query, run_warehouse
from tests.helpers import published_build_ids, source_part

pytestmark = pytest.mark.integration
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def published(built_warehouse) -> Path:
    return built_warehouse.parent / "published"


def test_the_published_copy_holds_every_mart_with_its_comments(built_warehouse, published):
    marts = query(
        built_warehouse,
        "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts'",
    )
    copy = published / DATABASE_FILE
    for table, _ in marts:
        sql = f"select count(*) from marts.{table}"
        assert query(copy, sql) == query(built_warehouse, sql), table
    sql = (
        "select table_name, column_name, data_type, comment from duckdb_columns() "
        "where schema_name = 'marts' order by all"
    )
    assert query(copy, sql) == query(built_warehouse, sql)
    assert len(query(copy, sql)) >= 200
    assert [p.name for p in published.glob("*.tmp")] == []


def test_every_mart_is_published_as_parquet(built_warehouse, published):
    tables = {
        t
        for (t,) in query(
            built_warehouse, "select table_name from duckdb_tables() where schema_name = 'marts'"
        )
    }
    folders = {p.name: p for p in (published / "parquet").iterdir()}
    assert set(folders) == tables
    with duckdb.connect() as conn:
        for table, folder in folders.items():
            (count,) = conn.execute(f"select count(*) from '{folder}/*.parquet'").fetchone()
            assert count == query(built_warehouse, f"select count(*) from marts.{table}")[0][0]
    # the figures in the parts of their sources, the small marts in one file each
    sources = query(built_warehouse, "select distinct source_id from marts.figures")
    parts = sorted({source_part(s) for (s,) in sources})
    assert sorted(p.stem for p in folders["figures"].glob("*.parquet")) == parts
    assert [p.name for p in folders["sources"].iterdir()] == ["sources.parquet"]


def test_the_duckdb_1x_cli_opens_the_published_copy(published):
    version = subprocess.run(
        [str(DUCKDB_CLI), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert version.startswith("v1."), version
    result = subprocess.run(
        [
            str(DUCKDB_CLI),
            "-readonly",
            "-csv",
            str(published / DATABASE_FILE),
            "-c",
            "select revenue_cny_bn from marts.company_segments "
            "where company_segment_id = 'tencent|games||2024'",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["revenue_cny_bn", "197.7"]


def test_sqlalchemy_with_duckdb_engine_lists_and_reads_the_marts(published):
    # What Superset does: a read-only duckdb-engine URI, the inspector, then queries.
    engine = sa.create_engine(
        f"duckdb:///{published / DATABASE_FILE}", connect_args={"read_only": True}
    )
    try:
        inspector = sa.inspect(engine)
        # the catalog is named after the file: Superset lists the schema as giants.marts
        assert "giants.marts" in inspector.get_schema_names()
        tables = set(inspector.get_table_names(schema="marts"))
        assert {"figures", "companies", "segments", "company_segments"} <= tables
        columns = {c["name"]: c for c in inspector.get_columns("company_segments", schema="marts")}
        assert isinstance(columns["revenue_cny_bn"]["type"], sa.Float)
        assert columns["revenue_cny_bn"]["comment"] == "Stated revenue, CNY bn."
        # Full Table reflection also asks for primary keys, through a REGCLASS cast that
        # duckdb 2.0's pg_catalog lacks (duckdb-engine 0.17): name the table instead.
        figures = sa.table("figures", schema="marts")
        with engine.connect() as conn:
            (count,) = conn.execute(sa.select(sa.func.count()).select_from(figures)).one()
            jd = conn.execute(
                sa.text(
                    "select leader_company_id, leader_revenue_cny_bn from marts.segments "
                    "where segment_id = :segment"
                ),
                {"segment": "ecommerce"},
            ).one()
        assert count >= 100 and tuple(jd) == ("jd", 307.1)
    finally:
        engine.dispose()


def test_the_chart_is_rendered_beside_the_published_copy(published):
    """A bar for each row of the latest year's segment revenue, named in its tooltip."""
    svg = ElementTree.parse(published / CHART_FILE).getroot()
    bars = [t.text for r in svg.iter(f"{SVG}rect") if (t := r.find(f"{SVG}title")) is not None]
    with duckdb.connect(str(published / DATABASE_FILE), read_only=True) as conn:
        year, rows = latest_segment_revenue(conn)
    assert year == "2024" and len(rows) >= 5
    assert bars == [
        f"{company}, {segment}: {value:,.1f} bn CNY" for segment, company, value in rows
    ]
    assert "Tencent Holdings, Games: 197.7 bn CNY" in bars


HOLDER = textwrap.dedent(
    """
    import sys, duckdb
    conn = duckdb.connect(sys.argv[1], read_only=True)
    before = conn.execute("select count(*) from marts.figures").fetchone()[0]
    print(before, flush=True)
    sys.stdin.readline()  # hold the file open until the test says so
    print(conn.execute("select count(*) from marts.figures").fetchone()[0], flush=True)
    """
)


def test_a_reader_holding_the_published_copy_never_blocks_a_run(built_warehouse, tmp_path):
    warehouse, raw = copy_built(built_warehouse, tmp_path)  # a first run of the seed
    copy = tmp_path / "published" / DATABASE_FILE

    reader = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(copy)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        before = int(reader.stdout.readline())
        # a second source: the next run publishes more figures while the reader holds the file
        extra = Path(__file__).parent / "fixtures" / "synthetic-2025-01-01"
        (raw / extra.name).mkdir()
        for name in ("source.yaml", "figures.csv", "article.txt"):
            (raw / extra.name / name).write_bytes((extra / name).read_bytes())
        result = run_warehouse(warehouse, raw)
        assert result.success and failed_checks(result) == []
        # the reader still sees the copy it opened; a new connection sees the new one
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert int(reader.stdout.readline()) == before
        assert query(copy, "select count(*) from marts.figures") == [(before + 3,)]
    finally:
        reader.kill()
        reader.wait()


def bi_section() -> str:
    return (PROJECT_ROOT / "docs" / "bi-tools.md").read_text(encoding="utf-8")


def bi_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", bi_section(), flags=re.DOTALL)


def test_the_bi_tools_analyst_queries_answer_from_the_published_copy(published):
    copy = published / DATABASE_FILE
    leaders, growth, overseas, implied, pdd = [query(copy, sql) for sql in bi_queries()]
    assert leaders[0] == ("Games", "游戏", 1, "Tencent Holdings", 197.7, 97.2)
    assert [r[3] for r in leaders if r[0] == "Advertising"] == [
        "Tencent Holdings",
        "Kuaishou Technology",
        "Xiaomi Corporation",
        "Bilibili",
    ]
    assert growth[0][:2] == ("Bilibili", "games") and growth[0][5] == 40.0 and len(growth) == 5
    # the whole-segment line of Xiaomi's overseas business (marts.businesses) names it
    assert overseas[0] == ("Xiaomi Corporation", "Overseas", 153.3, 41.9, 365.871)
    assert [(r[0], r[1]) for r in implied] == [
        ("bilibili", 27.333),
        ("kuaishou", 127.018),
        ("tencent", 674.444),
        ("xiaomi", 364.444),
        ("xiaomi", 365.871),
    ]
    assert len(pdd) >= 5 and all(r[7] and r[8] for r in pdd)


@pytest.mark.parametrize("number", range(5))
def test_the_bi_tools_analyst_queries_run_in_the_duckdb_1x_cli(published, number):
    sql = bi_queries()[number]
    result = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-csv", str(published / DATABASE_FILE)],
        input=sql,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    assert len(result.stdout.splitlines()) >= 2  # a header and at least one row


def test_the_bi_tools_superset_uri_opens_the_copy_read_only(published):
    (uri,) = re.findall(r"`(duckdb:////<project>/[^`]+)`", bi_section())
    engine = sa.create_engine(uri.replace("/<project>/data/published", str(published)))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from marts.companies")).scalar() == 8
            with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                conn.execute(sa.text("create table marts.scratch (x integer)"))
    finally:
        engine.dispose()


def test_publishing_waits_for_every_mart():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    marts = {key for key in graph.get_all_asset_keys() if key.path[0] == "marts"}
    published = graph.get(dg.AssetKey(["published", "marts"]))
    assert len(marts) >= 12 and marts <= set(published.parent_keys)
    chart = graph.get(dg.AssetKey(["published", "segment_revenue_chart"]))
    assert chart.parent_keys == {published.key}


RW_SESSION = """
import duckdb, os, sys

conn = duckdb.connect(sys.argv[1])  # read-write, as a misconfigured BI tool would
conn.execute("set checkpoint_threshold = '1GB'")  # keep the changes in the WAL
conn.execute("create table marts.scratch as select 42 as x")
conn.execute("update marts.figures set value = -1 where figure_id = 'hc250327-001'")
os._exit(9)  # the session ends without a checkpoint: its WAL stays behind
"""


def test_a_read_write_session_on_the_copy_never_alters_a_later_build(built_warehouse, tmp_path):
    warehouse, raw = copy_built(built_warehouse, tmp_path)  # a first run of the seed
    published = tmp_path / "published"
    first = published_build_ids(published)
    subprocess.run([sys.executable, "-c", RW_SESSION, str(published / DATABASE_FILE)])
    assert list(published.rglob("*.wal")), "the session left no WAL: nothing is tested"
    assert not (published / f"{DATABASE_FILE}.wal").exists()  # it lies in the build's folder

    assert run_warehouse(warehouse, raw).success

    assert published_build_ids(published) != first
    assert list(published.rglob("*.wal")) == []
    copy = published / DATABASE_FILE
    assert query(copy, "select count(*) from duckdb_tables() where table_name = 'scratch'") == [
        (0,)
    ]
    sql = "select figure_id, value from marts.figures order by figure_id"
    assert query(copy, sql) == query(warehouse, sql)
    assert ("hc250327-001", -1.0) not in query(copy, sql)


def test_the_files_of_a_build_are_read_only_and_carry_its_id(published):
    build = current_build(published)
    assert published_build_ids(published) == {build.build_id}
    files = [p for p in build.folder.rglob("*") if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o444 for p in files)
    assert stat.S_IMODE(build.folder.stat().st_mode) == 0o555
    assert query(published / DATABASE_FILE, "select run_id, inputs_hash from meta.build")[0][1]
    for name in ("giants.duckdb", "parquet", "segment_revenue.svg", "current"):
        assert (published / name).is_symlink()
    assert [p.name for p in published.glob("*.tmp")] == []


def test_a_subset_run_publishes_nothing(built_warehouse, tmp_path):
    """Materializing some assets touches the working database only: the snapshot stays."""
    from orchestration.definitions import defs

    warehouse, raw = copy_built(built_warehouse, tmp_path)  # a first run of the seed
    published = tmp_path / "published"
    before = current_build(published).build_id
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAREHOUSE_PATH", str(warehouse))
        patch.setenv("RAW_DIR", str(raw))
        job = defs.resolve_implicit_global_asset_job_def()
        result = job.execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            asset_selection=[
                dg.AssetKey(["published", "marts"]),
                dg.AssetKey(["published", "segment_revenue_chart"]),
            ],
            raise_on_error=False,
        )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "publishes only a complete build" in failure.event_specific_data.error.message
    assert current_build(published).build_id == before


def test_only_the_newest_builds_are_kept_and_leftovers_go(tmp_path):
    published = tmp_path / "published"
    published.mkdir()
    # the stable path of the chart when it was a PNG, kept by a publish folder made before
    (published / "segment_revenue.png").symlink_to("current/segment_revenue.png")
    ids = [f"2026010{n}T000000Z-run{n}" for n in range(1, 6)]
    for build_id in ids:
        partial = snapshots.partial_folder(published, build_id)
        (partial / "parquet").mkdir(parents=True)
        (partial / DATABASE_FILE).write_bytes(b"db")
        snapshots.write_build_info(partial, {"build_id": build_id})
        (published / "builds" / ".stale.partial").mkdir(exist_ok=True)
        (published / ".giants.duckdb.abc.tmp").write_bytes(b"old temp file")
        snapshots.switch(published, partial, build_id)
    kept = sorted(p.name for p in (published / "builds").iterdir())
    assert kept == ids[-snapshots.BUILDS_KEPT :]
    assert os.readlink(published / "current") == f"builds/{ids[-1]}"
    assert not list(published.glob(".*.tmp"))
    assert not (published / "segment_revenue.png").is_symlink()
    assert (published / CHART_FILE).is_symlink()


def test_a_part_gone_from_the_previous_build_is_written_again(built_warehouse, published, tmp_path):
    # a copy of the published build, as the previous one, with one figures file deleted
    build = current_build(published)
    previous_folder = tmp_path / "previous"
    shutil.copytree(build.folder, previous_folder)
    previous = dataclasses.replace(build, folder=previous_folder)
    gone = previous.parquet["figures"][0]["file"]
    (previous_folder / "parquet" / "figures" / gone).unlink()
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, warehouse)
    target = tmp_path / "parquet"
    with duckdb.connect(str(warehouse)) as conn:
        tables = mart_tables(conn)
        manifest, how = write_parquet(conn, target, tables, "next", previous)
    # nothing changed since that build: every part kept but the figures, all written again
    # (the one file lost, the count of rows told)
    assert {f["build_id"] for f in manifest["figures"]} == {"next"}
    assert {f["build_id"] for f in manifest["business_series"]} == {build.build_id}
    assert how.endswith("written again in full, their parts not adding up: figures")
    with duckdb.connect() as conn:
        (count,) = conn.execute(f"select count(*) from '{target}/figures/*.parquet'").fetchone()
    assert count == query(built_warehouse, "select count(*) from marts.figures")[0][0]


def test_the_file_of_a_retired_build_is_taken_only_when_no_reader_holds_it(
    built_warehouse, published, tmp_path
):
    """A publish moves the DuckDB file of the build it retires into the new build rather than
    copy the current one; a reader still holding that file keeps it as it was, and the publish
    copies the previous build's instead."""
    build = current_build(published)
    folders = {}
    for name in ("retiring", "previous"):
        folders[name] = tmp_path / "builds" / name
        shutil.copytree(build.folder, folders[name])
    retiring, previous = (dataclasses.replace(build, folder=folders[n]) for n in folders)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, warehouse)
    record = {**dataclasses.asdict(build), "build_id": "next", "run_id": "next"}
    held = retiring.database.read_bytes()

    notes: list[str] = []

    def publish(target: Path) -> tuple[dict[str, int], str]:
        with duckdb.connect(str(warehouse)) as conn:
            return write_published_copy(
                conn, target, build.storage_version, record, previous, retiring, notes.append
            )

    reader = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(retiring.database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        before = int(reader.stdout.readline())
        counts, how = publish(tmp_path / "held.duckdb")
        assert how == FROM_PREVIOUS
        # the run's log says why
        [note] = notes
        assert note.startswith(
            "the DuckDB copy was not written from the retired build's file: a reader holds it "
            "open ("
        ), note
        # the reader's file: where it was, read-only, not a byte changed, still readable
        assert retiring.database.read_bytes() == held
        assert stat.S_IMODE(retiring.database.stat().st_mode) == 0o444
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert int(reader.stdout.readline()) == before
    finally:
        reader.kill()
        reader.wait()

    # the reader gone, the next publish takes the file (the same inode, brought up to date)
    inode = retiring.database.stat().st_ino
    taken = tmp_path / "taken.duckdb"
    assert publish(taken) == (counts, FROM_RETIRING)
    assert len(notes) == 1
    assert taken.stat().st_ino == inode and not retiring.database.exists()
    assert query(taken, "select build_id from meta.build") == [("next",)]
    assert query(taken, "select count(*) from marts.figures") == [(before,)]
