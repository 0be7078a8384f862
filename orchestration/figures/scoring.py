"""How well the figure drafter (`make draft`) does on articles whose figures are known.

Used by `python -m benchmarks.draft_score` (which prints the scores) and by the tests that hold
the drafter to its targets.

Each article `<name>.txt` has its expected figures beside it in `<name>.expected.csv`: one row
per figure, columns value, company, metric, period, unit and segment (measure, business and
quote_zh may be there too). Without arguments it scores tests/fixtures/articles/*.txt and, when
the seed article is on this machine, the seed against its curated raw/hedgehog-2025-03-27.

A drafted row matches an expected figure when it states the same value (sign aside: a decline is
written as a positive number) and, where the expected row has a quote_zh, the two quotes overlap
(one contains the other), so that the same 10% twice in an article is told apart. Reported:

- recall: the share of expected figures some drafted row matches;
- company, metric, period, unit, segment: of the drafted rows that match a figure, the share
  whose field is right (periods compare by their first and last day, so `2024Q4` and
  `2024-10-01/2024-12-31` are the same), and `all5` with all five right;
- strays: drafted rows that match no expected figure (a date, a count, page furniture, ...).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.figures.draft import draft_rows
from orchestration.figures.numbers import same_value
from orchestration.figures.provenance import load_text, resolve_text
from orchestration.paths import PROJECT_ROOT
from orchestration.schemas.figures import period_bounds

ARTICLES_DIR = PROJECT_ROOT / "tests" / "fixtures" / "articles"
SEED_SOURCE = PROJECT_ROOT / "raw" / "hedgehog-2025-03-27"
FIELDS = ("company", "metric", "period", "unit", "segment")


@dataclass
class Score:
    """How well the draft of one article matches its expected figures."""

    name: str
    expected: int
    found: int
    drafted: int
    matched: int
    strays: int
    right: dict[str, int] = field(default_factory=dict)  # field -> matched rows with it right
    misses: list[dict[str, str]] = field(default_factory=list)  # expected rows not found
    stray_rows: list[dict[str, str]] = field(default_factory=list)
    wrong: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    def share(self, name: str) -> float:
        """The share of matched drafted rows whose `name` is right (1.0 when none matched)."""
        return self.right.get(name, 0) / self.matched if self.matched else 1.0


def _value(text: str) -> float | None:
    try:
        return abs(float(text))
    except (TypeError, ValueError):
        return None


def _same_period(a: str, b: str) -> bool:
    if a == b:
        return True
    bounds = period_bounds(a)
    return bounds is not None and bounds == period_bounds(b)


def field_right(name: str, drafted: dict[str, str], expected: dict[str, str]) -> bool:
    """Whether a drafted row has this field of the expected figure right."""
    if name == "period":
        return _same_period(drafted.get("period", ""), expected.get("period", ""))
    return drafted.get(name, "") == expected.get(name, "")


def _compatible(drafted: dict[str, str], expected: dict[str, str]) -> bool:
    a, b = _value(drafted.get("value", "")), _value(expected.get("value", ""))
    if a is None or b is None or not same_value(a, b):
        return False
    wanted = expected.get("quote_zh") or ""
    quote = drafted.get("quote_zh") or drafted.get("quote_en") or ""
    return not wanted or wanted in quote or (bool(quote) and quote in wanted)


def _agreement(drafted: dict[str, str], expected: dict[str, str]) -> int:
    return sum(field_right(name, drafted, expected) for name in FIELDS)


def score_rows(name: str, drafted: list[dict[str, str]], expected: list[dict[str, str]]) -> Score:
    """Match drafted rows to expected figures and count what is right."""
    pairs = [
        (_agreement(d, e), -i, -j, i, j)
        for i, d in enumerate(drafted)
        for j, e in enumerate(expected)
        if _compatible(d, e)
    ]
    # One drafted row per expected figure first, the best agreeing pairs first; a drafted row
    # left over that still states an expected value is scored against its best figure.
    best: dict[int, int] = {}
    taken: set[int] = set()
    for *_, i, j in sorted(pairs, reverse=True):
        if i not in best and j not in taken:
            best[i] = j
            taken.add(j)
    for *_, i, j in sorted(pairs, reverse=True):
        best.setdefault(i, j)
    found = {j for *_, j in pairs}
    result = Score(
        name=name,
        expected=len(expected),
        found=len(found),
        drafted=len(drafted),
        matched=len(best),
        strays=len(drafted) - len(best),
    )
    for name_ in (*FIELDS, "all5"):
        result.right[name_] = 0
    for i, j in sorted(best.items()):
        d, e = drafted[i], expected[j]
        wrong = [f for f in FIELDS if not field_right(f, d, e)]
        for f in FIELDS:
            result.right[f] += f not in wrong
        result.right["all5"] += not wrong
        if wrong:
            result.wrong.append((",".join(wrong), d, e))
    result.misses = [e for j, e in enumerate(expected) if j not in found]
    result.stray_rows = [d for i, d in enumerate(drafted) if i not in best]
    return result


def read_expected(path: Path) -> list[dict[str, str]]:
    """The expected figures of an article (a figures.csv works too)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def score_article(text_path: Path, expected_path: Path | None = None) -> Score:
    """Draft an article and score the draft against its expected figures."""
    expected_path = expected_path or text_path.with_suffix(".expected.csv")
    drafted = [c.row for c in draft_rows(load_text(text_path), "draft")]
    return score_rows(text_path.stem, drafted, read_expected(expected_path))


def seed_article() -> tuple[Path, Path] | None:
    """The seed article's text and its curated figures, when the text is on this machine."""
    import yaml

    meta = yaml.safe_load((SEED_SOURCE / "source.yaml").read_text(encoding="utf-8"))
    text = resolve_text(meta.get("text"), SEED_SOURCE)
    return (text, SEED_SOURCE / "figures.csv") if text else None


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}"


def report(scores: list[Score], verbose: bool = False) -> str:
    """A table: one line per article, then the total."""
    head = f"{'article':32} {'found':>9} {'recall':>6} {'drafted':>7} {'strays':>6} "
    head += " ".join(f"{f[:7]:>7}" for f in (*FIELDS, "all5"))
    lines = [head]

    def line(name: str, s: Score) -> str:
        cells = f"{name:32} {s.found:>4}/{s.expected:<4} {_pct(s.recall):>6} {s.drafted:>7} "
        cells += f"{s.strays:>6} " + " ".join(f"{_pct(s.share(f)):>7}" for f in (*FIELDS, "all5"))
        return cells

    for s in scores:
        lines.append(line(s.name, s))
    total = Score(
        "total",
        sum(s.expected for s in scores),
        sum(s.found for s in scores),
        sum(s.drafted for s in scores),
        sum(s.matched for s in scores),
        sum(s.strays for s in scores),
        {f: sum(s.right.get(f, 0) for s in scores) for f in (*FIELDS, "all5")},
    )
    lines.append(line("total", total))
    if verbose:
        for s in scores:
            lines.append(f"\n== {s.name}")
            for e in s.misses:
                lines.append(f"  missed {e.get('value')}: {e.get('quote_zh', '')}")
            for d in s.stray_rows:
                lines.append(f"  stray  {d['value']} {d['unit']}: {d['quote_zh'] or d['quote_en']}")
            for wrong, d, e in s.wrong:
                got = " ".join(d.get(f, "") for f in FIELDS)
                want = " ".join(e.get(f, "") for f in FIELDS)
                lines.append(f"  wrong {wrong}: {d['value']} got [{got}] want [{want}]")
    return "\n".join(lines)
