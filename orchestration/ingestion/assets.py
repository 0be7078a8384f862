"""Dagster assets that load raw/ into the DuckDB raw schema, and the checks that guard them."""

import json
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.build_state import asked_for_full_refresh
from orchestration.ingestion.contract_check import audit_figures
from orchestration.ingestion.folder_files import contract_hash
from orchestration.ingestion.load import load_raw
from orchestration.ingestion.raw_tables import TABLES, counts, ensure_raw_schema
from orchestration.locking import RunLock
from orchestration.paths import display, publish_dir, raw_dir
from orchestration.schemas.figures import COLUMNS, FigureSchema, SourceSchema
from orchestration.schemas.validation import validate_rows
from orchestration.snapshots import pause_point

SOURCES = dg.AssetKey(["raw", "sources"])
FIGURES = dg.AssetKey(["raw", "figures"])
REJECTED = dg.AssetKey(["raw", "figures_rejected"])
PREVIEW_ROWS = 20
LISTED_SOURCES = 50  # longer lists of source ids are cut in the metadata
# pandera re-validates this many figures of the latest load (all of them in a small load), drawn
# at random with a fixed seed: an independent check, in Python, of what the SQL path let through.
# Figures loaded earlier were sampled by their own load's check, and passed the SQL audit.
PANDERA_SAMPLE_ROWS = 10_000
# The loaded figures the SQL audit has passed (figures_match_contract): a run audits the rows
# loaded since, unless the contract changed (every source is then loaded again anyway).
AUDITED = "meta.audited_figures"


def _markdown(frame: pd.DataFrame, limit: int = PREVIEW_ROWS, total: int | None = None):
    shown = frame.head(limit).astype(str).replace({"None": "", "nan": "", "NaT": "", "<NA>": ""})
    header = "| " + " | ".join(shown.columns) + " |\n| " + " | ".join("---" for _ in shown) + " |"
    body = "\n".join(
        "| " + " | ".join(v.replace("|", "\\|").replace("\n", " ") for v in row) + " |"
        for row in shown.itertuples(index=False)
    )
    total = len(frame) if total is None else total
    more = f"\n\n({total - len(shown)} more rows)" if total > len(shown) else ""
    return dg.MetadataValue.md(f"{header}\n{body}{more}")


def _rejected_preview(conn, columns: str) -> pd.DataFrame:
    """The first rejected rows, in file order, for the metadata."""
    return conn.execute(
        f"select {columns} from raw.figures_rejected "
        "order by source_id, source_row nulls first limit ?",
        [PREVIEW_ROWS],
    ).df()


def _ids(ids: list[str]) -> dg.MetadataValue:
    shown = ids[:LISTED_SOURCES]
    more = [f"... and {len(ids) - len(shown)} more"] if len(ids) > len(shown) else []
    return dg.MetadataValue.json([*shown, *more])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SOURCES,
            description="Source documents (raw/<source_id>/source.yaml): who said it, and when.",
            group_name="raw",
            kinds={"duckdb", "pandera"},
        ),
        dg.AssetSpec(
            FIGURES,
            description="Figures that pass the raw/ contract, with file, line and hash lineage.",
            group_name="raw",
            kinds={"duckdb", "pandera"},
        ),
        dg.AssetSpec(
            REJECTED,
            description="Rows and files that broke the contract, with the reason: nothing is lost.",
            group_name="raw",
            kinds={"duckdb"},
        ),
    ],
)
def raw_tables(context: dg.AssetExecutionContext, duckdb: DuckDBResource, run_lock: RunLock):
    """Check every raw/ folder and bring the raw tables in line, reloading changed sources only."""
    folder = raw_dir()
    Path(duckdb.database).parent.mkdir(parents=True, exist_ok=True)
    with duckdb.get_connection() as conn:
        report = load_raw(conn, folder)
        record_load(conn, context.run.run_id, report.file_hashes)
        pause_point("load", publish_dir(), context.run.tags)
        by_source = conn.execute(
            "select source_id, count(*)::integer from raw.figures group by 1 order by 1"
        ).fetchall()
        sources = conn.execute(
            "select source_id, publisher, publication_date from raw.sources order by 1 limit ?",
            [PREVIEW_ROWS],
        ).df()
        # the first rows by source: only the first sources' rows are sorted (raw.figures holds
        # each source's rows together, so the filter skips the others' blocks)
        first, total = [], 0
        for source_id, count in by_source:
            if total >= PREVIEW_ROWS:
                break
            first.append(source_id)
            total += count
        figures = conn.execute(
            "select figure_id, company, metric, value from raw.figures "
            "where list_contains(?, source_id) order by source_id, source_row limit ?",
            [first, PREVIEW_ROWS],
        ).df()
        rejected = _rejected_preview(conn, "source_file, source_row, reason")
    if report.changed:
        context.log.info(
            f"reloaded {len(report.sources_reloaded)} source(s), removed "
            f"{len(report.sources_removed)}, left {len(report.sources_unchanged)} unchanged"
        )
    else:
        context.log.info("raw/ is unchanged since the last load: nothing reloaded")
    if report.counts["rejected"]:
        context.log.warning(
            f"{report.counts['rejected']} row(s) rejected; see raw.figures_rejected. First: "
            f"{rejected['reason'].iloc[0]}"
        )
    seconds = report.seconds.get("write", report.seconds["scan"])
    load = {
        "reloaded": report.changed,
        "sources_reloaded": _ids(report.sources_reloaded),
        "sources_unchanged": len(report.sources_unchanged),
        "sources_removed": _ids(report.sources_removed),
    }
    yield dg.MaterializeResult(
        asset_key=SOURCES,
        metadata={
            "dagster/row_count": report.counts["sources"],
            "raw_dir": display(folder),
            **load,
            "file_hashes": dg.MetadataValue.json(
                dict(list(report.file_hashes.items())[:LISTED_SOURCES])
            ),
            "preview": _markdown(sources, total=report.counts["sources"]),
        },
    )
    yield dg.MaterializeResult(
        asset_key=FIGURES,
        metadata={
            "dagster/row_count": report.counts["figures"],
            **load,
            "rows_read": report.rows_read,
            "load_seconds": round(seconds, 3),
            "rows_per_second": round(report.rows_read / seconds) if report.rows_read else 0,
            "quotes_confirmed_by_python": report.python_confirmed_quotes,
            "rows_by_source": dg.MetadataValue.json(dict(by_source[:LISTED_SOURCES])),
            "preview": _markdown(figures, total=report.counts["figures"]),
        },
    )
    yield dg.MaterializeResult(
        asset_key=REJECTED,
        metadata={
            "dagster/row_count": report.counts["rejected"],
            **load,
            "rejected": _markdown(rejected, total=report.counts["rejected"]),
        },
    )


def record_load(conn, run_id: str, sources: dict[str, str]) -> None:
    """Note what this run read from raw/ ({source_id: folder hash}): what it publishes is
    recorded as made from these (orchestration/publish.py), not from raw/ as it is later."""
    conn.execute("create schema if not exists meta")
    conn.execute(
        "create table if not exists meta.loads "
        "(run_id varchar not null, sources varchar not null, loaded_at timestamp not null)"
    )
    conn.execute("delete from meta.loads where loaded_at < now() - interval 30 day")
    conn.execute(
        "insert into meta.loads values (?, ?, now())",
        [run_id, json.dumps(sources, sort_keys=True)],
    )


def _table(duckdb: DuckDBResource, table: str) -> pd.DataFrame:
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        return conn.execute(f"select * from {table}").df()


def _pandera_sample(conn) -> tuple[int, pd.DataFrame]:
    """FigureSchema (pandas) over a fixed random sample of the latest load's figures, as CSV
    text."""
    sample = conn.execute(
        f"select * from (select {', '.join(COLUMNS)}, source_file, source_row from raw.figures "
        "where loaded_at = (select max(loaded_at) from raw.figures)) "
        f"using sample reservoir({PANDERA_SAMPLE_ROWS} rows) repeatable (20241231)"
    ).df()
    frame = sample[list(COLUMNS)].astype(object)
    frame = frame.where(frame.notna(), None)
    for column in ("period_start", "period_end"):
        frame[column] = sample[column].astype(str).str[:10]
    # the value as a curator writes it, a plain decimal: 197700000000, not 1.977e+11
    frame["value"] = [np.format_float_positional(v, trim="-") for v in sample["value"]]
    _, problems = validate_rows(frame.reset_index(drop=True), FigureSchema)
    failures = pd.DataFrame(
        [
            {
                "source_file": sample.loc[i, "source_file"],
                "source_row": sample.loc[i, "source_row"],
                "figure_id": sample.loc[i, "figure_id"],
                "reason": "pandera: " + "; ".join(m for _, m in messages),
            }
            for i, messages in problems.items()
        ],
        columns=["source_file", "source_row", "figure_id", "reason"],
    )
    return len(sample), failures


def audited_through(conn, every_row: bool) -> datetime | None:
    """The time up to which every loaded figure passed the SQL audit under the contract as it
    is (folder_files.contract_hash: its rules and the seeds); None: audit every row."""
    if every_row:
        return None
    try:
        found = conn.execute(
            f"select loaded_through from {AUDITED} where contract_hash = ?", [contract_hash()]
        ).fetchall()
    except duckdb.CatalogException:  # no audit passed in this warehouse yet
        return None
    return found[0][0] if found else None


def record_audit(conn) -> None:
    """Every figure loaded so far passed the audit, under this contract."""
    conn.execute("create schema if not exists meta")
    conn.execute(
        f"create or replace table {AUDITED} as select ?::varchar as contract_hash, "
        "max(loaded_at) as loaded_through, now() as audited_at from raw.figures",
        [contract_hash()],
    )


@dg.asset_check(asset=FIGURES, blocking=True)
def figures_match_contract(
    context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource, run_lock: RunLock
) -> dg.AssetCheckResult:
    """Loaded figures pass the contract (SQL: the rows loaded since the last audit that passed,
    every row when the contract changed or a full refresh is asked; pandera: a sample of the
    latest load's); rejections warn."""
    with duckdb.get_connection() as conn:
        since = audited_through(conn, asked_for_full_refresh(context.run.tags))
        invalid = audit_figures(conn, since)
        sampled, pandera_failures = _pandera_sample(conn)
        rows = counts(conn)
        loaded, n_rejected = rows["figures"], rows["rejected"]
        rejected = _rejected_preview(conn, "source_file, source_row, figure_id, reason")
    failures = pd.concat(
        [
            invalid[["source_file", "source_row", "figure_id", "reason"]],
            pandera_failures,
            rejected,
        ]
    )
    broken = len(invalid) + len(pandera_failures)
    if not broken:
        with duckdb.get_connection() as conn:
            record_audit(conn)
    metadata = {
        "audited": f"rows loaded after {since}" if since else "every row",
        "loaded_rows": loaded,
        "invalid_loaded_rows": len(invalid),
        "pandera_validated_rows": sampled,
        "pandera_invalid_rows": len(pandera_failures),
        "rejected_rows": n_rejected,
        "failure_cases": _markdown(failures, total=broken + n_rejected),
    }
    if broken:
        return dg.AssetCheckResult(passed=False, metadata=metadata)
    return dg.AssetCheckResult(
        passed=n_rejected == 0, severity=dg.AssetCheckSeverity.WARN, metadata=metadata
    )


@dg.asset_check(asset=SOURCES, blocking=True)
def sources_match_contract(duckdb: DuckDBResource, run_lock: RunLock) -> dg.AssetCheckResult:
    """Every loaded source passes the pandera contract of source.yaml."""
    sources = _table(duckdb, TABLES["sources"])
    columns = list(SourceSchema.to_schema().columns)
    frame = sources[columns].astype(object).where(sources[columns].notna(), None)
    frame["publication_date"] = sources["publication_date"].astype(str)
    _, problems = validate_rows(frame, SourceSchema)
    failures = pd.DataFrame(
        [
            {"source_id": sources.loc[i, "source_id"], "problem": "; ".join(m for _, m in msgs)}
            for i, msgs in problems.items()
        ],
        columns=["source_id", "problem"],
    )
    return dg.AssetCheckResult(
        passed=failures.empty,
        metadata={"loaded_sources": len(sources), "failure_cases": _markdown(failures)},
    )
