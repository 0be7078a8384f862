"""The published snapshot readers use: the marts of one complete build, switched in at once.

The pipeline's working database is private to it (a run writes it in place, and a killed run
may leave it half-built); every reader, from `make sql` to a BI tool, reads the snapshot that
the last successful run published (orchestration/snapshots.py: a folder per build, one atomic
pointer). `published/marts` and `published/segment_revenue_chart` are one step, the last of a
run: it writes a new build folder (a DuckDB copy in a storage format duckdb 1.x reads, a
folder of Parquet files per mart, the chart), each file carrying the id of the build that wrote
it, and switches `current` to it only when every file is complete. The DuckDB copy is written
from an earlier build's when few figures changed since (orchestration/published_copy.py: the
file of the build this publish retires, moved rather than copied, when no reader holds it),
and then each Parquet part with no new row and as many rows as before is the previous build's
file, hard-linked (orchestration/published_parquet.py). It publishes only what a complete
run built: a run of a subset of the assets (or a run whose upstream steps failed) leaves the
snapshot as it was.
"""

import json
import time
from datetime import UTC, datetime

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration import copy_ahead, fingerprint, snapshots
from orchestration.chart import write_chart
from orchestration.locking import RunLock
from orchestration.paths import PUBLISHED_DATABASE, display, publish_dir
from orchestration.published_copy import PATCHED_WAYS, figures_built_at, write_published_copy
from orchestration.published_parquet import write_parquet
from orchestration.transformation import PUBLISHED, run_assets, warehouse_dbt_models

DATABASE_FILE = PUBLISHED_DATABASE
CHART_FILE = snapshots.CHART_FILE
MARTS = PUBLISHED
CHART = dg.AssetKey(["published", "segment_revenue_chart"])

MART_KEYS = [key for key in warehouse_dbt_models.keys if key.path[0] == "marts"]


def complete_build() -> tuple[set[dg.AssetKey], set[dg.AssetCheckKey]]:
    """Every asset and check a build is made of: the raw load and its checks, every dbt node."""
    from orchestration.ingestion.assets import (
        figures_match_contract,
        raw_tables,
        sources_match_contract,
    )
    from orchestration.ingestion.coverage import every_number_is_accounted_for, text_coverage

    assets = {*raw_tables.keys, *text_coverage.keys, *warehouse_dbt_models.keys}
    checks = set(warehouse_dbt_models.check_keys)
    for check in (figures_match_contract, sources_match_contract, every_number_is_accounted_for):
        checks |= set(check.check_keys)
    return assets, checks


def incomplete_run(context: dg.AssetExecutionContext) -> list[str]:
    """What this run left out of a complete build: upstream assets or checks not selected."""
    assets, checks = complete_build()
    layer = context.job_def.asset_layer
    selected = run_assets(context)
    selected_checks = set(context.run.asset_check_selection or layer.asset_graph.asset_check_keys)
    missing = sorted(k.to_user_string() for k in assets - selected)
    missing += sorted(k.to_user_string() for k in checks - selected_checks)
    return missing


def loaded_sources(conn, run_id: str) -> dict[str, str] | None:
    """{source_id: folder hash} of what this run's load read from raw/."""
    row = conn.execute(
        "select sources from meta.loads where run_id = ? order by loaded_at desc limit 1",
        [run_id],
    ).fetchone()
    return json.loads(row[0]) if row else None


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            MARTS,
            deps=MART_KEYS,
            group_name="published",
            kinds={"duckdb", "parquet"},
            description="The snapshot every reader uses: a read-only DuckDB copy of every mart "
            "(duckdb 1.x reads it) and a folder of Parquet files per mart, switched in at once "
            "when a complete build succeeded.",
        ),
        dg.AssetSpec(
            CHART,
            deps=[MARTS],
            group_name="published",
            kinds={"svg"},
            description="A picture of each segment's revenue by company (an SVG in the same "
            "snapshot, shown in this asset's metadata).",
        ),
    ],
    can_subset=False,
)
def published_snapshot(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, run_lock: RunLock
):
    """Publish this run's build for readers, as its very last step: all files, or none."""
    if missing := incomplete_run(context):
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise dg.Failure(
            "published/marts publishes only a complete build, and this run did not select "
            f"{shown}: the snapshot readers use is unchanged. Launch the `warehouse` job, or "
            "*Materialize all*, to publish."
        )
    folder = publish_dir()
    run_id = context.run.run_id
    build_id = snapshots.new_build_id(run_id)
    partial = snapshots.partial_folder(folder, build_id)
    try:
        (partial / snapshots.PARQUET_DIR).mkdir(parents=True)
    except OSError as error:
        raise dg.Failure(
            f"cannot write the published snapshot in {display(folder)}: {error.strerror}. Make "
            f"that folder writable (or set PUBLISH_DIR); readers still see the previous build."
        ) from None
    version = snapshots.storage_version()
    started = time.perf_counter()
    previous = snapshots.current_build(folder)
    with duckdb.get_connection() as conn:
        sources = loaded_sources(conn, run_id)
        if sources is None:
            raise dg.Failure("this run loaded no raw/ folder, so there is no build to publish")
        build = {
            "build_id": build_id,
            "run_id": run_id,
            "inputs_hash": fingerprint.inputs_hash(sources),
            "sources": sources,
            "built_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "storage_version": version,
            "figures_built_at": figures_built_at(conn),
        }
        # Rows of a mart have no meaningful order (every query orders what it shows): let
        # DuckDB write the copy and the Parquet files with all its threads.
        conn.execute("set preserve_insertion_order = false")
        try:
            counts, written = write_published_copy(
                conn,
                partial / DATABASE_FILE,
                version,
                build,
                previous,
                snapshots.retiring_build(folder, previous),
                note=context.log.info,
                copied_ahead=lambda earlier: copy_ahead.take(folder, earlier.build_id),
            )
        finally:
            copy_ahead.discard(folder)
        snapshots.pause_point("copy", folder, context.run.tags)
        parquet, parquet_written = write_parquet(
            conn,
            partial / snapshots.PARQUET_DIR,
            list(counts),
            build_id,
            previous if written in PATCHED_WAYS else None,
            pause=lambda: snapshots.pause_point("parquet", folder, context.run.tags),
        )
        chart = write_chart(conn, partial, build_id)
    snapshots.write_build_info(partial, {**build, "tables": counts, "parquet": parquet})
    final = snapshots.switch(folder, partial, build_id)
    elapsed = time.perf_counter() - started
    context.log.info(
        f"published build {build_id} to {display(folder)} in {elapsed:.2f} s "
        f"(the DuckDB copy {written}; Parquet: {parquet_written})"
    )
    yield dg.MaterializeResult(
        asset_key=MARTS,
        metadata={
            "build_id": build_id,
            "database": dg.MetadataValue.path(str(folder / DATABASE_FILE)),
            "build_folder": dg.MetadataValue.path(str(final)),
            "storage_version": version,
            "copy_written": written,
            "parquet_written": parquet_written,
            "inputs_hash": build["inputs_hash"],
            "tables": dg.MetadataValue.json(counts),
            "size_bytes": (final / DATABASE_FILE).stat().st_size,
            "seconds": round(elapsed, 3),
        },
    )
    yield dg.MaterializeResult(
        asset_key=CHART,
        metadata={
            **chart,
            "build_id": build_id,
            "path": dg.MetadataValue.path(str(folder / CHART_FILE)),
        },
    )
