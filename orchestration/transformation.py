"""dbt: staging, intermediate and mart models, with dbt tests as Dagster asset checks."""

import contextlib
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.paths import (
    DBT_PROJECT_DIR,
    PARTIAL_PARSE,
    WAREHOUSE_ENV,
    dbt_project_files,
    dbt_target_dir,
    parse_cache_file,
    save_parse,
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
# parsed again (4 s here). Only parse when the project changed since the manifest was written.
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


RUN_FOLDER_PREFIX = "warehouse_dbt_models-"
# Run folders (a debug log, the manifest, compiled SQL: 4-6 MB each) and kept parses (about
# 1 MB each) beyond the newest this many are deleted after each run.
RUN_FOLDERS_KEPT = 10


def parse_cache() -> Path:
    """The partial parse kept for runs against the database this run writes."""
    return parse_cache_file(dbt_target_dir(), os.environ.get(WAREHOUSE_ENV, ""))


def run_target(context: dg.AssetExecutionContext) -> Path:
    """This invocation's own target folder, seeded with the last parse against this database."""
    name = f"{RUN_FOLDER_PREFIX}{context.run.run_id[:8]}-{uuid.uuid4().hex[:6]}"
    target = dbt_target_dir() / name
    target.mkdir(parents=True)
    cache = parse_cache()
    if cache.is_file():
        shutil.copyfile(cache, target / PARTIAL_PARSE)
    return target


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # deleted meanwhile, by another run's clean-up
        return 0.0


def keep_parse(target: Path) -> None:
    """Save this invocation's parse for the next run; drop all but the newest run folders and
    parses (each database a run was pointed at, temporary ones in tests too, leaves one).

    Only a saving of time: a failure here (a full disk) never fails the run.
    """
    with contextlib.suppress(OSError):
        parsed = target / PARTIAL_PARSE
        if parsed.is_file():
            cache = save_parse(parsed, os.environ.get(WAREHOUSE_ENV, ""))
            for old in sorted(cache.parent.glob("*.msgpack"), key=_mtime)[:-RUN_FOLDERS_KEPT]:
                old.unlink(missing_ok=True)
        folders = sorted(dbt_target_dir().glob(f"{RUN_FOLDER_PREFIX}*"), key=_mtime)
        for old in folders[:-RUN_FOLDERS_KEPT]:
            shutil.rmtree(old, ignore_errors=True)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseTranslator(),
)
def warehouse_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Build and test every dbt node the run selects (seeds, staging, marts) in dependency order."""
    target = run_target(context)
    try:
        yield from dbt.cli(["build"], context=context, target_path=target).stream()
    finally:
        keep_parse(target)
