"""Read-only copies of the marts for BI tools, and a chart for people who would rather look.

The pipeline's own warehouse file is never handed to a BI tool: DuckDB allows one writer and no
reader beside it, so a dashboard holding the warehouse open would block every run. After each
successful build, `published/marts` writes

  <publish dir>/giants.duckdb          every mart, with its comments, in a storage format that
                                        duckdb 1.x (CLI, JDBC, ODBC, BI drivers) can read
  <publish dir>/parquet/<mart>.parquet  one Parquet file per mart

each to a temporary file first, then renamed over the old one. A rename is atomic and never
touches the old file's inode: a reader that holds the previous copy open keeps reading it, and
the next connection sees the new one. The publish dir is $PUBLISH_DIR, else `published/` beside
the warehouse (data/published/ by default).
"""

import base64
import io
import os
import time
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.paths import PUBLISHED_DATABASE, display, publish_dir, replace_durably
from orchestration.transformation import warehouse_dbt_models

# The oldest storage format DuckDB 2.0 can still write: readable by every duckdb since 1.0
# (June 2024), the engine inside current Metabase, DBeaver and duckdb-engine releases.
STORAGE_VERSION_ENV = "PUBLISH_STORAGE_VERSION"
DEFAULT_STORAGE_VERSION = "v1.0.0"
DATABASE_FILE = PUBLISHED_DATABASE
CHART_FILE = "segment_revenue.png"

MART_KEYS = [key for key in warehouse_dbt_models.keys if key.path[0] == "marts"]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_published_copy(conn, target: Path, storage_version: str) -> dict[str, int]:
    """Copy every marts table (rows and comments) into a new DuckDB file at `target`."""
    tables = [
        name
        for (name,) in conn.execute(
            "select table_name from duckdb_tables() "
            "where database_name = current_database() and schema_name = 'marts' order by 1"
        ).fetchall()
    ]
    target.unlink(missing_ok=True)
    conn.execute(
        f"attach {_quote(str(target))} as published (storage_version {_quote(storage_version)})"
    )
    counts = {}
    try:
        conn.execute("create schema published.marts")
        for table in tables:
            conn.execute(f"create table published.marts.{table} as select * from marts.{table}")
            counts[table] = conn.execute(
                f"select count(*) from published.marts.{table}"
            ).fetchone()[0]
        comments = conn.execute(
            "select table_name, comment from duckdb_tables() "
            "where database_name = current_database() and schema_name = 'marts' "
            "and comment is not null"
        ).fetchall()
        for table, comment in comments:
            conn.execute(f"comment on table published.marts.{table} is {_quote(comment)}")
        column_comments = conn.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where database_name = current_database() and schema_name = 'marts' "
            "and comment is not null"
        ).fetchall()
        for table, column, comment in column_comments:
            conn.execute(
                f'comment on column published.marts.{table}."{column}" is {_quote(comment)}'
            )
    finally:
        conn.execute("detach published")
    return counts


@dg.asset(
    key=["published", "marts"],
    deps=MART_KEYS,
    group_name="published",
    kinds={"duckdb", "parquet"},
    description="A read-only copy of every mart for BI tools: a DuckDB file that duckdb 1.x "
    "reads, and one Parquet file per mart, each replaced atomically.",
)
def published_marts(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    """Publish the marts of a successful build where BI tools read them."""
    folder = publish_dir()
    parquet = folder / "parquet"
    parquet.mkdir(parents=True, exist_ok=True)
    version = os.environ.get(STORAGE_VERSION_ENV) or DEFAULT_STORAGE_VERSION
    final = folder / DATABASE_FILE
    temporary = folder / f".{DATABASE_FILE}.{context.run.run_id[:8]}.tmp"
    started = time.perf_counter()
    with duckdb.get_connection() as conn:
        # Rows of a mart have no meaningful order (every query orders what it shows): let
        # DuckDB write the copy and the Parquet files with all its threads.
        conn.execute("set preserve_insertion_order = false")
        counts = write_published_copy(conn, temporary, version)
        replace_durably(temporary, final)
        for table in counts:
            part = parquet / f".{table}.parquet.tmp"
            conn.execute(
                f"copy (select * from marts.{table}) to {_quote(str(part))} (format parquet)"
            )
            replace_durably(part, parquet / f"{table}.parquet")
    for stale in parquet.glob("*.parquet"):
        if stale.stem not in counts:
            stale.unlink()
    elapsed = time.perf_counter() - started
    context.log.info(f"published {len(counts)} marts to {display(folder)} in {elapsed:.2f} s")
    return dg.MaterializeResult(
        metadata={
            "database": dg.MetadataValue.path(str(final)),
            "parquet_dir": dg.MetadataValue.path(str(parquet)),
            "storage_version": version,
            "tables": dg.MetadataValue.json(counts),
            "size_bytes": final.stat().st_size,
            "seconds": round(elapsed, 3),
        }
    )


SEGMENT_REVENUE_SQL = """
select segment_name_en, company_name_en, revenue_cny_bn
from marts.segment_rankings
join marts.segments using (segment_id)
join marts.companies using (company_id)
where period_label = ? order by sort_order, revenue_cny_bn desc
"""


def render_segment_revenue(rows: list[tuple[str, str, float]], period: str) -> bytes:
    """A grouped horizontal bar chart: each segment's revenue by company, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    segments = list(dict.fromkeys(segment for segment, _, _ in rows))
    companies = sorted({company for _, company, _ in rows})
    colours = dict(zip(companies, plt.get_cmap("tab10").colors, strict=False))
    figure, axis = plt.subplots(figsize=(10, 1.0 + 0.9 * len(segments) + 0.25 * len(rows)))
    position, ticks = 0.0, []
    seen = set()
    for segment in segments:
        bars = [(c, v) for s, c, v in rows if s == segment]
        start = position
        for company, value in bars:
            axis.barh(
                position, value, color=colours[company], label=None if company in seen else company
            )
            axis.text(value, position, f" {value:,.1f}", va="center", fontsize=8)
            seen.add(company)
            position += 1
        ticks.append(((start + position - 1) / 2, segment))
        position += 0.8
    axis.set_yticks([t for t, _ in ticks], [s for _, s in ticks])
    axis.invert_yaxis()
    axis.set_xlabel(f"Revenue, CNY bn ({period})")
    axis.set_title(f"Segment revenue by company, {period} (stated figures)")
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


@dg.asset(
    key=["published", "segment_revenue_chart"],
    deps=[["published", "marts"]],
    group_name="published",
    kinds={"matplotlib"},
    description="A picture of each segment's revenue by company (PNG beside the published "
    "copy, shown in this asset's metadata).",
)
def segment_revenue_chart(context: dg.AssetExecutionContext):
    """Render the latest year's whole-segment revenue by company from the published copy."""
    import duckdb

    folder = publish_dir()
    with duckdb.connect(str(folder / DATABASE_FILE), read_only=True) as conn:
        latest = conn.execute(
            "select max(period_label) from marts.segment_rankings where period_type = 'year'"
        ).fetchone()[0]
        rows = conn.execute(SEGMENT_REVENUE_SQL, [latest]).fetchall() if latest else []
    if not rows:
        context.log.warning("no annual whole-segment revenue to chart")
        return dg.MaterializeResult(metadata={"rows": 0})
    png = render_segment_revenue(rows, latest)
    path = folder / CHART_FILE
    temporary = folder / f".{CHART_FILE}.tmp"
    temporary.write_bytes(png)
    replace_durably(temporary, path)
    encoded = base64.b64encode(png).decode("ascii")
    return dg.MaterializeResult(
        metadata={
            "chart": dg.MetadataValue.md(
                f"![Segment revenue by company](data:image/png;base64,{encoded})"
            ),
            "path": dg.MetadataValue.path(str(path)),
            "period": latest,
            "rows": len(rows),
        }
    )
