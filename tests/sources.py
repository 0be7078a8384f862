"""Source folders for tests: the synthetic fixture, broken copies of it, and the seed article.

Tests build raw/ folders from these (never from what raw/ holds today): `make_source` writes a
folder from the fixture with its files swapped; the row helpers break one field or column.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.paths import PROJECT_ROOT

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = FIXTURES / "synthetic-2025-01-01"
GOOD_CSV = (FIXTURE / "figures.csv").read_text(encoding="utf-8")
HEADER, *GOOD_ROWS = GOOD_CSV.splitlines()

# The seed article's text lives outside the repository (it is never committed).
SEED_TEXT = PROJECT_ROOT.parent / "shared" / "seed" / "000_4b5b990000c7fe33.txt"
needs_seed_text = pytest.mark.skipif(
    not SEED_TEXT.is_file(), reason=f"the seed article is not on this machine ({SEED_TEXT})"
)


# A made-up later source restating three seed facts: two with the seed's values, one changed.
RESTATEMENT_YAML = """\
# A made-up source for tests: synthetic restatements of seed figures, not a real publication.
source_id: synthetic-restatement-2025-08-29
title_en: "Synthetic restatement"
title_zh: "测试用合成重述"
publisher: "Test fixtures"
publication_date: 2025-08-29
languages: [zh, en]
authoritative_language: zh
citation: "Synthetic restatement, 2025-08-29 (not a real publication)."
"""
RESTATEMENT_CSV = """\
figure_id,company,business,business_zh,scope,segment,metric,measure,period,period_start,period_end,value,unit,qualifier,quote_zh,quote_en,translation_discrepancy,note
syn-r-001,tencent,,,segment,games,revenue,level,2024,2024-01-01,2024-12-31,197700000000,CNY,exact,游戏收入 1977 亿元,games revenue of 197.7 billion yuan,,synthetic
syn-r-002,tencent,,,segment,games,revenue,yoy_growth,2024,2024-01-01,2024-12-31,10,percent,exact,同比增长 10%,up 10%,,synthetic
syn-r-003,xiaomi,Smartphones,智能手机,unit,hardware,revenue,level,2024,2024-01-01,2024-12-31,192000000000,CNY,exact,智能手机收入 1920 亿元,smartphone revenue of 192.0 billion yuan,,synthetic
"""


# A made-up source whose business line no other source states; its id puts it in the Parquet
# part of the quarter's source (tests/fixtures/synthetic-2025q1-tencent: md5 modulo 64, 58).
OWN_LINE = "synthetic-own-line-62"
OWN_LINE_YAML = (
    RESTATEMENT_YAML.replace("synthetic-restatement-2025-08-29", OWN_LINE)
    .replace("2025-08-29", "2025-02-01")
    .replace("Synthetic restatement", "Synthetic line of its own")
    .replace("synthetic restatements of seed figures", "a synthetic business line no lookup lists")
    .replace("测试用合成重述", "测试用合成业务")
)
OWN_LINE_CSV = """\
figure_id,company,business,business_zh,scope,segment,metric,measure,period,period_start,period_end,value,unit,qualifier,quote_zh,quote_en,translation_discrepancy,note
syn-o-001,baidu,Synthetic line,合成业务,unit,ai,revenue,level,2024,2024-01-01,2024-12-31,12300000000,CNY,exact,收入 123 亿元,revenue of 12.3 billion yuan,,synthetic
syn-o-002,baidu,Synthetic line,合成业务,unit,ai,revenue,yoy_growth,2024,2024-01-01,2024-12-31,10,percent,exact,同比增长 10%,up 10% year on year,,synthetic
"""
# A source that states OWN_LINE's line for an earlier year, with an id that sorts before
# OWN_LINE's: the line's first source, and so its Parquet part, moves to this source's.
MOVED_LINE = "synthetic-line-moved"
MOVED_LINE_YAML = (
    OWN_LINE_YAML.replace(OWN_LINE, MOVED_LINE)
    .replace("2025-02-01", "2025-03-01")
    .replace("Synthetic line of its own", "Synthetic line, an earlier year")
)
MOVED_LINE_CSV = """\
figure_id,company,business,business_zh,scope,segment,metric,measure,period,period_start,period_end,value,unit,qualifier,quote_zh,quote_en,translation_discrepancy,note
syn-m-001,baidu,Synthetic line,合成业务,unit,ai,revenue,level,2023,2023-01-01,2023-12-31,11180000000,CNY,exact,收入 111.8 亿元,revenue of 11.18 billion yuan,,synthetic
"""


def make_source(raw: Path, name: str = "synthetic-2025-01-01", figures=GOOD_CSV, yaml=None):
    """A source folder from the fixture, with figures.csv (text or bytes) and source.yaml swapped."""
    folder = raw / name
    folder.mkdir(parents=True)
    source_yaml = (
        (FIXTURE / "source.yaml").read_text(encoding="utf-8").replace("synthetic-2025-01-01", name)
    )
    (folder / "source.yaml").write_text(yaml if yaml is not None else source_yaml, "utf-8")
    if figures is not None:
        data = figures if isinstance(figures, bytes) else figures.encode("utf-8")
        (folder / "figures.csv").write_bytes(data)
    return folder


def replace_field(row: str, column: str, value: str) -> str:
    fields = row.split(",")
    fields[HEADER.split(",").index(column)] = value
    return ",".join(fields)


def drop_column(text: str, column: str) -> str:
    index = HEADER.split(",").index(column)
    lines = [line.split(",") for line in text.splitlines()]
    return "\n".join(",".join(f[:index] + f[index + 1 :]) for f in lines) + "\n"


def with_rows(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"
