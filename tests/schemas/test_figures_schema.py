"""The pandera contract: the seed's own figures pass it, and each rule can reject a frame."""

import pandas as pd
import pandera.pandas as pa
import pytest

from orchestration.schemas.figures import FigureSchema, SourceSchema, period_bounds
from orchestration.schemas.validation import validate_rows
from tests.conftest import SEED_SOURCE

SEED_FIGURES = SEED_SOURCE / "figures.csv"


@pytest.fixture
def seed_frame() -> pd.DataFrame:
    frame = pd.read_csv(SEED_FIGURES, dtype=str, keep_default_na=False)
    return frame.replace("", None)


def test_every_curated_seed_figure_passes(seed_frame):
    validated = FigureSchema.validate(seed_frame, lazy=True)
    assert len(validated) == len(seed_frame) >= 100
    # values and dates are checked as the text the curator wrote, and kept as written
    assert validated["value"].tolist() == seed_frame["value"].tolist()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("company", "tencnet", "not one of the allowed values"),
        ("segment", "gaming", "not one of the allowed values"),
        ("measure", "growth", "not one of the allowed values"),
        ("qualifier", "roughly", "not one of the allowed values"),
        ("translation_discrepancy", "tone", "not one of the allowed values"),
        ("period", "FY24", "has the wrong format"),
        ("figure_id", "Has Spaces", "has the wrong format"),
        ("value", "inf", "is not a plain number"),
        ("value", "1" + "0" * 400, "is not a finite number"),
        # the formats are whole-string matches
        ("value", "1397_0000_0000", "is not a plain number"),
        ("value", "1.977e11", "is not a plain number"),
        ("period_start", "2024/01/01", "is not a date (write YYYY-MM-DD)"),
        ("period_start", "2024-01-01T00:00", "is not a date (write YYYY-MM-DD)"),
        ("period_end", "2024-12-1", "is not a date (write YYYY-MM-DD)"),
        ("figure_id", "hc250327-008\n", "has the wrong format (expected '[a-z0-9][a-z0-9._-]*')"),
        ("period", "2024\n", "has the wrong format"),
        # fields of text: no control character, a length limit
        ("note", "a\x00b", "note contains a control character (U+0000): remove it"),
        ("quote_en", "\x1b[31m", "quote_en contains a control character (U+001B)"),
        ("business", "x" * 2001, "business is 2001 characters long, over the limit of 2,000"),
    ],
)
def test_each_rule_names_the_row_and_the_problem(seed_frame, column, value, message):
    seed_frame.loc[7, column] = value
    valid, problems = validate_rows(seed_frame, FigureSchema)
    assert list(problems) == [7]
    assert message in problems[7][0][1]
    assert len(valid) == len(seed_frame) - 1


def test_lazy_validation_reports_every_broken_row_at_once(seed_frame):
    seed_frame.loc[1, "company"] = "nobody"
    seed_frame.loc[5, "value"] = "lots"
    seed_frame.loc[9, "unit"] = "rank"
    with pytest.raises(pa.errors.SchemaErrors) as raised:
        FigureSchema.validate(seed_frame, lazy=True)
    assert {1, 5}.issubset(set(raised.value.failure_cases["index"].dropna()))
    _, problems = validate_rows(seed_frame, FigureSchema)
    assert sorted(problems) == [1, 5, 9]


def test_a_share_over_100_is_rejected(seed_frame):
    row = seed_frame.index[seed_frame["measure"] == "share_of_company_revenue"][0]
    seed_frame.loc[row, "value"] = "140"
    _, problems = validate_rows(seed_frame, FigureSchema)
    assert "out of range" in " ".join(m for _, m in problems[row])


def test_an_english_quote_may_disagree_only_when_flagged(seed_frame):
    row = seed_frame.index[seed_frame["translation_discrepancy"] == "value"][0]
    assert not validate_rows(seed_frame, FigureSchema)[1]
    seed_frame.loc[row, "translation_discrepancy"] = None
    _, problems = validate_rows(seed_frame, FigureSchema)
    assert "quote_en" in problems[row][0][1]


@pytest.mark.parametrize(
    ("label", "bounds"),
    [
        ("2024", ("2024-01-01", "2024-12-31")),
        ("2024Q4", ("2024-10-01", "2024-12-31")),
        ("2024Q1", ("2024-01-01", "2024-03-31")),
        ("2024-02", ("2024-02-01", "2024-02-29")),
        ("2024-12-31", ("2024-12-31", "2024-12-31")),
        ("2023-07-01/2024-12-31", ("2023-07-01", "2024-12-31")),
    ],
)
def test_period_labels_have_machine_readable_bounds(label, bounds):
    start, end = period_bounds(label)
    assert (start.isoformat(), end.isoformat()) == bounds


def test_period_label_nonsense_has_no_bounds():
    assert period_bounds("2024-13") is None and period_bounds("FY2024") is None


def test_the_source_schema_requires_a_title():
    frame = pd.DataFrame(
        [
            {
                "source_id": "x",
                "title_en": None,
                "title_zh": None,
                "publisher": "p",
                "author": None,
                "publication_date": "2025-01-01",
                "languages": "zh",
                "authoritative_language": "zh",
                "citation": "c",
                "notes": None,
                "text": None,
            }
        ]
    )
    _, problems = validate_rows(frame, SourceSchema)
    assert "title_en and title_zh are both empty" in problems[0][0][1]


def test_a_quarter_on_quarter_growth_is_a_percent_like_the_other_growth_rates(seed_frame):
    quarterly = (seed_frame["measure"] == "yoy_growth") & seed_frame["period"].str.contains("Q")
    row = seed_frame.index[quarterly][0]
    seed_frame.loc[row, "measure"] = "qoq_growth"
    assert not validate_rows(seed_frame, FigureSchema)[1]
    seed_frame.loc[row, "unit"] = "CNY"
    assert list(validate_rows(seed_frame, FigureSchema)[1]) == [row]
