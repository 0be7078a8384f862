"""Dagster assets that load raw/ into the DuckDB raw schema, and the checks that guard them."""

from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.ingestion.load import TABLES, ensure_raw_schema, write_batch
from orchestration.ingestion.raw_files import read_raw
from orchestration.paths import display, raw_dir
from orchestration.schemas.figures import COLUMNS, FigureSchema, SourceSchema
from orchestration.schemas.validation import validate_rows

SOURCES = dg.AssetKey(["raw", "sources"])
FIGURES = dg.AssetKey(["raw", "figures"])
REJECTED = dg.AssetKey(["raw", "figures_rejected"])
PREVIEW_ROWS = 20


def _markdown(frame: pd.DataFrame, limit: int = PREVIEW_ROWS) -> dg.MetadataValue:
    shown = frame.head(limit).astype(str).replace({"None": "", "nan": "", "NaT": ""})
    header = "| " + " | ".join(shown.columns) + " |\n| " + " | ".join("---" for _ in shown) + " |"
    body = "\n".join(
        "| " + " | ".join(v.replace("|", "\\|").replace("\n", " ") for v in row) + " |"
        for row in shown.itertuples(index=False)
    )
    more = f"\n\n({len(frame) - limit} more rows)" if len(frame) > limit else ""
    return dg.MetadataValue.md(f"{header}\n{body}{more}")


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
def raw_tables(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    """Read every raw/ folder, validate it with pandera, and replace the raw tables at once."""
    folder = raw_dir()
    batch = read_raw(folder)
    Path(duckdb.database).parent.mkdir(parents=True, exist_ok=True)
    with duckdb.get_connection() as conn:
        counts = write_batch(conn, batch)
    if len(batch.rejected):
        context.log.warning(
            f"{len(batch.rejected)} row(s) rejected; see raw.figures_rejected. First: "
            f"{batch.rejected['reason'].iloc[0]}"
        )
    yield dg.MaterializeResult(
        asset_key=SOURCES,
        metadata={
            "dagster/row_count": counts["sources"],
            "raw_dir": display(folder),
            "file_hashes": dg.MetadataValue.json(batch.file_hashes),
            "preview": _markdown(batch.sources[["source_id", "publisher", "publication_date"]]),
        },
    )
    yield dg.MaterializeResult(
        asset_key=FIGURES,
        metadata={
            "dagster/row_count": counts["figures"],
            "rows_by_source": dg.MetadataValue.json(
                batch.figures.groupby("source_id").size().astype(int).to_dict()
            ),
            "preview": _markdown(batch.figures[["figure_id", "company", "metric", "value"]]),
        },
    )
    yield dg.MaterializeResult(
        asset_key=REJECTED,
        metadata={
            "dagster/row_count": counts["rejected"],
            "rejected": _markdown(batch.rejected[["source_file", "source_row", "reason"]]),
        },
    )


def _table(duckdb: DuckDBResource, table: str) -> pd.DataFrame:
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        return conn.execute(f"select * from {table}").df()


@dg.asset_check(asset=FIGURES, blocking=True)
def figures_match_contract(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """The loaded figures pass the pandera contract; rejected rows are listed as a warning."""
    figures = _table(duckdb, TABLES["figures"])
    rejected = _table(duckdb, TABLES["rejected"])
    frame = figures[list(COLUMNS)].astype(object).where(figures[list(COLUMNS)].notna(), None)
    for column in ("period_start", "period_end"):
        frame[column] = figures[column].astype(str)
    _, problems = validate_rows(frame, FigureSchema)
    invalid = pd.DataFrame(
        [
            {"figure_id": figures.loc[i, "figure_id"], "problem": "; ".join(m for _, m in msgs)}
            for i, msgs in problems.items()
        ],
        columns=["figure_id", "problem"],
    )
    metadata = {
        "loaded_rows": len(figures),
        "invalid_loaded_rows": len(invalid),
        "rejected_rows": len(rejected),
        "failure_cases": _markdown(
            pd.concat(
                [
                    invalid.rename(columns={"problem": "reason"}),
                    rejected[["source_file", "source_row", "figure_id", "reason"]],
                ]
            )
        ),
    }
    if len(invalid):
        return dg.AssetCheckResult(passed=False, metadata=metadata)
    return dg.AssetCheckResult(
        passed=len(rejected) == 0, severity=dg.AssetCheckSeverity.WARN, metadata=metadata
    )


@dg.asset_check(asset=SOURCES, blocking=True)
def sources_match_contract(duckdb: DuckDBResource) -> dg.AssetCheckResult:
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
