"""Bad input, one case per way a curator can break raw/: each gives a clear rejection."""

import shutil
from pathlib import Path

import pytest

from orchestration.ingestion.load import read_raw
from tests.sources import (
    FIXTURE,
    GOOD_CSV,
    GOOD_ROWS,
    HEADER,
    drop_column,
    make_source,
    replace_field,
    with_rows,
)


def test_the_fixture_loads_cleanly(tmp_path):
    make_source(tmp_path)
    batch = read_raw(tmp_path)
    assert len(batch.figures) == 3 and batch.rejected.empty and len(batch.sources) == 1
    first = batch.figures.iloc[0]
    assert (first.value, first.source_row, first.source_file) == (
        100_000_000_000,
        2,
        f"{tmp_path}/synthetic-2025-01-01/figures.csv",
    )


# (case, figures.csv content, expected words in the reason, expected line, rows still loaded)
FILE_CASES = [
    ("empty file", "", "is empty", None, 0),
    ("header only", HEADER + "\n", "has a header but no figures", None, 0),
    ("missing column", drop_column(GOOD_CSV, "unit"), "missing column 'unit'", 2, 0),
    (
        "extra column",
        with_rows(*[r + ",x" for r in GOOD_ROWS]).replace(",note", ",note,colour"),
        "unknown column 'colour'",
        2,
        0,
    ),
    ("wrong delimiter", GOOD_CSV.replace(",", ";"), "separated by ';'", 2, 0),
    ("gbk encoding", GOOD_CSV.encode("gbk"), "not UTF-8 (line 2", None, 0),
    ("byte order mark only", b"\xef\xbb\xbf", "missing column 'figure_id'", None, 0),
]


@pytest.mark.parametrize(
    ("case", "content", "words", "line", "loaded"), FILE_CASES, ids=[c[0] for c in FILE_CASES]
)
def test_broken_files_are_rejected_with_a_reason(tmp_path, case, content, words, line, loaded):
    make_source(tmp_path, figures=content)
    batch = read_raw(tmp_path)
    assert len(batch.figures) == loaded
    assert not batch.rejected.empty
    first = batch.rejected.iloc[0]
    assert words in first.reason, first.reason
    assert "synthetic-2025-01-01" in first.source_file
    if line is None:
        assert first.source_row is None or first.source_row != first.source_row  # None or NaN
    else:
        assert first.source_row == line
    # nothing is lost: every data row of the file is either loaded or rejected
    if line is not None:
        assert len(batch.rejected) == len(GOOD_ROWS)


def test_utf8_with_bom_loads(tmp_path):
    make_source(tmp_path, figures=b"\xef\xbb\xbf" + GOOD_CSV.encode("utf-8"))
    batch = read_raw(tmp_path)
    assert len(batch.figures) == 3 and batch.rejected.empty


# (case, which row, the broken row, column at fault, expected words in the reason)
ROW_CASES = [
    ("non-numeric value", 0, replace_field(GOOD_ROWS[0], "value", "1000亿"), "value", "is not a plain number"),
    ("negative revenue", 0, replace_field(GOOD_ROWS[0], "value", "-100000000000"), None, "out of range"),
    ("percent over 1000", 1, replace_field(GOOD_ROWS[1], "value", "5000"), None, "out of range"),
    ("unknown company", 0, replace_field(GOOD_ROWS[0], "company", "bytedance"), "company", "'bytedance' is not one of"),
    ("unknown unit", 0, replace_field(GOOD_ROWS[0], "unit", "USD"), "unit", "'USD' is not one of"),
    ("wrong unit for metric", 2, replace_field(GOOD_ROWS[2], "unit", "users"), None, "does not fit metric 'rides'"),
    ("value in billions", 0, replace_field(GOOD_ROWS[0], "value", "100"), None, "does not state value"),
    ("bad date", 0, replace_field(GOOD_ROWS[0], "period_start", "2023-02-30"), "period_start", "is not a date"),
    ("period and dates disagree", 0, replace_field(GOOD_ROWS[0], "period", "2022"), None, "does not match period_start"),
    ("empty required field", 0, replace_field(GOOD_ROWS[0], "quote_zh", ""), "quote_zh", "quote_zh"),
    ("too many fields", 1, GOOD_ROWS[1] + ",extra", None, "fields where the header has"),
]  # fmt: skip


@pytest.fixture(scope="module")
def broken_rows(tmp_path_factory):
    """Each row case as a source folder of its own (case-00, ...), all read by one load.

    A case's figure ids are its own (case00-001), so that no source repeats another's ids.
    """
    raw = tmp_path_factory.mktemp("raw")
    for number, (_, index, row, _, _) in enumerate(ROW_CASES):
        rows = list(GOOD_ROWS)
        rows[index] = row
        figures = with_rows(*rows).replace("syn-", f"case{number:02d}-")
        make_source(raw, f"case-{number:02d}", figures=figures)
    return read_raw(raw)


@pytest.mark.parametrize(
    ("number", "index", "column", "words"),
    [
        (number, index, column, words)
        for number, (_, index, _, column, words) in enumerate(ROW_CASES)
    ],
    ids=[c[0] for c in ROW_CASES],
)
def test_a_broken_row_is_rejected_and_the_others_load(broken_rows, number, index, column, words):
    source_id = f"case-{number:02d}"
    figures = broken_rows.figures[broken_rows.figures.source_id == source_id]
    assert len(figures) == 2
    (rejected,) = broken_rows.rejected[broken_rows.rejected.source_id == source_id].itertuples()
    assert words in rejected.reason, rejected.reason
    assert f"figures.csv line {index + 2}" in rejected.reason
    assert rejected.source_row == index + 2
    if column:
        assert rejected.column_name == column


def test_duplicate_id_within_a_file_rejects_every_copy(tmp_path):
    make_source(tmp_path, figures=with_rows(*GOOD_ROWS, GOOD_ROWS[0]))
    batch = read_raw(tmp_path)
    assert len(batch.figures) == 2
    assert sorted(batch.rejected.source_row) == [2, 5]
    assert all("appears more than once" in r for r in batch.rejected.reason)


def test_duplicate_id_across_sources_is_rejected_in_the_later_one(tmp_path):
    make_source(tmp_path, "a-source")
    make_source(tmp_path, "b-source")
    batch = read_raw(tmp_path)
    assert len(batch.figures) == 3 and set(batch.figures.source_id) == {"a-source"}
    assert len(batch.rejected) == 3 and set(batch.rejected.source_id) == {"b-source"}
    assert "already used by raw/a-source/figures.csv line 2" in batch.rejected.reason.iloc[0]


@pytest.mark.parametrize(
    ("case", "yaml", "words"),
    [
        ("not yaml", "source_id: [unclosed\n", "is not valid YAML at line"),
        ("missing field", "source_id: synthetic-2025-01-01\n", "missing field 'publisher'"),
        ("unknown field", None, "unknown field 'colour'"),
        ("wrong folder", None, "does not match its folder name"),
        ("bad date", None, "publication_date"),
    ],
)
def test_a_malformed_source_yaml_rejects_its_figures(tmp_path, case, yaml, words):
    text = (FIXTURE / "source.yaml").read_text(encoding="utf-8")
    yaml = {
        "unknown field": text + "colour: blue\n",
        "wrong folder": text.replace("source_id: synthetic-2025-01-01", "source_id: other"),
        "bad date": text.replace("publication_date: 2025-01-01", "publication_date: someday"),
    }.get(case, yaml)
    make_source(tmp_path, yaml=yaml)
    make_source(tmp_path, "another-source", figures=GOOD_CSV.replace("syn-", "other-"))
    batch = read_raw(tmp_path)
    assert list(batch.sources.source_id) == ["another-source"]
    assert len(batch.figures) == 3  # the other source still loads
    rejected = batch.rejected[batch.rejected.source_id == "synthetic-2025-01-01"]
    assert len(rejected) == 3
    assert all(words in reason for reason in rejected.reason), rejected.reason.iloc[0]


def test_a_folder_without_figures_is_reported(tmp_path):
    make_source(tmp_path, figures=None)
    batch = read_raw(tmp_path)
    assert batch.figures.empty
    assert "figures.csv is missing" in batch.rejected.reason.iloc[0]


def test_folders_starting_with_dot_or_underscore_are_ignored(tmp_path):
    make_source(tmp_path)
    shutil.copytree(tmp_path / "synthetic-2025-01-01", tmp_path / "_draft")
    (tmp_path / ".hidden").mkdir()
    batch = read_raw(tmp_path)
    assert list(batch.sources.source_id) == ["synthetic-2025-01-01"]


def test_an_empty_raw_folder_gives_empty_tables(tmp_path):
    batch = read_raw(tmp_path)
    assert batch.sources.empty and batch.figures.empty and batch.rejected.empty


def test_the_contract_version_is_a_hash_of_what_defines_it(tmp_path, monkeypatch):
    """A change to a rule, a message or a limit re-checks every source: nothing to bump."""
    from orchestration.ingestion import folder_files
    from orchestration.paths import PROJECT_ROOT

    for name in folder_files.CONTRACT_MODULES:
        copy = tmp_path / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes((PROJECT_ROOT / name).read_bytes())
    monkeypatch.setattr(folder_files, "PROJECT_ROOT", tmp_path)
    before = folder_files.contract_hash.__wrapped__()
    assert before == folder_files.contract_hash()
    rules = tmp_path / "orchestration" / "schemas" / "figures.py"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# a changed rule\n", encoding="utf-8")
    assert folder_files.contract_hash.__wrapped__() != before


def test_every_ingestion_module_of_the_load_is_part_of_the_contract_version():
    """A rule moved into a new module of the loader still re-checks every source when it changes."""
    import subprocess
    import sys

    from orchestration.ingestion import folder_files
    from orchestration.paths import PROJECT_ROOT

    listed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, orchestration.ingestion.load\n"
            "print('\\n'.join(m.__file__ for n, m in sys.modules.items()"
            " if n.startswith('orchestration.ingestion.')))",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    loaded = {Path(path).relative_to(PROJECT_ROOT).as_posix() for path in listed}
    assert "orchestration/ingestion/load.py" in loaded
    assert loaded <= set(folder_files.CONTRACT_MODULES)
