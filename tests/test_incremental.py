"""Incremental builds by source give the marts a full build gives, and are what runs use.

One scenario, built once for the module: the seed, a quarter's source and a source with a
business line of its own in full; then a source that restates seed facts (one with another
value), added incrementally; then that source revised, the quarter's source removed and a source
added that states the line of its own first (by id), incrementally too; then one more source, in
a build whose DuckDB copy is the first build's file brought up to date. A full build of the same
raw/ in a new warehouse must hold the same rows in every mart, in the warehouse, in the published
copy and in its Parquet files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest

from orchestration import build_state
from orchestration.paths import dbt_target_dir
from orchestration.publish import MARTS
from orchestration.published_copy import FROM_PREVIOUS_AHEAD
from orchestration.snapshots import current_build
from tests.conftest import (
    SEED_SOURCE,
    copy_built,
    copy_raw,
    failed_checks,
    query,
    run_warehouse,
)
from tests.helpers import broken_build, failing_rows, source_part
from tests.sources import (
    FIXTURE,
    FIXTURES,
    MOVED_LINE,
    MOVED_LINE_CSV,
    MOVED_LINE_YAML,
    OWN_LINE,
    OWN_LINE_CSV,
    OWN_LINE_YAML,
    RESTATEMENT_CSV,
    RESTATEMENT_YAML,
)

pytestmark = pytest.mark.integration

QUARTER = "synthetic-2025q1-tencent"
RESTATEMENT = "synthetic-restatement-2025-08-29"
SEED = SEED_SOURCE.name
DBT_STEP = "warehouse_dbt_models"


def build(warehouse: Path, raw: Path, ran: list | None = None) -> str:
    """One run of the warehouse job: how its dbt build went (full or incremental) and how its
    published copy was written (in full or from the previous build). `ran` gets the dbt
    nodes it ran: (asset keys materialized, names of the tests evaluated)."""
    result = run_warehouse(warehouse, raw)
    if ran is not None:
        ran.append(
            (
                {m.asset_key for m in result.asset_materializations_for_node(DBT_STEP)},
                {
                    e.event_specific_data.check_name
                    for e in result.all_events
                    if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.step_key == DBT_STEP
                },
            )
        )
    # the one warning expected: the line of its own (OWN_LINE) is a name no lookup lists
    unexpected = [c for c in failed_checks(result) if "is_conformed_business" not in c]
    assert result.success and unexpected == []
    [(published, parquet)] = [
        (m.metadata["copy_written"].value, m.metadata["parquet_written"].value)
        for m in result.asset_materializations_for_node("published_snapshot")
        if m.asset_key == MARTS
    ]
    # every Parquet part kept or written by its own rule, none by the last resort
    assert "in full" not in parquet, parquet
    return query(warehouse, f"select mode from {build_state.TABLE}")[0][0] + ", " + published


def revise(raw: Path) -> None:
    """The restatement corrected: one value revised to the seed's (its quote with it: the facts
    no longer conflict), one figure withdrawn."""
    rows = RESTATEMENT_CSV.splitlines()
    revised = [
        rows[0],
        rows[1],
        rows[3]
        .replace("192000000000", "191800000000")
        .replace("1920 亿元", "1918 亿元")
        .replace("192.0 billion", "191.8 billion"),
    ]
    (raw / RESTATEMENT / "figures.csv").write_text("\n".join(revised) + "\n", encoding="utf-8")


# The statements figure_conflicts lists of the fact the restatement's syn-r-003 states.
CONFLICT_OF_SYN_R_003 = (
    "select figure_id, is_latest_statement, business_id from marts.figure_conflicts "
    "where fact_id = (select fact_id from marts.figures where figure_id = 'syn-r-003') order by 1"
)


def changed_lines(warehouse: Path) -> list[str]:
    """The business lines the latest dbt build wrote again in the marts built by line."""
    return [
        line
        for (line,) in query(
            warehouse,
            "select business_id from intermediate.int_changed_business_lines "
            "where built_at = (select max(built_at) from intermediate.int_changed_business_lines) "
            "order by 1",
        )
    ]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("incremental")
    raw = copy_raw(root / "raw")
    shutil.copytree(FIXTURES / QUARTER, raw / QUARTER)
    own = raw / OWN_LINE
    own.mkdir()
    (own / "source.yaml").write_text(OWN_LINE_YAML, encoding="utf-8")
    (own / "figures.csv").write_text(OWN_LINE_CSV, encoding="utf-8")
    warehouse = root / "incremental" / "warehouse.duckdb"
    modes = [build(warehouse, raw)]
    first = current_build(warehouse.parent / "published")
    added = query(warehouse, "select count(*) from marts.figures")[0][0]

    folder = raw / RESTATEMENT
    folder.mkdir()
    (folder / "source.yaml").write_text(RESTATEMENT_YAML, encoding="utf-8")
    (folder / "figures.csv").write_text(RESTATEMENT_CSV, encoding="utf-8")
    dbt_ran: list = []
    modes.append(build(warehouse, raw, dbt_ran))
    second = current_build(warehouse.parent / "published")
    restated = query(
        warehouse,
        "select figure_id, is_latest_statement, n_statements from marts.figures "
        "where figure_id in ('hc250327-001', 'syn-r-001') order by 1",
    )
    built_at = query(
        warehouse, "select count(distinct built_at) from intermediate.int_figures_joined"
    )[0][0]
    conflicts = [query(warehouse, CONFLICT_OF_SYN_R_003)]

    changed = [changed_lines(warehouse)]

    quarter_lines = query(
        warehouse,
        f"select distinct business_id from marts.figures where source_id = '{QUARTER}' order by 1",
    )
    own_line = query(
        warehouse, f"select distinct business_id from marts.figures where source_id = '{OWN_LINE}'"
    )
    revise(raw)
    shutil.rmtree(raw / QUARTER)
    moved = raw / MOVED_LINE
    moved.mkdir()
    (moved / "source.yaml").write_text(MOVED_LINE_YAML, encoding="utf-8")
    (moved / "figures.csv").write_text(MOVED_LINE_CSV, encoding="utf-8")
    modes.append(build(warehouse, raw))
    changed.append(changed_lines(warehouse))
    conflicts.append(query(warehouse, CONFLICT_OF_SYN_R_003))
    third = current_build(warehouse.parent / "published")

    # a fourth build retires the first (snapshots.BUILDS_KEPT): its DuckDB file, moved, is
    # brought up to date with what the three builds since changed
    first_file = first.database.stat().st_ino
    first_inodes = {
        str(path.relative_to(first.folder)): path.stat().st_ino
        for path in first.folder.rglob("*.parquet")
    }
    shutil.copytree(FIXTURE, raw / FIXTURE.name)
    modes.append(build(warehouse, raw))
    fourth = current_build(warehouse.parent / "published")

    # what the copies made ahead of builds 2-3 left in the builds folder (orchestration/copy_ahead.py)
    left = sorted(p.name for p in (warehouse.parent / "published" / "builds").glob(".*"))

    full = root / "full" / "warehouse.duckdb"
    full_mode = build(full, raw, dbt_ran)
    return SimpleNamespace(
        raw=raw,
        warehouse=warehouse,
        full=full,
        modes=modes,
        full_mode=full_mode,
        first_count=added,
        restated=restated,
        built_at_batches=built_at,
        changed=changed,
        conflicts=conflicts,
        quarter_lines=[line for (line,) in quarter_lines],
        own_line=[line for (line,) in own_line],
        lines=query(warehouse, "select count(*) from marts.businesses")[0][0],
        first=first,
        second=second,
        third=third,
        fourth=fourth,
        first_file=first_file,
        first_inodes=first_inodes,
        dbt_ran=dbt_ran,
        left=left,
    )


def mart_tables(database: Path) -> list[str]:
    return [
        name
        for (name,) in query(
            database,
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1",
        )
    ]


def differences(left: Path, right: Path, tables: list[str]) -> dict[str, int]:
    """{mart: rows in one database and not the other (either way, duplicates counted)}, all
    columns compared but `loaded_at`, when a source was loaded (each warehouse loaded its own)."""
    found = {}
    with duckdb.connect() as conn:
        conn.execute(f"attach '{left}' as l (read_only)")
        conn.execute(f"attach '{right}' as r (read_only)")
        for table in tables:
            timed = conn.execute(
                "select count(*) from duckdb_columns() where database_name = 'l' "
                "and schema_name = 'marts' and table_name = ? and column_name = 'loaded_at'",
                [table],
            ).fetchall()[0][0]
            if count := rows_apart(conn, f"l.marts.{table}", f"r.marts.{table}", timed):
                found[table] = count
    return found


def rows_apart(conn, one: str, other: str, timed: bool) -> int:
    """Rows in relation `one` and not in `other`, and the other way (duplicates counted), all
    columns compared but `loaded_at` when `timed`."""
    columns = "* exclude (loaded_at)" if timed else "*"
    one_way = f"select {columns} from {one} except all select {columns} from {other}"
    other_way = f"select {columns} from {other} except all select {columns} from {one}"
    return conn.execute(
        f"select (select count(*) from ({one_way})) + (select count(*) from ({other_way}))"
    ).fetchall()[0][0]


def test_a_run_after_a_complete_build_is_incremental(scenario):
    assert scenario.modes == [
        "full, in full",
        f"incremental, {FROM_PREVIOUS_AHEAD}",
        f"incremental, {FROM_PREVIOUS_AHEAD}",
        "incremental, from a retired build's file",
    ]
    # the second and third builds' files: copies of the build before, made during the dbt step,
    # moved into the build, nothing left beside
    assert scenario.left == []
    assert scenario.full_mode == "full, in full"
    # the first build's DuckDB file became the fourth's (moved, not copied), and its folder went
    assert scenario.fourth.database.stat().st_ino == scenario.first_file
    assert not scenario.first.folder.exists()
    # the second run wrote the new source's rows and the seed's statements of the same facts
    # only: the rest kept the first run's build time
    assert scenario.built_at_batches == 2


def test_an_incremental_build_leaves_out_the_seeds_and_the_tests_of_seeds_alone(scenario):
    """The seeds are as the complete build under it loaded and tested them (a changed seed
    changes the project's hash: a full build); every other node runs, a test of a model and a
    seed too (orchestration/paths.py, DBT_INCREMENTAL_BUILD)."""
    (incremental_assets, incremental_tests), (full_assets, full_tests) = scenario.dbt_ran
    nodes = json.loads((dbt_target_dir() / "manifest.json").read_text())["nodes"]
    seeds = {n["name"] for n in nodes.values() if n["resource_type"] == "seed"}
    tests = {
        n["name"]: n["depends_on"]["nodes"] for n in nodes.values() if n["resource_type"] == "test"
    }
    of_seeds_alone = {
        name for name, parents in tests.items() if all(p.startswith("seed.") for p in parents)
    }
    of_a_seed_and_more = {
        name
        for name, parents in tests.items()
        if any(p.startswith("seed.") for p in parents) and name not in of_seeds_alone
    }
    assert seeds and of_seeds_alone and of_a_seed_and_more  # else this test shows nothing
    assert {key.path[-1] for key in full_assets} >= seeds
    assert {key.path[-1] for key in full_assets - incremental_assets} == seeds
    assert full_tests >= of_seeds_alone | of_a_seed_and_more
    assert full_tests - incremental_tests == of_seeds_alone


def test_a_new_source_re_ranks_the_statements_it_restates(scenario):
    assert scenario.restated == [("hc250327-001", False, 2), ("syn-r-001", True, 2)]


def test_figure_conflicts_gains_and_loses_a_fact_with_the_builds_by_line(scenario):
    # the restatement disagrees with the seed on a fact: both statements listed, the new one
    # latest, under the fact's business line; the revision agrees, and the fact leaves the mart
    # (the last build's figure_conflicts then equals a full build's: the test below)
    listed, revised = scenario.conflicts
    assert len(listed) == 2 and ("syn-r-003", True) in [row[:2] for row in listed]
    assert [latest for _, latest, _ in listed].count(True) == 1
    assert len({line for _, _, line in listed}) == 1 and listed[0][2]
    assert revised == []


def test_the_marts_by_business_line_write_only_the_lines_a_build_changed(scenario):
    restated = ["tencent.games", "xiaomi.smartphones"]
    assert scenario.changed[0] == restated
    # the revision, the lines whose figures left with the removed source (those of its periods
    # no other source states: a line can lose rows and gain none), and the line of its own,
    # which the added source states
    assert len(scenario.own_line) == 1
    assert scenario.changed[1] == sorted({*restated, *scenario.quarter_lines, *scenario.own_line})
    assert len(scenario.quarter_lines) > 2 and len(scenario.changed[1]) < scenario.lines / 2


def test_incremental_and_full_builds_hold_the_same_marts(scenario):
    tables = mart_tables(scenario.full)
    assert len(tables) >= 10 and mart_tables(scenario.warehouse) == tables
    assert differences(scenario.warehouse, scenario.full, tables) == {}
    # the removed source's figures left, the revised value replaced the first
    assert query(
        scenario.warehouse,
        "select count(*) from marts.figures where source_id = 'synthetic-2025q1-tencent' "
        "or figure_id = 'syn-r-002'",
    ) == [(0,)]
    assert query(
        scenario.warehouse,
        "select value, has_conflicting_statements from marts.figures where figure_id = 'syn-r-003'",
    ) == [(191800000000.0, False)]


def test_incremental_and_full_published_copies_hold_the_same_marts(scenario):
    copies = [
        current_build(w.parent / "published").database for w in (scenario.warehouse, scenario.full)
    ]
    tables = mart_tables(copies[1])
    assert mart_tables(copies[0]) == tables
    assert differences(*copies, tables) == {}
    # the copy written from the previous build kept its storage format, which duckdb 1.x reads:
    # 64 in the header is the format of v1.0.0 (a file duckdb 2.0 writes by default has 999)
    header = copies[0].read_bytes()[:20]
    assert header[8:12] == b"DUCK" and int.from_bytes(header[12:20], "little") == 64
    # and it did not grow by the tables it replaced (at this size, a guard against gross growth
    # only: a replaced table's blocks show at millions of rows, benchmarks/RESULTS.md). The four
    # tables patched in place take new blocks of their own, about 2 MB here, whatever their size.
    sizes = [copy.stat().st_size for copy in copies]
    assert sizes[0] <= 1.2 * sizes[1] + 2.5 * 2**20, sizes


def parquet_differences(left: Path, right: Path) -> dict[str, int]:
    """{mart: rows in one build's Parquet files and not the other's (either way)}, all columns
    compared but `loaded_at`, as in `differences`."""
    marts = sorted(p.name for p in (right / "parquet").iterdir())
    assert sorted(p.name for p in (left / "parquet").iterdir()) == marts
    found = {}
    with duckdb.connect() as conn:
        for mart in marts:
            one, other = (
                f"read_parquet('{side}/parquet/{mart}/*.parquet')" for side in (left, right)
            )
            names = {row[0] for row in conn.execute(f"describe select * from {one}").fetchall()}
            if count := rows_apart(conn, one, other, "loaded_at" in names):
                found[mart] = count
    return found


def test_incremental_and_full_parquet_files_hold_the_same_marts(scenario):
    builds = [current_build(w.parent / "published") for w in (scenario.warehouse, scenario.full)]
    assert parquet_differences(builds[0].folder, builds[1].folder) == {}
    assert set(builds[0].parquet) == set(builds[1].parquet)


def test_parquet_parts_no_change_touched_are_the_previous_build_s_files(scenario):
    first, second = scenario.first, scenario.second
    kept = {
        (mart, entry["file"])
        for mart, files in second.parquet.items()
        for entry in files
        if entry["build_id"] == first.build_id
    }
    # the parts of the quarter's source and of the source with a line of its own, which the
    # new source did not restate: their figures, and that line's rows in every mart by line,
    # were kept, unless a written part is theirs too
    written = {source_part(s) for s in (RESTATEMENT, SEED)}
    figures = {source_part(s) for s in (QUARTER, OWN_LINE)} - written
    lines = {source_part(OWN_LINE)} - written
    by_line = ("business_series", "businesses", "company_segments", "derived_figures")
    assert kept == {("figures", f"{p}.parquet") for p in figures} | {
        (mart, f"{p}.parquet") for mart in by_line for p in lines
    }
    assert kept, "no part was kept"
    for mart, name in kept:  # (the first build's folder went with the fourth build)
        now = second.folder / "parquet" / mart / name
        assert scenario.first_inodes[f"parquet/{mart}/{name}"] == now.stat().st_ino, name
    # the seed's figures hold the statements the new source re-ranked: written again
    assert {e["file"] for e in second.parquet["figures"] if e["build_id"] == second.build_id} == {
        f"{p}.parquet" for p in written
    }
    # the quarter's source shares its part with the source of a line of its own: when it left,
    # no row of that part was new, and the part was written again because its count fell
    part = f"{source_part(QUARTER)}.parquet"
    assert source_part(QUARTER) == source_part(OWN_LINE)
    [entry] = [e for e in scenario.third.parquet["figures"] if e["file"] == part]
    assert entry["build_id"] == scenario.third.build_id and entry["rows"] == 2
    # the small marts are one file each, written by every build
    assert [e["build_id"] for e in second.parquet["sources"]] == [second.build_id]
    # the line of its own moved to the part of the source that now states it first: in every
    # mart by line, its rows are in that part's file alone
    with duckdb.connect() as conn:
        for mart in by_line:
            files = conn.execute(
                "select distinct parse_filename(filename) from read_parquet(?, filename = true) "
                "where business_id = ?",
                [f"{scenario.third.folder}/parquet/{mart}/*.parquet", *scenario.own_line],
            ).fetchall()
            assert files == [(f"{source_part(MOVED_LINE)}.parquet",)], mart


def test_a_build_that_writes_no_figure_rewrites_none(scenario, tmp_path):
    """A build of raw/ as it was (as one that removes a source alone stating its facts) writes
    no row of int_figures_joined, and so none of marts.figures. It once took the batch before
    from int_figures_joined (after a full refresh, every figure): the rows of that batch, marked
    here, would have been written again and lost their mark."""
    warehouse = tmp_path / "again" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(scenario.warehouse, warehouse)
    last_batch = (
        "figure_id in (select figure_id from intermediate.int_figures_joined "
        "where built_at = (select max(built_at) from intermediate.int_figures_joined))"
    )
    with duckdb.connect(str(warehouse)) as conn:
        marked = conn.execute(
            f"update marts.figures set note = 'not written again' where {last_batch}"
        ).fetchall()[0][0]
    assert marked > 0
    assert build(warehouse, scenario.raw).startswith("incremental, ")
    kept = "select count(*) from marts.figures where note = 'not written again'"
    assert query(warehouse, kept) == [(marked,)]


def test_the_staging_tests_of_an_incremental_build_read_the_new_source_versions(scenario, tmp_path):
    """An incremental build's staging tests read the rows of source versions int_figures_joined
    does not hold yet, and the rows sharing an id with them: a row of a version already built,
    broken in place, is seen by a full build only (the loader never edits a version)."""
    broken = (
        "update raw.figures set company = 'nokia', scope = 'division' "
        "where figure_id = 'hc250327-001'; "
        # a new version of the seed source, with a broken row that reuses an id
        "insert into raw.figures select * replace ('division' as scope, "
        "loaded_at + interval 1 day as loaded_at) from raw.figures where figure_id = 'hc250327-003'"
    )
    reported = {}
    for full_refresh in (False, True):
        folder = tmp_path / ("full" if full_refresh else "incremental")
        folder.mkdir()
        warehouse, results = broken_build(
            scenario.warehouse, folder, broken, "stg_articles__figures", full_refresh
        )
        reported[full_refresh] = (
            failing_rows(warehouse, results["column_values_stg_articles__figures"]),
            sorted(failing_rows(warehouse, results["keys_stg_articles__figures"])),
        )
    assert reported[False] == (
        [("scope", "accepted_values: segment, unit", 1, "division")],
        [("primary_key", "figure_id", "hc250327-003", 2)],
    )
    assert reported[True] == (
        [("scope", "accepted_values: segment, unit", 2, "division")],
        [
            ("primary_key", "figure_id", "hc250327-003", 2),
            ("references lookup_companies.company_id", "company_id", "nokia", 1),
        ],
    )


def test_a_full_refresh_asked_for_rebuilds_the_same_marts(scenario, tmp_path, monkeypatch):
    # what `make rebuild` sets, on a copy of the incrementally built warehouse, raw/ unchanged
    warehouse = tmp_path / "rebuilt" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(scenario.warehouse, warehouse)
    monkeypatch.setenv(build_state.FULL_REFRESH_ENV, "1")
    assert build(warehouse, scenario.raw).startswith("full, ")
    # every row written by this build: one dbt invocation wrote them all
    assert query(
        warehouse, "select count(distinct built_at) from intermediate.int_figures_joined"
    ) == [(1,)]
    assert differences(warehouse, scenario.full, mart_tables(scenario.full)) == {}


def test_a_build_without_its_dbt_tests_is_no_base_for_the_next(built_warehouse, tmp_path):
    """A run with the checks left out builds every model and tests none: it publishes nothing,
    and records no complete build, so that the next run builds in full and tests every row
    rather than only the rows it writes (build_state.py)."""
    warehouse, raw = copy_built(built_warehouse, tmp_path / "copy")
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert build_state.last_build(conn) is not None  # the copy's build was complete
    result = run_warehouse(warehouse, raw, checks=False)
    evaluated = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert evaluated == [] and not result.success  # the publish step refuses
    built = {m.asset_key for m in result.asset_materializations_for_node(DBT_STEP)}
    assert dg.AssetKey(["marts", "figures"]) in built
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert build_state.last_build(conn) is None
