"""One language of an article prepared for drafting: its clauses, the numbers that are figures.

A draft looks up words near each number: this module says where a number's clause, sentence
and paragraph start, which company is named last before it, and the nearest word of a list.
It blanks out what must name nothing (page furniture, quoted names, a definition's thresholds)
while keeping every offset, so words are looked up in the blanked text and quoted from the
original. It tells the numbers that can be figures from those that cannot (dates, durations,
ranges, names, counts of companies, someone else's estimate), and resolves every period the
text names in its paragraph's context (`periods.py` reads them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from orchestration.figures import periods as P
from orchestration.figures.coverage import _DATES
from orchestration.figures.draft_words import (
    COMPANY_ALIASES,
    NOT_ALIAS,
    OTHER,
    OTHER_COMPANIES,
    SECTION_HEADINGS,
    SEGMENT_WORDS,
    fiscal_year_ends,
)
from orchestration.figures.numbers import AMOUNT, AT_LEAST, PERCENT, RANK, Mention

CLAUSE_END = {"zh": r"[,，;；。!！?？\n]", "en": r"(?:[;!?\n]|[.,](?=\s|$))"}
SENTENCE_END = {"zh": "。！？!?\n", "en": "\n!?"}

# A plain number needs a measure word after it to be a quantity (小米 15, GPT-4 are names).
MEASURE_WORD = {
    "zh": r"^\s*(?:[万亿千百十%％个家名位次台辆元块人户款项倍部条单笔件座种场所只套]|分钟)",
    "en": r"^\s*(?:%|[a-z]+\b)",
}

# Lines of page furniture: views, comments, bylines, sharing, page numbers.
FURNITURE = re.compile(
    r"责任编辑|编辑\s*[:：]|作者\s*[:：]|来源\s*[:：]|原标题|点击|阅读原文|扫码|二维码|关注|转载|版权"
    r"|图片来[自源]|题图|本文由|分享|评论|浏览|收藏|阅读\s*[\d.]|点赞|在看|发布时间|发布于"
    r"|^\s*\d+\s*/\s*\d+\s*$|^[\s\d:/.\-|｜]+$"
)
FIGURE_WORDS = re.compile(r"亿|万元|%|％|同比|环比|收入|营收")
# A definition's thresholds (指日活超过 500 万的手游), a name in quotes (“澎湃OS 2”): blanked
# out before words are looked up, so that they name no metric and state no figure.
DEFINITION = r"[(（](?:指|即|包括|包含|含|如|例如)[^()（）]{0,80}[)）]"
QUOTED_NAME = r"“[^“”]{0,20}”|\"[^\"]{0,20}\"|《[^《》]{0,30}》|「[^「」]{0,20}」"
# Spans whose numbers are not figures.
NOT_FIGURES = [
    r"\d{1,2}:\d{2}(?::\d{2})?",  # a time
    r"\d{4}\s*[/.]\s*\d{1,2}\s*[/.]\s*\d{1,2}",  # a date
    r"\d{1,2}\s*[日号](?![均活])",  # the day of a date
    # a range (a price band): 4000-5000 元, 10%-15%, 10% 至 15%; not 增长 11% 至 1724 亿元
    r"\d+(?:\.\d+)?\s*%?\s*(?:-|~|～|—)\s*\d+(?:\.\d+)?",
    r"\d+(?:\.\d+)?\s*[%％]\s*(?:至|到)\s*\d+(?:\.\d+)?\s*[%％]",
    r"(?<![\d.])\d+(?:\.\d+)?\s*(?:至|到)\s*\d+(?:\.\d+)?(?![\d.]*\s*[%％])",
    r"\d+\s*(?:个)?(?:天|小时|周年|周|个月|年来|年间|年前|年后)",  # a duration
    r"(?<![\d.])\d{1,2}\s*年(?![度底末\d])",  # years of something (做了 8 年)
    r"\d+(?:\.\d+)?\s*个?百分点",  # a change in points: the contract has no measure for it
    r"\d+\s*家[^,，。;；\d]{0,6}?(?:公司|企业|大厂|厂商|平台|巨头|互联网)",  # a count of companies
    # 有 3 家: a few companies; 50 家门店 is a figure
    r"(?<![\d.])[1-9]\d?\s*家(?![\u4e00-\u9fff]{0,4}(?:商家|门店|品牌|商户|店))",
    DEFINITION,
    QUOTED_NAME,
]
ZH_NUMERAL_COUNT = re.compile(r"^[一二两三四五六七八九十]+$")
RANK_NOT = r"^\s*(?:方|梯队|步|批|届|代|轮|章|节|时间|次|部|期|个|财季|季)"
# An estimate by others (低于市场预期的 1027 亿元) is not the company's figure.
ESTIMATE = r"预期|预估|预测|一致预期|estimate|consensus"
RANK_WORDS = r"排名|位列|位居|名列|排在|排第|居|成为|是"
SHARE_BASE = r"(?:在其|在)?(?:总|整体)(?:收入|营收)中占比?|占(?:[^,，;；。\d%％]{0,12})"


@dataclass(frozen=True)
class Found:
    """A word found in the text before a number."""

    start: int
    end: int
    value: object


# --- finding words near a number ---------------------------------------------------------------


def nearest(patterns: list[tuple[str, object]], text: str, start: int, end: int) -> Found | None:
    """The pattern match ending last within text[start:end] (on a tie, the longest)."""
    best: Found | None = None
    window = text[start:end]
    for pattern, value in patterns:
        for m in re.finditer(pattern, window, re.IGNORECASE):
            found = Found(start + m.start(), start + m.end(), value)
            if best is None or (found.end, found.end - found.start) > (
                best.end,
                best.end - best.start,
            ):
                best = found
    return best


def clause_span(text: str, start: int, end: int, language: str) -> tuple[int, int]:
    ends = [m.end() for m in re.finditer(CLAUSE_END[language], text[:start])]
    first = ends[-1] if ends else 0
    after = re.search(CLAUSE_END[language], text[end:])
    return first, end + after.start() if after else len(text)


def clause_text(text: str, mention: Mention, language: str) -> str:
    first, last = clause_span(text, mention.start, mention.end, language)
    return text[first:last].strip()


def sentence_start(text: str, position: int, language: str) -> int:
    return max(text.rfind(ch, 0, position) for ch in SENTENCE_END[language]) + 1


def paragraph_start(text: str, position: int) -> int:
    return text.rfind("\n", 0, position) + 1


def _company(text: str, position: int, language: str) -> str:
    """The company named last before this position (within the last 400 characters)."""
    company = company_before(text, position, language)[0]
    return "" if company == OTHER else company


def company_before(text: str, position: int, language: str) -> tuple[str, int]:
    """The company named last before this position, and where its name starts (-1: none).

    On a tie the longer name wins (腾讯音乐 is not 腾讯); a company the warehouse does not cover
    is OTHER.
    """
    offset = max(0, position - 400)
    window = text[offset:position]
    best, best_at, best_start = "", -1, -1
    names = {**COMPANY_ALIASES[language], OTHER: OTHER_COMPANIES[language]}
    for company, aliases in names.items():
        for alias in aliases:
            pattern = re.escape(alias) if language == "zh" else rf"\b{re.escape(alias)}\b"
            pattern += NOT_ALIAS.get(alias, "")
            for m in re.finditer(pattern, window):
                if (m.end(), -m.start()) > (best_at, -(best_start - offset)):
                    best, best_at, best_start = company, m.end(), offset + m.start()
    return best, best_start


def _headings(text: str) -> list[tuple[int, str]]:
    """(offset, segment) of each short line that reads as a section heading ("" for none)."""
    found = []
    offset = 0
    for line in text.splitlines(keepends=True):
        heading = re.sub(
            r"^(?:\d{1,2}\s*[、.．)）]?|[一二三四五六七八九十]{1,2}\s*[、.．)）])\s*",
            "",
            line.strip(),
        )
        if heading.lower() in {k.lower() for k in SECTION_HEADINGS}:
            segment = next(v for k, v in SECTION_HEADINGS.items() if k.lower() == heading.lower())
            found.append((offset, segment))
        elif 0 < len(heading) <= 12 and not re.search(r"[\d。,，:：|｜]", heading):
            word = nearest(SEGMENT_WORDS, heading, 0, len(heading))
            found.append((offset, str(word.value) if word else ""))
        offset += len(line)
    return found


def _mask(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text with furniture lines, quoted names and definitions blanked out, and those spans.

    Blanking keeps every offset, so words are looked up in the masked text and quoted from the
    original.
    """
    spans = []
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.strip()
        if body and len(body) <= 100 and FURNITURE.search(body) and not FIGURE_WORDS.search(body):
            spans.append((offset, offset + len(line.rstrip("\n"))))
        offset += len(line)
    for pattern in (DEFINITION, QUOTED_NAME):
        spans += [m.span() for m in re.finditer(pattern, text)]
    masked = list(text)
    for start, end in spans:
        masked[start:end] = [" " if ch != "\n" else ch for ch in text[start:end]]
    return "".join(masked), spans


def _overlaps(mention: Mention, spans: list[tuple[int, int]]) -> bool:
    return any(mention.start < end and start < mention.end for start, end in spans)


# --- what a number is --------------------------------------------------------------------------


def is_figure(mention: Mention, text: str, skip: list[tuple[int, int]], language: str) -> bool:
    """False for numbers that are dates, names, counts of companies or furniture."""
    if _overlaps(mention, skip):
        return False
    before, after = text[max(0, mention.start - 8) : mention.start], text[mention.end :]
    if re.search(ESTIMATE, before, re.IGNORECASE):
        return False  # 低于市场预期的 1027 亿元: someone else's estimate
    if mention.kind == AMOUNT and re.match(r"[A-Za-z]", after):
        return False  # 88VIP, 5G, 2025Q1
    if mention.kind == AMOUNT and ZH_NUMERAL_COUNT.match(mention.text):
        # 三家, 两个, 另一个: prose; 连续六个季度 is a count of quarters.
        return before.endswith("连续")
    plain = re.fullmatch(r"[\d,]+(?:\.\d+)?", mention.text)
    if mention.kind == AMOUNT and plain and not re.match(MEASURE_WORD[language], after, re.I):
        return False  # a name (小米 15, GPT-4) or a bare number
    if mention.kind == AMOUNT and re.match(r"^\s*(?:大关|俱乐部|级|量级|补贴)", after):
        return False  # 千亿大关: a threshold restating the figure beside it; 百亿补贴: a name
    if mention.kind == RANK:
        if mention.text.startswith("前") or re.match(RANK_NOT, after):
            return False  # 前三 is a threshold; 第三方, 第一梯队 are words
        if not re.search(RANK_WORDS, before) and not re.match(r"^\s*(?:名|位|大|家)", after):
            return False
    if mention.kind == PERCENT and mention.bound == AT_LEAST:
        clause_before = re.split(
            CLAUSE_END["zh"], text[max(0, mention.start - 12) : mention.start]
        )[-1]
        if re.search(r"\d\s*[%％]", clause_before):
            return False  # 13% 的双位数增长: restates the exact rate
    return True


def _published(text: str) -> date | None:
    """The first full date in the article's opening lines: usually its publication date."""
    head = "\n".join(text.splitlines()[:12])
    if m := re.search(r"(20\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", head):
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return None


# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedPeriod:
    mention: P.PeriodMention
    period: P.Period
    note: str


def _resolve_periods(
    masked: str, original: str, language: str, published: date | None
) -> tuple[list[ResolvedPeriod], P.Period]:
    """Every period of the text, each resolved in its paragraph's context, and the main period.

    A paragraph starts in the article's main period; each period it names outright (an anchor:
    2025 年第一季度, 上半年, 该季度) is the context of what follows, to the paragraph's end.
    """
    found = [p for p in P.find_periods(masked, language) if p.kind != P.EVENT]
    ends = fiscal_year_ends()

    def year_end_of(mention: P.PeriodMention) -> tuple[int, int]:
        return ends.get(_fiscal_company(original, mention, language), P.CALENDAR_YEAR_END)

    main = P.main_period(found, published, year_end_of)
    resolved = []
    context, paragraph = main, -1
    for mention in found:
        if (here := paragraph_start(original, mention.start)) != paragraph:
            paragraph, context = here, main
        fiscal = mention.kind in (P.FISCAL_QUARTER, P.FISCAL_HALF, P.FISCAL_YEAR)
        year_end = year_end_of(mention) if fiscal else P.CALENDAR_YEAR_END
        period = P.resolve(mention, context, main, year_end, published)
        if period is None:
            continue
        note = ""
        if fiscal:
            company = _fiscal_company(original, mention, language) or "the company"
            month, day = year_end
            note = f"{mention.text.strip()}: {company}'s fiscal year ends {month:02d}-{day:02d}"
        resolved.append(ResolvedPeriod(mention, period, note))
        if mention.is_anchor:
            context = period
    return resolved, main


def _fiscal_company(text: str, mention: P.PeriodMention, language: str) -> str:
    """The company a fiscal period belongs to: named in its sentence, else the last named."""
    start = sentence_start(text, mention.start, language)
    end = min(
        [i for ch in SENTENCE_END[language] if (i := text.find(ch, mention.end)) >= 0]
        or [len(text)]
    )
    before = _company(text[start : mention.start], mention.start - start, language)
    if before:
        return before
    return _company(text[:end], end, language) or _company(text, mention.start, language)


# --- the prepared text ----------------------------------------------------------------------


@dataclass
class Article:
    """One text prepared for drafting: what is blanked, skipped, and its periods."""

    language: str
    text: str  # the original, quoted from
    masked: str  # furniture, quoted names and definitions blanked: words are looked up here
    about: str  # masked, and share bases blanked: what a figure is about is looked up here
    skip: list[tuple[int, int]]
    periods: list[ResolvedPeriod]
    main: P.Period
    headings: list[tuple[int, str]]
    published: date | None

    @classmethod
    def read(cls, text: str, language: str) -> Article:
        masked, masked_spans = _mask(text)
        skip = [m.span() for p in _DATES[language] for m in re.finditer(p, text, re.IGNORECASE)]
        # 连续六个季度 is a count of quarters, not a period.
        skip = [s for s in skip if not text[max(0, s[0] - 2) : s[0]].endswith("连续")]
        skip += [(p.start, p.end) for p in P.find_periods(masked, language)]
        skip += [m.span() for pattern in NOT_FIGURES for m in re.finditer(pattern, text)]
        published = _published(text)
        periods, main = _resolve_periods(masked, text, language, published)
        # What a figure is about is named before it, outside "占总收入的 18%" (a share's base).
        about = re.sub(SHARE_BASE, lambda m: " " * len(m.group(0)), masked)
        return cls(
            language,
            text,
            masked,
            about,
            skip + masked_spans,
            periods,
            main,
            _headings(text),
            published,
        )


def in_order(patterns: list[tuple[str, object]], text: str, start: int, end: int) -> list[Found]:
    """Non-overlapping matches of the patterns in text[start:end], left to right."""
    found = [
        Found(start + m.start(), start + m.end(), value)
        for pattern, value in patterns
        for m in re.finditer(pattern, text[start:end], re.IGNORECASE)
    ]
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Found] = []
    for f in found:
        if not kept or f.start >= kept[-1].end:
            kept.append(f)
    return kept
