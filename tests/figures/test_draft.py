"""The draft command: one candidate row per number, most of them right."""

import csv
import shutil
from pathlib import Path

from orchestration.figures.__main__ import main
from orchestration.figures.draft import draft_rows
from orchestration.figures.numbers import same_value
from orchestration.figures.provenance import load_text
from orchestration.ingestion.load import read_raw
from orchestration.paths import PROJECT_ROOT
from tests.figures.test_provenance import FIXTURE, SEED_TEXT, needs_seed_text


@needs_seed_text
def test_the_draft_of_the_seed_finds_nine_in_ten_curated_values():
    drafted = [c.row for c in draft_rows(load_text(SEED_TEXT), "draft")]
    curated = read_raw(PROJECT_ROOT / "raw").figures
    found = [
        any(
            same_value(abs(float(d["value"])), abs(f.value)) and d["company"] == f.company
            for d in drafted
        )
        for f in curated.itertuples()
    ]
    recall = sum(found) / len(found)
    print(f"draft recall on the seed: {recall:.1%} of {len(found)} curated figures")
    assert recall >= 0.9
    assert all(d["quote_zh"] and d["quote_zh"] in load_text(SEED_TEXT).zh for d in drafted)


def test_the_command_writes_a_draft_that_the_pipeline_can_read(tmp_path, capsys):
    folder = tmp_path / "raw" / "synthetic-2025-01-01"
    shutil.copytree(FIXTURE, folder)
    (folder / "figures.csv").unlink()
    assert main(["draft", str(folder / "article.txt")]) == 0
    assert "3 candidate figures written" in capsys.readouterr().out
    rows = list(csv.DictReader((folder / "figures.csv").open(encoding="utf-8")))
    assert [(r["company"], r["value"], r["unit"], r["measure"]) for r in rows] == [
        ("tencent", "100000000000", "CNY", "level"),
        ("tencent", "5", "percent", "yoy_growth"),
        ("baidu", "800000", "rides", "level"),
    ]
    assert rows[0]["quote_en"] == "In 2023" or "100 billion yuan" in rows[0]["quote_en"]
    batch = read_raw(folder.parent)
    # the draft parses; what is still wrong comes back as rejections with reasons
    assert len(batch.figures) + len(batch.rejected) == 3
    assert all("line" in reason for reason in batch.rejected.reason)


def test_an_existing_figures_csv_is_never_overwritten(tmp_path):
    folder = Path(shutil.copytree(FIXTURE, tmp_path / "x"))
    before = (folder / "figures.csv").read_text(encoding="utf-8")
    assert main(["draft", str(folder / "article.txt")]) == 0
    assert (folder / "figures.csv").read_text(encoding="utf-8") == before
    assert (folder / "figures.draft.csv").is_file()
