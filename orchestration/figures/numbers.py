"""Find the numbers an article states, in Chinese or English, and convert them to base units.

A quote is only provenance if it contains the figure's value; this module is how we know.
Each mention carries its value in base units (亿 = 1e8, billion = 1e9, percent as points),
its kind (amount, percent or rank) and whether the words make it a bound (双位数 = at least 10%).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

AMOUNT, PERCENT, RANK = "amount", "percent", "rank"
EXACT, AT_LEAST, APPROX = "exact", "at_least", "approx"

_NUM = r"(?<![0-9A-Za-z.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"

_ZH_MULTIPLIERS = {
    "万亿": 1e12,
    "千亿": 1e11,
    "百亿": 1e10,
    "十亿": 1e9,
    "亿": 1e8,
    "千万": 1e7,
    "百万": 1e6,
    "十万": 1e5,
    "万": 1e4,
}
_EN_MULTIPLIERS = {"trillion": 1e12, "billion": 1e9, "million": 1e6, "thousand": 1e3}

_ZH_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_EN_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_EN_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip

# Spaces are part of a number only before its multiplier or percent sign, never after it, so
# that a number's span ends where its text does (a quote or exclusion ending at 万 contains it).
_ZH_NUMBER = re.compile(_NUM + r"(?:\s*(" + "|".join(_ZH_MULTIPLIERS) + r"))?(?:\s*(%|％))?")
_EN_NUMBER = re.compile(
    _NUM + r"(?:\s*(" + "|".join(_EN_MULTIPLIERS) + r")\b)?(?:\s*(%|percent\b))?",
    re.IGNORECASE,
)
_ZH_NUMERAL = "[" + "".join(_ZH_DIGITS) + "十]"


@dataclass(frozen=True)
class Mention:
    """One number stated in a text, converted to base units."""

    value: float
    kind: str  # AMOUNT, PERCENT or RANK
    bound: str  # EXACT, AT_LEAST or APPROX
    start: int
    end: int
    text: str


def _zh_small(numeral: str) -> int:
    """一 .. 九十九 as an int (十 = 10, 十二 = 12, 二十 = 20)."""
    if "十" not in numeral:
        return _ZH_DIGITS[numeral]
    tens, _, ones = numeral.partition("十")
    return (_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0)


def _to_float(whole: str, fraction: str | None) -> float:
    return float(whole.replace(",", "") + (fraction or ""))


def _words(text: str, patterns: list[tuple[str, float, str, str]], flags: int = 0) -> list[Mention]:
    found = []
    for pattern, value, kind, bound in patterns:
        for m in re.finditer(pattern, text, flags):
            found.append(Mention(value, kind, bound, m.start(), m.end(), m.group(0)))
    return found


_ZH_WORDS = [
    (r"翻了?一?(?:倍|番)", 100.0, PERCENT, EXACT),
    (r"[双两]位数", 10.0, PERCENT, AT_LEAST),
    (r"三位数", 100.0, PERCENT, AT_LEAST),
    (r"一半", 50.0, PERCENT, EXACT),
    (r"(?<![\d\s])千亿", 1e11, AMOUNT, APPROX),
    (r"(?<![\d\s])百亿", 1e10, AMOUNT, APPROX),
    (r"(?<![\d\s])万亿", 1e12, AMOUNT, APPROX),
]
_EN_WORDS_PATTERNS = [
    (r"\bdoubled?\b(?![- ]digit)", 100.0, PERCENT, EXACT),
    (r"\bdouble[- ]digits?\b", 10.0, PERCENT, AT_LEAST),
    (r"\btriple[- ]digits?\b", 100.0, PERCENT, AT_LEAST),
    (r"\bhalf\b", 50.0, PERCENT, EXACT),
    (r"\bbillions\b", 1e9, AMOUNT, AT_LEAST),
    (r"\bmillions\b", 1e6, AMOUNT, AT_LEAST),
]


def mentions_zh(text: str) -> list[Mention]:
    """Every number a Chinese text states: 1977 亿元, 24.3%, 第五, 六个, 翻倍, 双位数, 四成, ..."""
    found = []
    for m in _ZH_NUMBER.finditer(text):
        value = _to_float(m.group(1), m.group(2)) * _ZH_MULTIPLIERS.get(m.group(3) or "", 1.0)
        kind = PERCENT if m.group(4) else AMOUNT
        found.append(Mention(value, kind, EXACT, m.start(), m.end(), m.group(0).strip()))
    for m in re.finditer(r"第(" + _ZH_NUMERAL + r"+)", text):
        found.append(Mention(float(_zh_small(m.group(1))), RANK, EXACT, *m.span(), m.group(0)))
    for m in re.finditer(r"前(" + _ZH_NUMERAL + r"+)", text):
        found.append(Mention(float(_zh_small(m.group(1))), RANK, EXACT, *m.span(), m.group(0)))
    for m in re.finditer(r"(?<![第前])(" + _ZH_NUMERAL + r"+)(?=个|家|名|次|台)", text):
        found.append(Mention(float(_zh_small(m.group(1))), AMOUNT, EXACT, *m.span(), m.group(0)))
    # 近四成: tenths, as percent (not 成为, 成本, 成交, ...)
    for m in re.finditer(r"([一二三四五六七八九])成(?![为功本长交立熟果员就绩])", text):
        found.append(Mention(10.0 * _ZH_DIGITS[m.group(1)], PERCENT, EXACT, *m.span(), m.group(0)))
    found += _words(text, _ZH_WORDS)
    return sorted(found, key=lambda mention: mention.start)


def mentions_en(text: str) -> list[Mention]:
    """Every number an English text states: 197.7 billion, 24.3%, fifth, six, doubled, ..."""
    found = []
    for m in _EN_NUMBER.finditer(text):
        multiplier = _EN_MULTIPLIERS.get((m.group(3) or "").lower(), 1.0)
        value = _to_float(m.group(1), m.group(2)) * multiplier
        kind = PERCENT if m.group(4) else AMOUNT
        found.append(Mention(value, kind, EXACT, m.start(), m.end(), m.group(0).strip()))
    for word, number in _EN_ORDINALS.items():
        for m in re.finditer(rf"\b{word}\b", text, re.IGNORECASE):
            found.append(Mention(float(number), RANK, EXACT, *m.span(), m.group(0)))
    for word, number in _EN_WORDS.items():
        for m in re.finditer(rf"\b{word}\b(?!-)", text, re.IGNORECASE):
            kind = RANK if re.search(r"\btop\s+$", text[: m.start()], re.IGNORECASE) else AMOUNT
            found.append(Mention(float(number), kind, EXACT, *m.span(), m.group(0)))
    found += _words(text, _EN_WORDS_PATTERNS, re.IGNORECASE)
    return sorted(found, key=lambda mention: mention.start)


def mentions(text: str, language: str) -> list[Mention]:
    """Mentions in a text of the given language ("zh" or "en")."""
    return mentions_zh(text) if language == "zh" else mentions_en(text)


def same_value(a: float, b: float) -> bool:
    """Equal up to float noise: 1.65 billion is 1650000000 even after binary rounding."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def kind_for_unit(unit: str) -> str:
    """The kind of mention that can state a figure of this unit."""
    if unit == "percent":
        return PERCENT
    if unit == "rank":
        return RANK
    return AMOUNT


def supporting_mention(text: str, language: str, value: float, unit: str) -> Mention | None:
    """The mention in the text that states this value (sign aside), or None.

    A decline is stated as a positive number with a verb (收窄 57.2%, narrowed by 57.2%), so
    the sign of the value is not compared. A rank may also be stated as a plain number.
    """
    wanted = kind_for_unit(unit)
    for mention in mentions(text, language):
        kind_ok = mention.kind == wanted or (wanted == RANK and mention.kind == AMOUNT)
        if kind_ok and same_value(mention.value, abs(value)):
            return mention
    return None
