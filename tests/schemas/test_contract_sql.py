"""The contract in SQL agrees with the Python contract: same verdicts, same words.

The SQL quote check may leave a quote to Python (a miss costs time), but it must never confirm
a quote that numbers.py would refuse (that would load a wrong figure).
"""

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.figures.numbers import supporting_mention
from orchestration.ingestion.load import read_raw
from orchestration.schemas.contract_sql import (
    MACROS,
    column_rules,
    quote_confirmed,
    quote_text,
    quote_token,
)
from orchestration.schemas.figures import FREE_TEXT_COLUMNS, FigureSchema
from orchestration.schemas.validation import validate_rows
from tests.conftest import SEED_SOURCE
from tests.sources import make_source

FIXTURE = Path(__file__).parents[1] / "fixtures" / "synthetic-2025-01-01"
SEED_FIGURES = SEED_SOURCE / "figures.csv"


@pytest.fixture(scope="module")
def conn():
    with duckdb.connect() as connection:
        connection.execute(MACROS)
        yield connection


def sql_confirms(conn, quote: str | None, language: str, value: float, unit: str) -> bool:
    (confirmed,) = sql_confirms_each(conn, [(quote, value, unit)], language)
    return confirmed


def sql_confirms_each(conn, cases: list[tuple], language: str) -> list[bool]:
    """`sql_confirms` of each (quote, value, unit), in order: one query for them all."""
    frame = pd.DataFrame(cases, columns=["q", "v", "unit"]).astype(
        {"q": object, "v": "float64", "unit": object}
    )
    frame.insert(0, "n", range(len(frame)))
    conn.register("_cases", frame)
    try:
        rows = conn.execute(
            f"select {quote_confirmed('t', 'tok', language)} from ("
            f"select n, {quote_text('q', language)} as t, {quote_token(language)} as tok "
            "from (select n, q::varchar as q, v::double as v, unit::varchar as unit from _cases)"
            ") order by n"
        ).fetchall()
    finally:
        conn.unregister("_cases")
    return [confirmed for (confirmed,) in rows]


# (quote, language, value, unit, what SQL must say); every True must hold in Python too
CASES = [
    ("游戏收入 1977 亿元", "zh", 197_700_000_000, "CNY", True),
    ("收入1159.5亿元", "zh", 115_950_000_000, "CNY", True),
    ("收入 11159.5 亿元", "zh", 115_950_000_000, "CNY", False),
    ("提供了 80 万次服务", "zh", 800_000, "rides", True),
    ("计划投入 8 万亿", "zh", 80_000, "CNY", False),
    ("同比增长 5%", "zh", 5, "percent", True),
    ("同比增长 5%", "zh", -5, "percent", True),
    ("同比增长 15%", "zh", 5, "percent", False),
    ("同比增长 0.5%", "zh", 5, "percent", False),
    ("营收 5 亿 %", "zh", 500_000_000, "CNY", False),
    ("1,977 亿元", "zh", 97_700_000_000, "CNY", False),
    ("同比翻倍", "zh", 100, "percent", False),
    ("第五", "zh", 5, "rank", False),
    ("revenue of 197.7 billion yuan", "en", 197_700_000_000, "CNY", True),
    ("revenue of 0.68 billion yuan", "en", 680_000_000, "CNY", True),
    ("(0.68 billion)", "en", 680_000_000, "CNY", True),
    ("0.68 billionaires", "en", 680_000_000, "CNY", False),
    ("0.68 billion percent", "en", 680_000_000, "CNY", False),
    ("x0.68 billion", "en", 680_000_000, "CNY", False),
    ("provided 0.8 million rides", "en", 800_000, "rides", True),
    ("provided 800 thousand rides", "en", 800_000, "rides", False),  # one token per size
    ("8 thousand users", "en", 8_000, "users", True),
    ("up 24.3% year on year", "en", 24.3, "percent", True),
    ("up 124.3% year on year", "en", 24.3, "percent", False),
    ("doubled", "en", 100, "percent", False),
]


@pytest.mark.parametrize(("quote", "language", "value", "unit", "expected"), CASES)
def test_sql_confirms_the_plain_forms_and_leaves_the_rest(
    conn, quote, language, value, unit, expected
):
    assert sql_confirms(conn, quote, language, value, unit) is expected
    if expected:
        assert supporting_mention(quote, language, value, unit) is not None


def test_sql_never_confirms_a_seed_quote_for_another_value(conn):
    """Every curated seed quote against its own value, and against ten times it."""
    seed = pd.read_csv(SEED_FIGURES, dtype=str, keep_default_na=False)
    cases = {"zh": [], "en": []}  # (figure id, quote, value, unit)
    for figure in seed.itertuples():
        value = float(figure.value)
        for language, quote in (("zh", figure.quote_zh), ("en", figure.quote_en)):
            if not quote:
                continue
            for candidate in (value, value * 10):
                cases[language].append((figure.figure_id, quote, candidate, figure.unit))
    confirmed = 0
    for language, asked in cases.items():
        verdicts = sql_confirms_each(conn, [case[1:] for case in asked], language)
        for (figure_id, quote, candidate, unit), verdict in zip(asked, verdicts, strict=True):
            if verdict:
                confirmed += 1
                found = supporting_mention(quote, language, candidate, unit)
                assert found is not None, (figure_id, quote, candidate)
    assert confirmed >= 100  # most seed quotes are plain numbers: SQL settles them


# Bad rows the contract's formats and fields of text refuse: the loader's SQL and the pandera
# model must give each the same words (the loader's reason, less its "file line n: " prefix).
BAD_FIELDS = [
    ("value", "1397_0000_0000"),
    ("value", "1e11"),
    ("value", "nan"),
    ("value", "inf"),
    ("value", "+100000000000"),
    ("value", "1" + "0" * 400),
    ("period_start", "2023/01/01"),
    ("period_end", "2023-12-31T00:00"),
    ("period_start", "2023-1-1"),
    ("period_end", "2023-02-30"),
    ("period", "２０２３"),  # other digits than 0-9, which Python's \d would take
    ("figure_id", "syn-001/x"),
    ("note", "\x1b[2Jcleared"),
    ("quote_zh", "游戏收入 1000\x00 亿元"),
    ("business_zh", "业\x85务"),
    ("company", "tencent\x07"),
    ("note", "two\x01 controls\x02"),
    ("quote_en", "up 5%\x7f"),
    ("note", "x" * 2001),
    ("quote_en", "y" * 2500),
]


# The rules that read values, one case each (tests/ingestion/test_raw_files.py has them too,
# for where a rejected row goes): (row of the fixture, its changed fields).
BAD_VALUES = [
    (0, {"value": "1000亿"}),  # not a plain number
    (0, {"value": "-100000000000"}),  # revenue below zero
    (1, {"value": "5000"}),  # a percent over 1000
    (0, {"company": "bytedance"}),  # not in the companies seed
    (0, {"unit": "USD"}),  # not a unit of the contract
    (2, {"unit": "users"}),  # a unit that does not fit the metric
    (0, {"value": "100"}),  # the quote states 100 billion, not 100
    (0, {"period": "2022"}),  # the period and the dates disagree
    (0, {"quote_zh": ""}),  # a required field left empty
    (0, {"segment": "nowhere", "unit": "USD"}),  # two rules at once
]

BAD_ROWS = (
    [(0, {column: value}) for column, value in BAD_FIELDS]
    + [
        (0, {"note": "\x1b[2J", "quote_en": "up 5%\x00", "company": "nobody"}),  # one message each
        (0, {"business": "x" * 2001, "business_zh": "业\x85务"}),
    ]
    + BAD_VALUES
)


def bad_row(number: int) -> list[str]:
    """The fields of bad-row case `number`: its row of the fixture, changed.

    The figure id is made the case's own (case07-001): every case loads in one raw/ folder, and
    no row may be a duplicate of another case's.
    """
    header, *rows = (FIXTURE / "figures.csv").read_text(encoding="utf-8").splitlines()
    names = header.split(",")
    index, changes = BAD_ROWS[number]
    fields = rows[index].split(",")
    ids = names.index("figure_id")
    fields[ids] = fields[ids].replace("syn-", f"case{number:02d}-")
    for column, value in changes.items():
        fields[names.index(column)] = value
    return fields


@pytest.fixture(scope="module")
def loaded_bad_rows(tmp_path_factory) -> dict[int, list[str]]:
    """Every bad-row case as a source folder of its own, all read by one load: the loader's
    reasons, by case number. A row's reason is its own (the rules read one row at a time)."""
    raw = tmp_path_factory.mktemp("raw")
    header = (FIXTURE / "figures.csv").read_text(encoding="utf-8").splitlines()[0]
    for number in range(len(BAD_ROWS)):
        figures = "\n".join([header, ",".join(bad_row(number))]) + "\n"
        make_source(raw, f"case-{number:02d}", figures=figures)
    rejected = read_raw(raw).rejected
    return {
        number: rejected.reason[rejected.source_id == f"case-{number:02d}"].tolist()
        for number in range(len(BAD_ROWS))
    }


@pytest.mark.parametrize(
    ("number", "changes"),
    [(number, changes) for number, (_, changes) in enumerate(BAD_ROWS)],
    ids=[repr(c)[:40] for _, c in BAD_ROWS],
)
def test_sql_and_pandera_give_a_bad_row_the_same_words(loaded_bad_rows, number, changes):
    """Every bad-row case through both paths of the one contract: the same sentences."""
    names = (FIXTURE / "figures.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    fields = bad_row(number)
    (reason,) = loaded_bad_rows[number]
    frame = pd.DataFrame([dict(zip(names, [f.strip() or None for f in fields], strict=True))])
    _, problems = validate_rows(frame, FigureSchema)
    in_sql = reason.split(" line 2: ", 1)[1]
    in_pandera = "; ".join(m for _, m in problems[0])
    if len(changes) == 1:
        assert in_sql == in_pandera
    else:  # the same sentences; each path lists them in its own order
        assert sorted(in_sql.split("; ")) == sorted(in_pandera.split("; "))


def test_sql_and_pandera_check_the_same_fields_for_control_characters():
    controlled = {
        name
        for name, column in FigureSchema.to_schema().columns.items()
        if any(check.name == "no_control_characters" for check in column.checks)
    }
    (condition,) = [c for c, _, message in column_rules() if "control character" in message]
    assert controlled == set(FREE_TEXT_COLUMNS)
    assert condition.startswith(f"regexp_matches(concat({', '.join(FREE_TEXT_COLUMNS)}),")
