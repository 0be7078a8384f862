"""Draft a figures.csv from an article: one candidate row per number, for a curator to edit.

Each number in the text (dates aside) becomes a row with its value in base units, a guess of
the unit, measure, metric, company, segment, period and qualifier from the words around it, and
the clause it stands in as the verbatim quote. When the text has both a Chinese original and an
English translation, the English clause stating the same value becomes quote_en. Guesses are
guesses: the note column says so, and the pipeline's contract checks whatever the curator keeps.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from orchestration.figures.coverage import _DATES
from orchestration.figures.numbers import AT_LEAST, PERCENT, RANK, Mention, mentions, same_value
from orchestration.figures.provenance import SourceText
from orchestration.schemas.figures import COLUMNS, period_bounds

COMPANY_ALIASES = {
    "zh": {
        "tencent": ["腾讯", "视频号", "微信"],
        "alibaba": ["阿里", "淘天", "淘宝", "天猫", "优酷", "速卖通", "88VIP"],
        "jd": ["京东"],
        "pdd": ["拼多多", "Temu"],
        "bilibili": ["B 站", "B站", "哔哩哔哩"],
        "kuaishou": ["快手", "可灵"],
        "xiaomi": ["小米", "雷军"],
        "baidu": ["百度", "文心", "萝卜快跑"],
    },
    "en": {
        "tencent": ["Tencent", "WeChat", "video account"],
        "alibaba": ["Alibaba", "Ali", "Taotian", "Taobao", "Tmall", "Youku", "AliExpress", "88VIP"],
        "jd": ["JD"],
        "pdd": ["Pinduoduo", "Pinduo", "PDD", "Temu"],
        "bilibili": ["Bilibili"],
        "kuaishou": ["Kuaishou", "Kwai", "Keling", "Kling"],
        "xiaomi": ["Xiaomi", "Lei Jun"],
        "baidu": ["Baidu", "ERNIE", "Apollo", "Wenku"],
    },
}
SECTION_HEADINGS = {
    "游戏": "games", "视频": "video", "电商": "ecommerce", "智能硬件": "hardware",
    "广告": "advertising", "出海": "overseas", "AI": "ai",
    "game": "games", "video": "video", "online retailers": "ecommerce", "e-commerce": "ecommerce",
    "intelligent hardware": "hardware", "advertisement": "advertising",
    "advertising": "advertising", "go to sea": "overseas", "overseas": "overseas",
}  # fmt: skip
CLAUSE_END = {"zh": r"[,,;;。!?!?\n]", "en": r"(?:[;!?\n]|[.,](?=\s|$))"}

# (pattern before the number, value) guesses, first match wins
UNIT_AFTER = [
    (r"^\s*(?:[万亿千百十]*)\s*(?:元|人民币|yuan|CNY)", "CNY"),
    (r"^\s*(?:分钟|minutes)", "minutes"),
    (r"^\s*[万亿]*\s*(?:台|辆|units|vehicles)", "units"),
    (r"^\s*[万亿]*\s*(?:次\s*API|API calls|calls)", "calls"),
    (r"^\s*[万亿]*\s*(?:次服务|services|rides)", "rides"),
    (r"^\s*[万亿]*\s*(?:名广告商|advertisers)", "advertisers"),
    (r"^\s*[万亿]*\s*(?:创作者|creators)", "creators"),
    (r"^\s*[万亿]*\s*(?:订单|orders|locked orders)", "orders"),
]
METRIC_WORDS = [
    (r"经营利润|operating profit", "operating_profit"),
    (r"经营亏损|operating loss", "operating_loss"),
    (r"利润|profit", "profit"),
    (r"使用时长|usage time", "daily_usage_minutes"),
    (r"出货量|shipment", "shipments"),
    (r"交付量|deliver", "deliveries"),
    (r"锁单|locked orders", "locked_orders"),
    (r"市占率|market share", "market_share"),
    (r"订阅用户|subscribers", "subscribers"),
    (r"会员|members|88VIP", "members"),
    (r"参与者|participants", "participants"),
    (r"创作者总收入|income of creators", "creator_income"),
    (r"创作者|creators", "creators_with_income"),
    (r"收入|营收|营业额|revenue|income", "revenue"),
    (r"日活|daily active|daily and monthly", "dau"),
    (r"MAU|月活|monthly active", "mau"),
    (r"留存率|retention", "retention_rate_12m"),
    (r"API", "api_calls_daily"),
    (r"次服务|services|rides", "rides"),
    (r"广告商|advertisers", "advertisers_daily"),
    (r"消耗|consumption", "daily_spend"),
    (r"投入|invest", "planned_investment"),
]
QUALIFIER_WORDS = [
    (r"超过|突破|逾|more than|over|exceed", "over"),
    (r"约|左右|approximately|around|about", "approx"),
    (r"近|接近|nearly|close to", "nearly"),
]


@dataclass
class Candidate:
    """A drafted row, and the mention it came from."""

    row: dict[str, str]
    mention: Mention


def _clause(text: str, mention: Mention, language: str) -> str:
    ends = [m.end() for m in re.finditer(CLAUSE_END[language], text[: mention.start])]
    start = ends[-1] if ends else 0
    after = re.search(CLAUSE_END[language], text[mention.end :])
    end = mention.end + after.start() if after else len(text)
    return text[start:end].strip()


def _sentence(text: str, mention: Mention) -> str:
    start = max(text.rfind(ch, 0, mention.start) for ch in "。\n.!?") + 1
    ends = [i for ch in "。\n!?" if (i := text.find(ch, mention.end)) >= 0]
    return text[start : min(ends) if ends else len(text)]


def _first(patterns: list[tuple[str, str]], text: str, default: str = "") -> str:
    return next((v for p, v in patterns if re.search(p, text, re.IGNORECASE)), default)


def _company(text: str, position: int, language: str) -> str:
    """The company named last before this position (within the last 400 characters)."""
    window = text[max(0, position - 400) : position]
    best, best_at = "", -1
    for company, aliases in COMPANY_ALIASES[language].items():
        for alias in aliases:
            pattern = re.escape(alias) if language == "zh" else rf"\b{re.escape(alias)}"
            for m in re.finditer(pattern, window):
                if m.start() > best_at:
                    best, best_at = company, m.start()
    return best


def _segment(text: str, position: int) -> str:
    segment = ""
    offset = 0
    for line in text[:position].splitlines(keepends=True):
        heading = line.strip().lower()
        if 0 < len(heading) <= 24 and heading in {k.lower() for k in SECTION_HEADINGS}:
            segment = next(v for k, v in SECTION_HEADINGS.items() if k.lower() == heading)
        offset += len(line)
    return segment


def _year(text: str) -> str:
    years = Counter(re.findall(r"(20\d{2})\s*年|\b(20\d{2})\b", text))
    flat = Counter({a or b: n for (a, b), n in years.items()})
    return flat.most_common(1)[0][0] if flat else "2024"


def _period(sentence: str, year: str) -> str:
    found = re.search(r"(20\d{2})", sentence)
    year = found.group(1) if found else year
    if re.search(r"第四季度|该季度|本季度|Q4|fourth quarter|the quarter", sentence, re.IGNORECASE):
        return f"{year}Q4"
    if month := re.search(r"(\d{1,2})\s*月(?!\s*-)", sentence):
        return f"{year}-{int(month.group(1)):02d}"
    return year


def _unit(mention: Mention, after: str) -> str:
    if mention.kind == PERCENT:
        return "percent"
    if mention.kind == RANK:
        return "rank"
    if unit := _first(UNIT_AFTER, after):
        return unit
    if re.match(r"^\s*(?:万|亿)|^\s*(?:million|billion)", after):
        return "users"
    return "count"


def _measure(mention: Mention, clause: str, before: str) -> str:
    if mention.kind == RANK:
        return "rank"
    if mention.kind != PERCENT:
        return "level"
    if re.search(r"环比|previous month|month-on-month", clause, re.IGNORECASE):
        return "mom_growth"
    if re.search(r"占|accounting for|account for|accounted for|share of", before, re.IGNORECASE):
        return "share_of_company_revenue"
    if re.search(r"市占率|market share|留存|retention|页面|pages", clause, re.IGNORECASE):
        return "level"
    return "yoy_growth"


def _plain(value: float) -> str:
    """A value as a curator writes it: 197700000000, 24.3, -57.2 (no exponent)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _is_date(mention: Mention, dates: list[tuple[int, int]]) -> bool:
    return any(mention.start < end and start < mention.end for start, end in dates)


def draft_rows(text: SourceText, id_prefix: str) -> list[Candidate]:
    """Candidate rows for every non-date number of the text's original language."""
    language = "zh" if text.zh else "en"
    part = text.part(language)
    dates = [m.span() for p in _DATES[language] for m in re.finditer(p, part, re.IGNORECASE)]
    year = _year(part)
    english = [m for m in mentions(text.en, "en")] if language == "zh" and text.en else []
    used_english: set[int] = set()
    candidates = []
    for mention in mentions(part, language):
        if _is_date(mention, dates):
            continue
        clause = _clause(part, mention, language)
        sentence = _sentence(part, mention)
        before = part[max(0, mention.start - 12) : mention.start]
        unit = _unit(mention, part[mention.end : mention.end + 10])
        measure = _measure(mention, clause, before + part[mention.start : mention.end])
        value = mention.value
        if (
            re.search(r"收窄|下降|下滑|narrow|declin|fell", clause, re.IGNORECASE)
            and unit == "percent"
        ):
            value = -value
        metric = _first(METRIC_WORDS, clause) or _first(METRIC_WORDS, sentence)
        if measure == "level" and unit == "CNY" and metric not in {
            "revenue", "operating_profit", "operating_loss", "profit", "planned_investment",
            "daily_spend", "creator_income",
        }:  # fmt: skip
            metric = "revenue"
        period = _period(sentence, year)
        start, end = period_bounds(period) or ("", "")
        qualifier = (
            AT_LEAST.lower()
            if mention.bound == AT_LEAST
            else _first(QUALIFIER_WORDS, part[max(0, mention.start - 6) : mention.start], "exact")
        )
        quote_en = ""
        for i, other in enumerate(english):
            if i in used_english or other.kind != mention.kind:
                continue
            if same_value(other.value, mention.value):
                used_english.add(i)
                quote_en = _clause(text.en, other, "en")
                break
        row = {
            "figure_id": f"{id_prefix}-{len(candidates) + 1:03d}",
            "company": _company(part, mention.start, language),
            "business": "",
            "business_zh": "",
            "scope": "segment",
            "segment": _segment(part, mention.start),
            "metric": metric,
            "measure": measure,
            "period": period,
            "period_start": str(start),
            "period_end": str(end),
            "value": _plain(value),
            "unit": unit,
            "qualifier": qualifier,
            "quote_zh": clause if language == "zh" else "",
            "quote_en": quote_en if language == "zh" else clause,
            "translation_discrepancy": "",
            "note": "draft: check company, business, scope, segment, metric, period",
        }
        candidates.append(Candidate(row, mention))
    return candidates


def write_draft(candidates: list[Candidate], path: Path) -> None:
    """Write the rows as a figures.csv with the contract's columns."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(c.row for c in candidates)
