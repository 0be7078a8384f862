"""Bad input, case by case, through the real loader into a real DuckDB file.

Each case breaks one source folder (`b-case`) between two good ones (`a-good`, `c-good`) and
states the exact outcome: which lines of the broken file load, which are rejected, with which
column and which words, and that the good sources load in full with the right line numbers.
Nothing is lost: every data line of every file is in raw.figures or raw.figures_rejected.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.ingestion.assets import (
    figures_match_contract,
    raw_tables,
    sources_match_contract,
)
from orchestration.ingestion.load import load_raw
from orchestration.paths import RAW_DIR_ENV
from tests.ingestion.test_raw_files import (
    FIXTURE,
    GOOD_CSV,
    GOOD_ROWS,
    HEADER,
    drop_column,
    make_source,
    replace_field,
    with_rows,
)

CASE = "b-case"
GOOD_SOURCES = {"a-good": "agood-", "c-good": "cgood-"}


@dataclass(frozen=True)
class Case:
    """A broken b-case folder and what must come of it."""

    name: str
    figures: str | bytes | None = GOOD_CSV
    yaml: str | None = None
    loaded: tuple[int, ...] = (2, 3, 4)  # lines of b-case/figures.csv that load
    # (line or None for the whole file, column or None, words the reason contains)
    rejected: tuple[tuple[int | None, str | None, str], ...] = ()


def row(index: int, column: str, value: str) -> str:
    return with_rows(*[replace_field(r, column, value) if i == index else r for i, r in
                       enumerate(GOOD_ROWS)])  # fmt: skip


SOURCE_YAML = (FIXTURE / "source.yaml").read_text(encoding="utf-8")
ALL_REJECTED = (2, 3, 4)

CASES = [
    Case("good folder"),
    Case("empty file", figures="", loaded=(), rejected=((None, None, "figures.csv is empty"),)),
    Case(
        "header only",
        figures=HEADER + "\n",
        loaded=(),
        rejected=((None, None, "has a header but no figures"),),
    ),
    Case(
        "missing column",
        figures=drop_column(GOOD_CSV, "unit"),
        loaded=(),
        rejected=tuple((line, "unit", "missing column 'unit' in the header") for line in ALL_REJECTED),
    ),
    Case(
        "extra column",
        figures=with_rows(*[r + ",x" for r in GOOD_ROWS]).replace(",note", ",note,colour"),
        loaded=(),
        rejected=tuple((line, "colour", "unknown column 'colour'") for line in ALL_REJECTED),
    ),
    Case(
        "wrong delimiter",
        figures=GOOD_CSV.replace(",", ";"),
        loaded=(),
        rejected=tuple((line, None, "header is separated by ';'") for line in ALL_REJECTED),
    ),
    Case("utf-8 with bom", figures=b"\xef\xbb\xbf" + GOOD_CSV.encode("utf-8")),
    Case("windows line endings", figures=GOOD_CSV.replace("\n", "\r\n").encode("utf-8")),
    Case(
        "gbk encoding",
        figures=GOOD_CSV.encode("gbk"),
        loaded=(),
        rejected=((None, None, "is not UTF-8 (line 2, byte 0xd3); it looks like GBK"),),
    ),
    Case(
        "non-numeric value",
        figures=row(0, "value", "1000亿"),
        loaded=(3, 4),
        rejected=((2, "value", "value '1000亿' is not a plain number"),),
    ),
    Case(
        "infinite value",
        figures=row(0, "value", "inf"),
        loaded=(3, 4),
        rejected=((2, None, "value 'inf' is not a finite number"),),
    ),
    Case(
        "negative revenue",
        figures=row(0, "value", "-100000000000"),
        loaded=(3, 4),
        rejected=((2, None, "value '-100000000000' is out of range for unit 'CNY'"),),
    ),
    Case(
        "percent over 1000",
        figures=row(1, "value", "5000"),
        loaded=(2, 4),
        rejected=((3, None, "value '5000' is out of range for unit 'percent'"),),
    ),
    Case(
        "unknown company",
        figures=row(0, "company", "bytedance"),
        loaded=(3, 4),
        rejected=((2, "company", "company 'bytedance' is not one of the allowed values"),),
    ),
    Case(
        "unknown unit",
        figures=row(0, "unit", "USD"),
        loaded=(3, 4),
        rejected=((2, "unit", "unit 'USD' is not one of the allowed values"),),
    ),
    Case(
        "unit does not fit metric",
        figures=row(2, "unit", "users"),
        loaded=(2, 3),
        rejected=((4, None, "does not fit metric 'rides' with measure 'level': expected 'rides'"),),
    ),
    Case(
        "impossible date",
        figures=row(0, "period_start", "2023-02-30"),
        loaded=(3, 4),
        rejected=((2, "period_start", "period_start '2023-02-30' is not a date"),),
    ),
    Case(
        "quote does not state the value",
        figures=row(0, "value", "100"),
        loaded=(3, 4),
        rejected=((2, None, "quote_zh '游戏收入 1000 亿元' does not state value 100 CNY"),),
    ),
    Case(
        "duplicate id within the source",
        figures=with_rows(*GOOD_ROWS, GOOD_ROWS[0]),
        loaded=(3, 4),
        rejected=(
            (2, "figure_id", "figure_id 'syn-001' appears more than once"),
            (5, "figure_id", "figure_id 'syn-001' appears more than once"),
        ),
    ),
    Case(
        "duplicate id across sources",
        figures=row(0, "figure_id", "agood-001"),
        loaded=(3, 4),
        rejected=(
            (2, "figure_id", "'agood-001' is already used by raw/a-good/figures.csv line 2"),
        ),
    ),
    Case(
        "an extra field on one line",
        figures=with_rows(GOOD_ROWS[0], GOOD_ROWS[1] + ",stray", GOOD_ROWS[2]),
        loaded=(2, 4),
        rejected=((3, None, "19 fields where the header has 18"),),
    ),
    Case(
        "a quoted line break, then a bad row",
        figures=with_rows(
            replace_field(GOOD_ROWS[0], "note", '"two\nlines"'),
            GOOD_ROWS[1],
            replace_field(GOOD_ROWS[2], "company", "nobody"),
        ),
        loaded=(2, 4),
        rejected=((5, "company", "company 'nobody'"),),
    ),
    Case(
        "a blank line, then a bad row",
        figures=HEADER + "\n" + GOOD_ROWS[0] + "\n\n" + GOOD_ROWS[1] + "\n"
        + replace_field(GOOD_ROWS[2], "scope", "whole") + "\n",
        loaded=(2, 4),
        rejected=((5, "scope", "scope 'whole' is not one of the allowed values"),),
    ),  # fmt: skip
    Case(
        "malformed source.yaml",
        yaml="source_id: [unclosed\n",
        loaded=(),
        rejected=tuple((line, None, "source.yaml is not valid YAML at line") for line in ALL_REJECTED),
    ),
    Case(
        "source.yaml without a publisher",
        yaml=SOURCE_YAML.replace("synthetic-2025-01-01", CASE).replace("publisher:", "# publisher:"),
        loaded=(),
        rejected=tuple((line, None, "missing field 'publisher'") for line in ALL_REJECTED),
    ),
    Case(
        "no figures.csv",
        figures=None,
        loaded=(),
        rejected=((None, None, "b-case/figures.csv is missing"),),
    ),
]  # fmt: skip


def build(raw: Path, case: Case) -> None:
    for name, prefix in GOOD_SOURCES.items():
        make_source(raw, name, figures=GOOD_CSV.replace("syn-", prefix))
    make_source(raw, CASE, figures=case.figures, yaml=case.yaml)


def data_lines(case: Case) -> set[int]:
    """Lines of b-case/figures.csv where a record starts, read from the file itself: what must
    be loaded or rejected line by line (none when the file cannot be read as CSV at all)."""
    data = case.figures.encode() if isinstance(case.figures, str) else case.figures
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), strict=True)
        next(reader)
        starts, line = set(), reader.line_num
        for fields in reader:
            if any(value.strip() for value in fields):
                starts.add(line + 1)
            line = reader.line_num
    except (AttributeError, UnicodeDecodeError, StopIteration, csv.Error):
        return set()  # no file, not UTF-8, empty or malformed: rejected as a whole
    return starts


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_has_the_stated_outcome(tmp_path, case):
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    build(raw, case)
    with duckdb.connect(str(warehouse)) as conn:
        load_raw(conn, raw)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        loaded = conn.execute(
            "select source_id, source_row, figure_id from raw.figures order by all"
        ).fetchall()
        rejected = conn.execute(
            "select source_row, column_name, reason, source_file from raw.figures_rejected "
            "where source_id = ? order by source_row nulls first, reason",
            [CASE],
        ).fetchall()
        others = conn.execute(
            "select count(*) from raw.figures_rejected where source_id != ?", [CASE]
        ).fetchall()[0][0]
        sources = [s for (s,) in conn.execute("select source_id from raw.sources").fetchall()]

    # the good sources load in full, with their own line numbers
    for name, prefix in GOOD_SOURCES.items():
        assert [(r, f) for s, r, f in loaded if s == name] == [
            (line, f"{prefix}00{line - 1}") for line in (2, 3, 4)
        ]
    assert others == 0
    # the broken source: exactly the stated lines load, exactly the stated rejections
    assert [r for s, r, _ in loaded if s == CASE] == list(case.loaded)
    assert len(rejected) == len(case.rejected), rejected
    for (line, column, reason, source_file), (want_line, want_column, words) in zip(
        rejected, case.rejected, strict=True
    ):
        assert line == want_line and column == want_column, (line, column, reason)
        assert words in reason, reason
        if line is None:
            assert source_file.endswith(CASE), source_file
        else:  # the reason names the file and the line, as an editor shows them
            assert source_file.endswith(f"{CASE}/figures.csv"), source_file
            assert f"{CASE}/figures.csv line {line}: " in reason, reason
    # nothing lost: every record of the file is either loaded or rejected
    stored = {r for s, r, _ in loaded if s == CASE} | {r for r, _, _, _ in rejected if r}
    assert stored == data_lines(case)
    assert (CASE in sources) == (case.yaml is None)


def materialize(warehouse: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [raw_tables, figures_match_contract, sources_match_contract],
        resources={"duckdb": DuckDBResource(database=str(warehouse))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (event,) = [
        m for m in result.asset_materializations_for_node("raw_tables")
        if m.asset_key.to_user_string() == asset
    ]  # fmt: skip
    return {key: value.value for key, value in event.metadata.items()}


def test_a_bad_row_through_dagster_is_kept_reported_and_skipped_when_unchanged(
    tmp_path, monkeypatch
):
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    case = next(c for c in CASES if c.name == "unknown company")
    build(raw, case)
    monkeypatch.setenv(RAW_DIR_ENV, str(raw))

    first = materialize(warehouse)
    assert first.success
    figures = metadata(first, "raw/figures")
    assert figures["dagster/row_count"] == 8 and figures["reloaded"] is True
    assert figures["sources_reloaded"] == ["a-good", "b-case", "c-good"]
    assert metadata(first, "raw/figures_rejected")["dagster/row_count"] == 1
    checks = {e.check_name: e for e in first.get_asset_check_evaluations()}
    contract = checks["figures_match_contract"]
    assert not contract.passed and contract.severity == dg.AssetCheckSeverity.WARN
    assert contract.metadata["rejected_rows"].value == 1
    assert contract.metadata["invalid_loaded_rows"].value == 0
    assert contract.metadata["pandera_validated_rows"].value == 8
    assert "company 'bytedance'" in contract.metadata["failure_cases"].value
    assert checks["sources_match_contract"].passed

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        (stamp,) = conn.execute("select max(loaded_at) from raw.figures").fetchall()[0]
    second = materialize(warehouse)
    assert second.success
    again = metadata(second, "raw/figures")
    assert again["reloaded"] is False and again["sources_unchanged"] == 3
    assert again["sources_reloaded"] == [] and again["dagster/row_count"] == 8
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert conn.execute("select max(loaded_at) from raw.figures").fetchall()[0] == (stamp,)

    # fixing the row reloads that source only
    make_source_fixed = raw / CASE / "figures.csv"
    make_source_fixed.write_text(GOOD_CSV, encoding="utf-8")
    third = materialize(warehouse)
    fixed = metadata(third, "raw/figures")
    assert fixed["sources_reloaded"] == [CASE] and fixed["sources_unchanged"] == 2
    assert fixed["dagster/row_count"] == 9
    checks = {e.check_name: e for e in third.get_asset_check_evaluations()}
    assert checks["figures_match_contract"].passed
