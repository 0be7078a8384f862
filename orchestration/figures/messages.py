"""What a curator reads when a row is rejected: what is wrong, and what the row should say.

A message names the problem and gives the fix in the row's own terms: the value the quote does
state beside the value in the row, the passage of the text a quote was meant to copy and the
first character where the copy differs, the dates a period label stands for. The pandera model
(`schemas/validation.py`) and the SQL loader (`schemas/contract_sql.py`,
`ingestion/contract_check.py`) both build their sentences here, so a row reads the same
whichever path caught it.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import date
from difflib import SequenceMatcher

from orchestration.figures.numbers import RANK, Mention, kind_for_unit, mentions

# How a money value is written in figures.csv: shown only for monetary units.
BASE_UNITS_HINT = "values are in base units: 1977 亿元 is 197700000000"
KIND_WORDS = {"amount": "amount", "percent": "percent", "rank": "rank"}
# A passage of the text is offered as "the closest" only when it is at least this similar.
MIN_PASSAGE_SIMILARITY = 0.6
# Characters of text around a candidate passage that the alignment may reach into.
PASSAGE_MARGIN = 12
# At most this many places in the text are compared with a quote.
MAX_CANDIDATES = 400


def plain(value: object) -> str:
    """A number as figures.csv writes it: 197700000000, 24.3 (no exponent, no float noise)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isfinite(number) and number == round(number) and abs(number) < 1e15:
        return str(int(round(number)))
    return f"{number:.15g}"


def present(value: object) -> bool:
    """A cell that holds text (not None, NaN or '')."""
    return isinstance(value, str) and value.strip() != ""


def _shown(mention: Mention) -> str:
    """A mention as the quote words it, with its base-unit value where the words differ."""
    value = plain(mention.value)
    stated = mention.text if value in mention.text else f"{mention.text} = {value}"
    return stated + (f" ({mention.bound.replace('_', ' ')})" if mention.bound != "exact" else "")


def _factor(stated: float, value: float) -> str:
    """' (a factor of 10 apart)' when two numbers differ by a power of ten, else ''."""
    if not stated or not value:
        return ""
    exponent = math.log10(abs(stated) / abs(value))
    if abs(exponent - round(exponent)) > 1e-9 or round(exponent) == 0:
        return ""
    return f" (a factor of {10 ** abs(round(exponent)):,} apart)"


def what_quote_states(quote: str, language: str, value: object, unit: str) -> str:
    """The numbers a quote states, of the kind the row's unit needs, beside the row's value."""
    row = plain(value)
    found = mentions(quote, language)
    if not found:
        return f"the quote states no number, the row says {row}"
    wanted = kind_for_unit(unit)
    fitting = [m for m in found if m.kind == wanted or (wanted == RANK and m.kind == "amount")]
    if not fitting:
        others = ", ".join(_shown(m) for m in found)
        return f"the quote states no {KIND_WORDS[wanted]} (only {others}), the row says {row}"
    stated = f"the quote states {', '.join(_shown(m) for m in fitting)}, the row says {row}"
    number = _finite(value)
    if number is None or number == 0:
        return stated
    closest = min(fitting, key=lambda m: abs(math.log10(m.value or 1) - math.log10(abs(number))))
    return stated + _factor(closest.value, number)


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def quote_value_mismatch(
    figure_id: object,
    language: str,
    quote: str,
    value: object,
    unit: str,
    other_quote: object = None,
    monetary: bool = False,
) -> str:
    """A quote that does not state the row's value: what it does state, and what to change.

    The other language's quote is shown only when the row has one, and the base-units hint
    only for money, the one unit whose values are routinely written in 亿 or billions.
    """
    column, quote = f"quote_{language}", quote if isinstance(quote, str) else ""
    other = "quote_en" if language == "zh" else "quote_zh"
    message = (
        f"figure {figure_id}: {column} {quote!r} does not state value {plain(value)} {unit}: "
        + what_quote_states(quote, language, value, unit)
    )
    if present(other_quote):
        message += f" ({other}: {other_quote!r})"
    if monetary:
        message += f"; {BASE_UNITS_HINT}"
    if language == "en":
        message += "; if the English states another number, set translation_discrepancy to 'value'"
    return message


def _candidates(text: str, quote: str) -> list[int]:
    """Where in the text the quote may start: the places that share a few characters with it."""
    size = min(4, len(quote))
    starts: set[int] = set()
    for offset in range(0, len(quote) - size + 1, max(1, size // 2)):
        gram = text.find(quote[offset : offset + size])
        while gram != -1 and len(starts) < MAX_CANDIDATES:
            starts.add(max(0, gram - offset))
            gram = text.find(quote[offset : offset + size], gram + 1)
    return sorted(starts)


def closest_passage(text: str, quote: str) -> str | None:
    """The passage of the text a quote most likely copies, or None when nothing comes close."""
    if not text or not quote:
        return None
    starts = _candidates(text, quote)
    if not starts:
        return None

    def similarity(start: int) -> float:
        window = text[start : start + len(quote)]
        return SequenceMatcher(None, quote, window, autojunk=False).ratio()

    best = max(starts, key=similarity)
    # Align the quote within a margin around the best start: a copy may miss or add characters.
    left = max(0, best - PASSAGE_MARGIN)
    region = text[left : best + len(quote) + PASSAGE_MARGIN]
    aligned = SequenceMatcher(None, quote, region, autojunk=False).get_matching_blocks()
    blocks = [block for block in aligned if block.size]
    first, last = blocks[0], blocks[-1]
    begin = max(0, first.b - first.a)
    end = min(len(region), last.b + last.size + len(quote) - last.a - last.size)
    passage = region[begin:end]
    if SequenceMatcher(None, quote, passage, autojunk=False).ratio() < MIN_PASSAGE_SIMILARITY:
        return None
    return passage


def _character(text: str, index: int, end_words: str) -> str:
    if index >= len(text):
        return end_words
    char = text[index]
    return f"{char!r} ({unicodedata.name(char, f'U+{ord(char):04X}')})"


def first_difference(quote: str, passage: str) -> tuple[int, str, str] | None:
    """Where a quote and a passage first differ: (1-based position in the quote, the quote's
    character, the passage's), or None when they are equal."""
    for tag, i1, _, j1, _ in SequenceMatcher(None, quote, passage, autojunk=False).get_opcodes():
        if tag != "equal":
            return (
                i1 + 1,
                _character(quote, i1, "the end of the quote"),
                _character(passage, j1, "the end of the passage"),
            )
    return None


def quote_not_in_text(column: str, quote: str, text: str, text_name: str) -> str:
    """A quote that is not in the text word for word: the passage it misquotes, and where."""
    head = f"{column} {quote!r} does not occur in {text_name}"
    passage = closest_passage(text, quote)
    if passage is None:
        return f"{head}, nor anything close to it: copy it verbatim from the text"
    difference = first_difference(quote, passage)
    if difference is None:  # cannot happen for a quote that is not in the text; said plainly
        return f"{head}: copy it verbatim"
    position, in_quote, in_text = difference
    return (
        f"{head}: the closest passage is {passage!r}, which differs at character {position} "
        f"of the quote: {in_quote} in the quote, {in_text} in the text; copy it verbatim"
    )


def _iso(day: object) -> str:
    if day is None or (isinstance(day, float) and math.isnan(day)):
        return "(empty)"
    return str(day)[:10]


def period_mismatch(
    period: object, start: object, end: object, bounds: tuple[date, date] | None
) -> str:
    """Dates that do not fit the period label: the dates it stands for, and which to change."""
    head = f"period {period!r} does not match period_start {_iso(start)} and period_end {_iso(end)}"
    if bounds is None:
        return f"{head}: {period!r} names no real period: fix the label"
    first, last = bounds[0].isoformat(), bounds[1].isoformat()
    wrong_start, wrong_end = _iso(start) != first, _iso(end) != last
    if wrong_start and wrong_end:
        fix = f"period_start should be {first} and period_end {last}"
    elif wrong_start:
        fix = f"period_start should be {first}"
    else:
        fix = f"period_end should be {last}"
    return f"{head}: {period} runs from {first} to {last}, so {fix}"


def period_mismatch_sql(start: str, end: str) -> str:
    """`period_mismatch` as a DuckDB expression over a row (period, start_day, end_day).

    `start` and `end` are SQL expressions for the first and last day the label stands for
    (NULL when it stands for none), as `contract_sql` computes them.
    """
    first, last = f"cast(({start}) as varchar)", f"cast(({end}) as varchar)"
    wrong_start = f"start_day is distinct from ({start})"
    wrong_end = f"end_day is distinct from ({end})"
    return (
        "'period ' || py_repr(period) || ' does not match period_start ' || "
        "cast(start_day as varchar) || ' and period_end ' || cast(end_day as varchar) || ': ' || "
        f"case when ({start}) is null or ({end}) is null "
        "then py_repr(period) || ' names no real period: fix the label' "
        f"else period || ' runs from ' || {first} || ' to ' || {last} || ', so ' || "
        f"case when {wrong_start} and {wrong_end} "
        f"then 'period_start should be ' || {first} || ' and period_end ' || {last} "
        f"when {wrong_start} then 'period_start should be ' || {first} "
        f"else 'period_end should be ' || {last} end end"
    )
