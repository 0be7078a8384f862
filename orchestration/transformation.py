"""dbt: staging, intermediate and mart models, with dbt tests as Dagster asset checks."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_duckdb import DuckDBResource

from orchestration import build_state, copy_ahead, fingerprint, snapshots
from orchestration.locking import RunLock
from orchestration.paths import (
    DBT_BUILD,
    DBT_INCREMENTAL_BUILD,
    DBT_PROJECT_DIR,
    dbt_project_files,
    dbt_target_dir,
    publish_dir,
)

# DBT_TARGET_PATH is dbt's own variable: honouring it here too keeps the manifest Dagster reads and
# the one dbt writes in one folder (the benchmarks use a private one).
dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target_path=dbt_target_dir(),
)


def manifest_is_stale(project: DbtProject) -> bool:
    """Whether a file dbt parses is newer than the manifest (the Makefile's rule, in Python)."""
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    return any(p.stat().st_mtime > built for p in dbt_project_files(project.project_dir))


# Under `dagster dev` (make ui) prepare_if_dev() runs `dbt parse` wherever this module is
# imported: the code server at each reload, and every run worker, so each run from the UI
# parsed again (benchmarks/RESULTS.md). Only parse when the project changed since the manifest
# was written.
if manifest_is_stale(dbt_project):
    dbt_project.prepare_if_dev()

LAYER_GROUPS = {"reference": "reference", "staging": "staging", "intermediate": "staging"}


class WarehouseTranslator(DagsterDbtTranslator):
    """Key dbt nodes by [schema, name] (marts/figures), and group them by layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return LAYER_GROUPS.get(dbt_resource_props.get("schema"), "marts")


# The publish step's asset (orchestration/publish.py), which follows this one.
PUBLISHED = dg.AssetKey(["published", "marts"])


def run_assets(context: dg.AssetExecutionContext) -> set[dg.AssetKey]:
    """The assets this run materializes: its own selection, else its job's (a job built for a
    subset selects only that)."""
    layer = context.job_def.asset_layer
    return set(context.run.asset_selection or layer.executable_asset_keys)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseTranslator(),
)
def warehouse_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    duckdb: DuckDBResource,
    run_lock: RunLock,
):
    """Build and test every dbt node the run selects (seeds, staging, marts) in dependency order:
    incrementally by source on top of the last complete build, or in full (build_state.py)."""
    project = fingerprint.dbt_project_hash()
    # Complete: every model and every dbt test. A build whose tests were left out (the launchpad
    # lets one untick the checks) is no base for the next, which tests only the rows it writes.
    complete = set(context.selected_asset_keys) >= set(warehouse_dbt_models.keys) and set(
        context.selected_asset_check_keys
    ) >= set(warehouse_dbt_models.check_keys)
    with duckdb.get_connection() as conn:
        mode = build_state.choose_mode(conn, context.run.tags, complete, project)
        build_state.forget(conn)
    context.log.info(f"dbt build, {mode.name}: {mode.reason}")
    args = [*DBT_BUILD, "--full-refresh"] if mode.full_refresh else DBT_INCREMENTAL_BUILD
    # dbt works in its own process while this one waits: copy the file the publish step will
    # bring up to date (orchestration/copy_ahead.py)
    if complete and not mode.full_refresh and PUBLISHED in run_assets(context):
        copy_ahead.start(publish_dir(), snapshots.storage_version())
    # One target folder for every run (one run at a time: orchestration/locking.py), so dbt finds
    # its partial parse of the last run there and parses nothing the project did not change.
    yield from dbt.cli(args, context=context, target_path=dbt_target_dir()).stream()
    if complete:
        with duckdb.get_connection() as conn:
            build_state.record(conn, project, context.run.run_id, mode)
