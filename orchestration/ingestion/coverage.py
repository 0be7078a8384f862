"""The coverage of each source's text by its figures, as a table and a check.

For every source whose text is on this machine, every number in the text is listed in
raw.text_coverage with how it is covered: a figure, a date, an exclusion (with its reason), or
not at all. A source without its text is listed in the check's metadata as not checked.
"""

from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.figures.coverage import (
    UNCOVERED,
    coverage,
    read_exclusions,
    summary,
    unused_exclusions,
)
from orchestration.figures.provenance import load_text, resolve_text
from orchestration.ingestion.raw_files import EXCLUSIONS_FILE
from orchestration.locking import RunLock
from orchestration.paths import display, raw_dir

TEXT_COVERAGE = dg.AssetKey(["raw", "text_coverage"])
COLUMNS = (
    "source_id", "language", "position", "number", "value", "kind", "status", "detail", "context",
)  # fmt: skip
DDL = """
create schema if not exists raw;
create table if not exists raw.text_coverage (
    source_id varchar not null,
    language varchar not null,
    position integer not null,
    number varchar not null,
    value double not null,
    kind varchar not null,
    status varchar not null,
    detail varchar,
    context varchar
);
"""


def texts_on_this_machine(sources: pd.DataFrame) -> dict[str, Path | None]:
    """The text file of each source, or None when source.yaml names none or it is not here."""
    folder = raw_dir()
    return {
        source.source_id: resolve_text(source.text, folder / source.source_id)
        if source.text
        else None
        for source in sources.itertuples()
    }


def measure_coverage(
    sources: pd.DataFrame, texts: dict[str, Path | None], figures: pd.DataFrame
) -> tuple[pd.DataFrame, dict]:
    """The coverage rows of every source with a text, and a per-source report.

    `figures` needs only the figures of the sources whose text is here: the others are listed
    as not checked.
    """
    folder = raw_dir()
    by_source = dict(iter(figures.groupby("source_id", sort=False)))
    rows, report = [], {}
    for source in sources.itertuples():
        path = texts.get(source.source_id)
        if path is None:
            report[source.source_id] = {"checked": False, "text": source.text or None}
            continue
        text = load_text(path)
        exclusions = read_exclusions(folder / source.source_id / EXCLUSIONS_FILE)
        mine = by_source.get(source.source_id, figures.iloc[:0]).to_dict("records")
        covered = coverage(text, mine, exclusions)
        rows += [
            {"source_id": source.source_id, "position": c.start, **c.__dict__} for c in covered
        ]
        report[source.source_id] = {
            "checked": True,
            "text": display(path),
            **summary(covered),
            "unused_exclusions": [e.quote for e in unused_exclusions(text, exclusions)],
        }
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "start", "end"])[list(COLUMNS)]
    return frame, report


@dg.asset(
    key=TEXT_COVERAGE,
    deps=[["raw", "sources"], ["raw", "figures"]],
    group_name="raw",
    kinds={"duckdb"},
)
def text_coverage(context: dg.AssetExecutionContext, duckdb: DuckDBResource, run_lock: RunLock):
    """Every number in each source's text and what accounts for it: figure, date or exclusion."""
    with duckdb.get_connection() as conn:
        sources = conn.execute("select source_id, text from raw.sources").df()
        texts = texts_on_this_machine(sources)
        # Only the figures of sources whose text is here: the rest are not read into memory.
        figures = conn.execute(
            "select source_id, figure_id, value, unit, quote_zh, quote_en, "
            "translation_discrepancy from raw.figures where source_id in (select unnest(?))",
            [[source_id for source_id, path in texts.items() if path is not None]],
        ).df()
    frame, report = measure_coverage(sources, texts, figures)
    with duckdb.get_connection() as conn:
        conn.execute(DDL)
        conn.execute("begin transaction")
        conn.execute("delete from raw.text_coverage")
        if len(frame):
            conn.register("incoming", frame)
            conn.execute("insert into raw.text_coverage by name select * from incoming")
            conn.unregister("incoming")
        conn.execute("commit")
    uncovered = frame[frame["status"] == UNCOVERED]
    if len(uncovered):
        context.log.warning(f"{len(uncovered)} number(s) in source texts are not accounted for")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "sources": dg.MetadataValue.json(report),
            "uncovered": dg.MetadataValue.md(
                uncovered[["source_id", "language", "number", "context"]].to_markdown(index=False)
                if len(uncovered)
                else "Every number is accounted for."
            ),
        }
    )


@dg.asset_check(asset=TEXT_COVERAGE)
def every_number_is_accounted_for(duckdb: DuckDBResource, run_lock: RunLock) -> dg.AssetCheckResult:
    """Each number in a source's text is a figure, a date, or excluded with a reason."""
    with duckdb.get_connection() as conn:
        conn.execute(DDL)
        counts = conn.execute(
            "select source_id, language, count(*) as numbers, "
            "count(*) filter (where status = 'uncovered') as uncovered "
            "from raw.text_coverage group by all order by all"
        ).df()
        checked = set(counts["source_id"])
        unchecked = [
            s for (s,) in conn.execute("select source_id from raw.sources").fetchall()
            if s not in checked
        ]  # fmt: skip
    uncovered = int(counts["uncovered"].sum())
    return dg.AssetCheckResult(
        passed=uncovered == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "uncovered_numbers": uncovered,
            "coverage": dg.MetadataValue.md(
                counts.to_markdown(index=False) if len(counts) else "-"
            ),
            "sources_without_text": dg.MetadataValue.json(unchecked),
        },
    )
