"""Guess what a number is about: its measure, unit, metric, segment and business, and period.

Each guess reads the words before the number first, nearest first, because that is where a
Chinese financial sentence names what a number is (腾讯 2025 年第一季度游戏收入为 595 亿元);
the words themselves are in `draft_words.py`, the text's clauses and periods in
`draft_text.py`. A guess that finds no word falls back to what the metric or unit implies.
"""

from __future__ import annotations

import re
from datetime import timedelta

from orchestration.figures import periods as P
from orchestration.figures.draft_text import (
    SENTENCE_END,
    Article,
    Found,
    ResolvedPeriod,
    in_order,
    nearest,
    paragraph_start,
    sentence_start,
)
from orchestration.figures.draft_words import (
    COMPANY_METRICS,
    COMPANY_SEGMENTS,
    GROWTH,
    METRIC_SEGMENTS,
    METRIC_WORDS,
    SEGMENT_WORDS,
    STOCK_METRICS,
    UNIT_AFTER,
    Business,
    businesses,
)
from orchestration.figures.numbers import AMOUNT, PERCENT, RANK, Mention, mentions
from orchestration.schemas.reference import load_reference


def first_match(patterns: list[tuple[str, str]], text: str, default: str = "") -> str:
    return next((v for p, v in patterns if re.search(p, text, re.IGNORECASE)), default)


def unit_after(mention: Mention, after: str) -> str:
    if mention.kind == PERCENT:
        return "percent"
    if mention.kind == RANK:
        return "rank"
    return first_match(UNIT_AFTER, after)


def guess_measure(mention: Mention, text: str, clause_start: int, language: str) -> str:
    if mention.kind == RANK:
        return "rank"
    if mention.kind != PERCENT:
        return "level"
    before = text[clause_start : mention.start]
    share = re.search(r"占(?!据)([^,，;；。]*)$|accounting for|accounts? for|share of", before)
    if share or re.search(r"占比", before):
        words = share.group(1) if share and share.groups() and share.group(1) else ""
        if not words or re.search(r"总|整体|全部|公司|集团|total|company", words, re.IGNORECASE):
            return "share_of_company_revenue"
        return "share_of_parent"
    if re.search(
        r"环比|quarter-on-quarter|month-on-month|previous (?:month|quarter)", before, re.IGNORECASE
    ):
        return "mom_growth"  # the caller makes it qoq_growth for a quarter
    rate = nearest(
        [(p, m) for p, m in METRIC_WORDS if metric_unit(m) == "percent"],
        text,
        clause_start,
        mention.start,
    )
    between = text[rate.end : mention.start] if rate else ""
    if rate and (
        not re.search(GROWTH, between, re.IGNORECASE)
        or re.search(r"(?:至|到|达到|达|为|to)\s*$", between, re.IGNORECASE)
    ):
        return "level"  # 市占率为 14.7%, 毛利率提升至 56.4%
    if language == "en" and re.search(r"\bpages?\b|retention|market share", before, re.IGNORECASE):
        return "level"
    return "yoy_growth"


def metric_unit(metric: str) -> str:
    return load_reference().metric_units.get(metric, "")


def guess_metric(
    article: Article,
    paragraph: int,
    sentence: int,
    mention: Mention,
    unit: str,
    measure: str,
    clause_end: int,
) -> str:
    """The metric word that fits the number's unit: named right after it (800 万参与者), paired
    by 分别, the nearest before it in its paragraph, or later in its clause."""
    text = article.masked

    def fits(metric: str) -> bool:
        wanted = metric_unit(metric)
        if measure != "level":
            return wanted != "rank"
        if unit == "CNY":
            return wanted == "CNY"
        if unit == "percent":
            return wanted == "percent"
        if unit in ("", "users", "count") and mention.kind == AMOUNT:
            return wanted not in ("CNY", "percent")
        return wanted == unit

    patterns = [(p, m) for p, m in METRIC_WORDS if fits(m)]
    named = re.match(r"\s*[万亿]*\s*(?:名|位|次|个)?\s*(?:的\s*)?", text[mention.end : clause_end])
    right_after = mention.end + (named.end() if named else 0)
    found = next(
        (
            Found(right_after, right_after + m.end(), metric)
            for p, metric in patterns
            if (m := re.match(p, text[right_after:clause_end], re.IGNORECASE))
        ),
        None,
    )
    found = found or _respectively(article, mention, sentence, clause_end, patterns)
    found = found or nearest(patterns, text, paragraph, mention.start)
    found = found or nearest(patterns, text, mention.end, clause_end)
    if found is not None:
        return str(found.value)
    if unit == "CNY" and measure == "level":
        return "revenue"
    by_unit = [m for m, u in load_reference().metric_units.items() if u == unit and unit != "count"]
    return by_unit[0] if len(by_unit) == 1 else ""


def _period_for(
    mention: Mention,
    periods: list[ResolvedPeriod],
    main: P.Period,
    text: str,
    language: str,
    clause: tuple[int, int],
) -> ResolvedPeriod | P.Period:
    """The period of a number: named in its sentence before it, else its paragraph's, else main.

    A comparison base (去年同期, 较上年) is the period of a number in its own clause only, and
    never of a rate: 较去年同期增长 5% is this period's growth.
    """
    clause_start, clause_end = clause
    sentence = sentence_start(text, mention.start, language)
    paragraph = paragraph_start(text, mention.start)
    before = [
        p
        for p in periods
        if p.mention.end <= mention.start
        and (
            p.mention.kind not in P.COMPARISONS
            or (mention.kind != PERCENT and p.mention.start >= clause_start)
        )
    ]
    in_sentence = [p for p in before if p.mention.start >= sentence]
    if in_sentence:
        return in_sentence[-1]
    after = [p for p in periods if mention.end <= p.mention.start < clause_end]
    if after and after[0].mention.kind not in P.COMPARISONS:
        return after[0]
    # The paragraph's period is a quarter, half or year its first sentence names; a month is
    # its own sentence's (8 月淘宝日活增长 20%。云智能集团收入 334 亿元 is the quarter's).
    first_end = min(
        [i for ch in SENTENCE_END[language] if (i := text.find(ch, paragraph)) >= 0] or [len(text)]
    )
    anchors = [
        p
        for p in before
        if paragraph <= p.mention.start < first_end
        and p.mention.is_anchor
        and p.mention.kind not in (P.MONTH, P.MONTHS)
    ]
    return anchors[-1] if anchors else main


def _respectively(
    article: Article, mention: Mention, sentence: int, clause_end: int, patterns: list
) -> Found | None:
    """同比分别增长 24% 和 72%: the i-th number goes with the i-th thing named before 分别."""
    cut = article.about.rfind("分别", sentence, mention.start)
    if cut < 0:
        return None
    numbers = [
        m
        for m in mentions(article.text[cut:clause_end], article.language)
        if m.kind == mention.kind
    ]
    index = next((i for i, m in enumerate(numbers) if cut + m.start == mention.start), None)
    named = in_order(patterns, article.about, sentence, cut)
    if index is None or len(named) != len(numbers):
        return None
    return named[index]


def guess_segment(
    article: Article,
    mention: Mention,
    company: str,
    metric: str,
    words: tuple[int, int, int],
    clause_end: int,
) -> tuple[str, Business | None]:
    """The segment of a figure, and the business line when one is named.

    The nearest business or segment word before the number in its sentence; else what the
    metric implies; else a segment word earlier in the paragraph since the company was named;
    else the section heading;
    else the company's own segment (PDD reports one) or the whole company.
    """
    since_company, sentence, end = words
    mine = [(b.pattern, b) for b in businesses() if not b.company or b.company == company]
    paired = _respectively(article, mention, sentence, clause_end, mine + SEGMENT_WORDS)
    if paired is not None:
        if isinstance(paired.value, Business):
            return paired.value.segment, paired.value
        return str(paired.value), None
    business = nearest(mine, article.about, sentence, end)
    segment_word = nearest(SEGMENT_WORDS, article.about, sentence, end)
    if business and (segment_word is None or business.end >= segment_word.end):
        return business.value.segment, business.value  # type: ignore[attr-defined]
    if segment_word is not None:
        return str(segment_word.value), None
    if metric in COMPANY_METRICS:
        return "total", None
    if metric in METRIC_SEGMENTS:
        return METRIC_SEGMENTS[metric], None
    # Words earlier in the paragraph, but not before the company was named: 腾讯游戏收入 ...。B 站
    # 日活 ... is not about games.
    earlier = nearest(SEGMENT_WORDS, article.about, since_company, end)
    heading = next((s for at, s in reversed(article.headings) if at <= mention.start), "")
    if earlier or heading:
        return str(earlier.value) if earlier else heading, None
    return COMPANY_SEGMENTS.get(company, "total"), None


def guess_period(
    article: Article,
    mention: Mention,
    metric: str,
    clause: tuple[int, int],
) -> tuple[P.Period, str, str]:
    """The figure's period, the metric (a count of quarters names its own), and a note."""
    found = _period_for(
        mention, article.periods, article.main, article.masked, article.language, clause
    )
    bounds = found.period if isinstance(found, ResolvedPeriod) else found
    note = found.note if isinstance(found, ResolvedPeriod) else ""
    after = article.text[mention.end : mention.end + 8]
    if metric in STOCK_METRICS and bounds.start != bounds.end:
        bounds = P.Period(bounds.end, bounds.end)  # members at the period's end
    elif metric == "planned_investment" and article.published:
        bounds = P.Period(article.published, article.published)  # a plan, as of the article
    elif mention.kind == AMOUNT and re.match(r"^\s*个季度", after):
        # 连续六个季度保持三位数增长: a count of quarters up to the period's end
        last = P.quarter(bounds.end.year, (bounds.end.month + 2) // 3)
        first = last
        for _ in range(int(mention.value) - 1):
            day = first.start - timedelta(days=1)
            first = P.quarter(day.year, (day.month + 2) // 3)
        bounds = P.Period(first.start, last.end)
        if "三位数" in article.text[clause[0] : clause[1]]:
            metric = "quarters_of_triple_digit_growth"
    return bounds, metric, note
