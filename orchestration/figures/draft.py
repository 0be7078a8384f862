"""Draft a figures.csv from an article: one candidate row per number, for a curator to edit.

Each number of the original-language text that can be a figure becomes a row: its value in base
units, the clause it stands in as the verbatim quote (and the English clause stating the same
value as quote_en), and a guess of every other column. How each column is guessed, which numbers
are left out and how well the guesses do on test articles: docs/drafting.md. The curator's loop
around the draft: raw/README.md.

This module builds the rows and writes the CSV (`python -m orchestration.figures draft`);
`draft_text.py` prepares the text and tells figures from other numbers, `draft_guesses.py`
guesses each column, and `draft_words.py` holds the words the guesses look for.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from orchestration.figures.draft_guesses import (
    first_match,
    guess_measure,
    guess_metric,
    guess_period,
    guess_segment,
    metric_unit,
    unit_after,
)
from orchestration.figures.draft_text import (
    Article,
    clause_span,
    clause_text,
    company_before,
    is_figure,
    paragraph_start,
    sentence_start,
)
from orchestration.figures.draft_words import (
    DECLINE,
    FOREIGN,
    OTHER,
    QUALIFIER_AFTER,
    QUALIFIER_BEFORE,
)
from orchestration.figures.numbers import AT_LEAST, Mention, mentions, same_value
from orchestration.figures.provenance import SourceText
from orchestration.schemas.figures import COLUMNS


@dataclass
class Candidate:
    """A drafted row, and the mention it came from."""

    row: dict[str, str]
    mention: Mention


def _plain(value: float) -> str:
    """A value as a curator writes it: 197700000000, 24.3, -57.2 (no exponent)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _english_quote(english: list[Mention], used: set[int], en_text: str, mention: Mention) -> str:
    """The clause of the English translation that states the same value (each used once)."""
    for i, other in enumerate(english):
        if i not in used and other.kind == mention.kind and same_value(other.value, mention.value):
            used.add(i)
            return clause_text(en_text, other, "en")
    return ""


def _draft_row(article: Article, mention: Mention) -> dict[str, str] | None:
    """One candidate row for a number, or None when it is not a figure."""
    text, language = article.text, article.language
    if not is_figure(mention, text, article.skip, language):
        return None
    clause_start, clause_end = clause_span(text, mention.start, mention.end, language)
    sentence = sentence_start(text, mention.start, language)
    paragraph = paragraph_start(text, mention.start)
    after = text[mention.end : mention.end + 16]
    unit = unit_after(mention, after)
    measure = guess_measure(mention, article.masked, clause_start, language)
    company, named_at = company_before(text, mention.start, language)
    if company == OTHER:
        return None  # 美团营收 3376 亿元: about a company the warehouse does not cover
    # Words about a share stop at 占: 营销服务占总收入的 18% is about marketing services.
    words_end = mention.start
    if (
        measure.startswith("share_of")
        and (cut := article.masked.rfind("占", sentence, words_end)) >= 0
    ):
        words_end = cut
    foreign = unit == FOREIGN or bool(re.search(r"(?:US|HK)?\$\s*$", text[: mention.start]))
    unit = "CNY" if foreign else unit
    metric = guess_metric(article, paragraph, sentence, mention, unit, measure, clause_end)
    bounds, metric, period_note = guess_period(article, mention, metric, (clause_start, clause_end))
    if measure == "level":
        fallback = "users" if re.match(r"^\s*[万亿]", after) else "count"
        unit = metric_unit(metric) or unit or fallback
    elif measure != "rank":
        unit = "percent"
    if measure == "mom_growth" and (bounds.end - bounds.start).days > 40:
        measure = "qoq_growth"  # 环比 of a quarter: against the previous quarter
    segment, business = guess_segment(
        article,
        mention,
        company,
        metric,
        (max(paragraph, named_at), sentence, words_end),
        clause_end,
    )
    value = mention.value
    before = text[clause_start : mention.start]
    signed = re.search(r"(?<![\d.%])\s*[-−–]\s*$", before)  # 同比 -38%
    if unit == "percent" and measure != "level" and (signed or re.search(DECLINE, before, re.I)):
        value = -value
    qualifier = (
        AT_LEAST.lower()
        if mention.bound == AT_LEAST
        else first_match(QUALIFIER_BEFORE, text[max(0, mention.start - 6) : mention.start], "")
        or first_match(QUALIFIER_AFTER, after, "exact")
    )
    notes = ["draft: check company, business, scope, segment, metric, period"]
    notes += [period_note] if period_note else []
    if foreign and measure == "level":
        unit = ""
        notes.append("a sum in a foreign currency: convert it to yuan, or exclude it")
    return {
        "company": company,
        "business": business.name_en if business else "",
        "business_zh": business.name_zh if business else "",
        "scope": business.scope if business else "segment",
        "segment": segment,
        "metric": metric,
        "measure": measure,
        "period": bounds.label,
        "period_start": bounds.start.isoformat(),
        "period_end": bounds.end.isoformat(),
        "value": _plain(value),
        "unit": unit,
        "qualifier": qualifier,
        "note": "; ".join(notes),
    }


def draft_rows(text: SourceText, id_prefix: str) -> list[Candidate]:
    """Candidate rows for every number of the text's original language that can be a figure."""
    language = "zh" if text.zh else "en"
    article = Article.read(text.part(language), language)
    english = list(mentions(text.en, "en")) if language == "zh" and text.en else []
    used: set[int] = set()
    candidates = []
    for mention in mentions(article.text, language):
        guess = _draft_row(article, mention)
        if guess is None:
            continue
        clause = clause_text(article.text, mention, language)
        quote_en = _english_quote(english, used, text.en, mention) if english else ""
        row = {
            "figure_id": f"{id_prefix}-{len(candidates) + 1:03d}",
            **guess,
            "quote_zh": clause if language == "zh" else "",
            "quote_en": quote_en if language == "zh" else clause,
            "translation_discrepancy": "",
        }
        candidates.append(Candidate({c: row.get(c, "") for c in COLUMNS}, mention))
    return candidates


def write_draft(candidates: list[Candidate], path: Path) -> None:
    """Write the rows as a figures.csv with the contract's columns."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(c.row for c in candidates)
