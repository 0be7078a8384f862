"""The coverage of each source's text by its figures, as a table and a check.

For every source whose text is on this machine, every number in the text is listed in
raw.text_coverage with how it is covered: a figure, a date, an exclusion (with its reason), or
not at all. A source without its text is listed in the check's metadata as not checked.

The loader rejects a folder whose exclusions.csv or text is broken, but this asset reads them
again, and may run on its own after a curator has edited them: whatever is wrong with one
source's files (a refused text, a malformed or oversized exclusions.csv) skips that source's
coverage only. The reason goes to raw.text_coverage_rejected and to a warning naming the file,
and the other sources are measured.
"""

from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.confine import Refused, folder_problem, shown
from orchestration.figures.coverage import (
    UNCOVERED,
    coverage,
    read_exclusions,
    summary,
    unused_exclusions,
)
from orchestration.figures.provenance import SourceText, load_text, resolve_text
from orchestration.ingestion.raw_files import EXCLUSIONS_FILE, SOURCE_FILE
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
create table if not exists raw.text_coverage_rejected (
    source_id varchar not null,
    source_file varchar not null,
    reason varchar not null
);
"""
REJECTED_COLUMNS = ("source_id", "source_file", "reason")


class CoverageRejected(Exception):
    """One source's coverage cannot be measured: which file, and why (one line)."""

    def __init__(self, source_file: str, reason: str) -> None:
        super().__init__(reason)
        self.source_file, self.reason = source_file, reason


def texts_on_this_machine(sources: pd.DataFrame, rejected: list[dict]) -> dict[str, Path | None]:
    """The text file of each source, or None when source.yaml names none or it is not here.

    A source whose text entry is refused is left out, with its reason added to `rejected`.
    """
    folder = raw_dir()
    texts: dict[str, Path | None] = {}
    for source in sources.itertuples():
        try:
            texts[source.source_id] = (
                resolve_text(source.text, folder / source.source_id) if source.text else None
            )
        except (Refused, OSError) as error:
            where = shown(folder / source.source_id / SOURCE_FILE)
            reason = str(error) if isinstance(error, Refused) else f"text {source.text!r}: {error}"
            rejected.append(
                {
                    "source_id": source.source_id,
                    "source_file": where,
                    "reason": f"{where}: {reason}",
                }
            )
    return texts


def _read_text(path: Path) -> SourceText:
    where = display(path)
    try:
        return load_text(path)
    except Refused as error:
        raise CoverageRejected(where, str(error)) from error
    except UnicodeDecodeError as error:
        raise CoverageRejected(where, f"{where} is not UTF-8 ({error.reason})") from error
    except OSError as error:
        raise CoverageRejected(where, f"{where} cannot be read ({error.strerror})") from error


def _measure_one(folder: Path, source_id: str, path: Path, figures: list[dict]) -> tuple:
    """The coverage rows and report of one source; CoverageRejected when its files are wrong."""
    problem = folder_problem(folder / source_id, folder)
    if problem:
        raise CoverageRejected(shown(folder / source_id), problem)
    text = _read_text(path)
    exclusions_file = folder / source_id / EXCLUSIONS_FILE
    try:
        exclusions = read_exclusions(exclusions_file)
    except Refused as error:
        raise CoverageRejected(shown(exclusions_file), str(error)) from error
    covered = coverage(text, figures, exclusions)
    rows = [{"source_id": source_id, "position": c.start, **c.__dict__} for c in covered]
    report = {
        "checked": True,
        "text": display(path),
        **summary(covered),
        "unused_exclusions": [e.quote for e in unused_exclusions(text, exclusions)],
    }
    return rows, report


def measure_coverage(
    sources: pd.DataFrame,
    texts: dict[str, Path | None],
    figures: pd.DataFrame,
    rejected: list[dict] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The coverage rows of every source with a text, and a per-source report.

    `figures` needs only the figures of the sources whose text is here: the others are listed
    as not checked. A source whose text or exclusions.csv cannot be used is skipped, with its
    reason (naming the file) added to `rejected`.
    """
    folder = raw_dir()
    rejected = rejected if rejected is not None else []
    by_source = dict(iter(figures.groupby("source_id", sort=False)))
    rows, report = [], {}
    refused = {r["source_id"] for r in rejected}
    for source in sources.itertuples():
        path = texts.get(source.source_id)
        if path is None:
            report[source.source_id] = {
                "checked": False,
                "text": source.text or None,
                **({"rejected": True} if source.source_id in refused else {}),
            }
            continue
        mine = by_source.get(source.source_id, figures.iloc[:0]).to_dict("records")
        try:
            found, report[source.source_id] = _measure_one(folder, source.source_id, path, mine)
        except CoverageRejected as error:
            rejected.append(
                {
                    "source_id": source.source_id,
                    "source_file": error.source_file,
                    "reason": error.reason,
                }
            )
            report[source.source_id] = {"checked": False, "rejected": True, "reason": error.reason}
            continue
        rows += found
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
    rejected: list[dict] = []
    with duckdb.get_connection() as conn:
        sources = conn.execute("select source_id, text from raw.sources").df()
        texts = texts_on_this_machine(sources, rejected)
        # Only the figures of sources whose text is here: the rest are not read into memory.
        figures = conn.execute(
            "select source_id, figure_id, value, unit, quote_zh, quote_en, "
            "translation_discrepancy from raw.figures where source_id in (select unnest(?))",
            [[source_id for source_id, path in texts.items() if path is not None]],
        ).df()
    frame, report = measure_coverage(sources, texts, figures, rejected)
    refused = pd.DataFrame(rejected, columns=list(REJECTED_COLUMNS)).astype(object)
    with duckdb.get_connection() as conn:
        conn.execute(DDL)
        conn.execute("begin transaction")
        conn.execute("delete from raw.text_coverage")
        conn.execute("delete from raw.text_coverage_rejected")
        for table, rows in (("text_coverage", frame), ("text_coverage_rejected", refused)):
            if len(rows):
                conn.register("incoming", rows)
                conn.execute(f"insert into raw.{table} by name select * from incoming")
                conn.unregister("incoming")
        conn.execute("commit")
    for problem in rejected:
        context.log.warning(f"coverage of {problem['source_id']} skipped: {problem['reason']}")
    uncovered = frame[frame["status"] == UNCOVERED]
    if len(uncovered):
        context.log.warning(f"{len(uncovered)} number(s) in source texts are not accounted for")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "sources": dg.MetadataValue.json(report),
            "sources_rejected": dg.MetadataValue.md(
                refused.to_markdown(index=False) if len(refused) else "None."
            ),
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
        rejected = conn.execute(
            "select source_id, reason from raw.text_coverage_rejected order by all"
        ).fetchall()
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
            "sources_rejected": dg.MetadataValue.json(dict(rejected)),
        },
    )
