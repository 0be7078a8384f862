"""Draft a figures.csv from an article: one candidate row per number, for a curator to edit.

Each number of the original-language text that can be a figure becomes a row: its value in base
units, the clause it stands in as the verbatim quote, and guesses of company, business, segment,
metric, measure, unit, period and qualifier from the words before it. Numbers that are not
figures are left out: dates and times, durations, ranges (a price band), counts of companies
(三家), names (88VIP, “澎湃OS 2”), thresholds in a definition, and page furniture (views,
comments, 责任编辑, 点击阅读原文, page numbers). When the text has an English translation too,
the English clause stating the same value becomes quote_en.

How each guess is made, in short (raw/README.md has the walk-through):

- period: the nearest period named before the number in its sentence; else the quarter, half
  or year the paragraph's first sentence names; else the article's main period (the one it
  names most, never after its publication date). Quarters, halves, fiscal periods, "截至 ...
  的季度", 去年同期 and 本季度 are read by `periods.py`, fiscal ones with the company's fiscal
  year end from `lookup_companies.csv`.
- company: the company named last before the number (names, brands, executives); a number
  about a company the warehouse does not cover (美团) is no row.
- business and segment: the nearest business named before the number in its sentence
  (`BUSINESSES`, or `lookup_businesses.csv` when the seeds have it), else the nearest segment
  word, else what the metric implies (operating profit is the whole company's, deliveries are
  hardware), else the section heading, else the whole company.
- metric: the nearest metric word before the number that fits the number's unit (元 needs a
  money metric); unit: the metric's unit from `lookup_metrics.csv` for a level, percent for
  growth and shares, rank for a rank.
Guesses are guesses: the note column says so, and the contract checks what the curator keeps.
docs/drafting.md has the details and how well this works on test articles.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from orchestration.figures import periods as P
from orchestration.figures.coverage import _DATES
from orchestration.figures.numbers import (
    AMOUNT,
    AT_LEAST,
    PERCENT,
    RANK,
    Mention,
    mentions,
    same_value,
)
from orchestration.figures.provenance import SourceText
from orchestration.paths import SEEDS_DIR
from orchestration.schemas.figures import COLUMNS
from orchestration.schemas.reference import load_reference

COMPANY_ALIASES = {
    "zh": {
        "tencent": ["腾讯", "视频号", "微信", "马化腾", "混元", "元宝"],
        "alibaba": [
            "阿里", "淘天", "淘宝", "天猫", "优酷", "速卖通", "88VIP", "通义", "饿了么", "菜鸟",
            "高德",
        ],
        "jd": ["京东", "刘强东"],
        "pdd": ["拼多多", "Temu", "多多买菜"],
        "bilibili": ["B 站", "B站", "哔哩哔哩", "陈睿"],
        "kuaishou": ["快手", "可灵"],
        "xiaomi": ["小米", "雷军", "SU7", "YU7"],
        "baidu": ["百度", "文心", "萝卜快跑", "李彦宏"],
    },
    "en": {
        "tencent": ["Tencent", "WeChat", "Weixin", "video account", "Hunyuan"],
        "alibaba": [
            "Alibaba", "Ali", "Taotian", "Taobao", "Tmall", "Youku", "AliExpress", "88VIP", "Qwen",
        ],
        "jd": ["JD"],
        "pdd": ["Pinduoduo", "Pinduo", "PDD", "Temu"],
        "bilibili": ["Bilibili"],
        "kuaishou": ["Kuaishou", "Kwai", "Keling", "Kling"],
        "xiaomi": ["Xiaomi", "Lei Jun"],
        "baidu": ["Baidu", "ERNIE", "Apollo", "Wenku"],
    },
}  # fmt: skip
# Companies the warehouse does not cover: a number about one of them is no figure of ours.
OTHER = "other"
OTHER_COMPANIES = {
    "zh": [
        "字节跳动", "字节", "抖音", "TikTok", "美团", "网易", "携程", "滴滴", "京东方", "腾讯音乐",
        "爱奇艺", "芒果超媒", "米哈游", "华为", "荣耀", "苹果", "三星", "特斯拉", "比亚迪", "蔚来",
        "理想汽车", "小鹏", "英伟达", "微软", "谷歌", "亚马逊", "Meta", "OpenAI", "DeepSeek",
        "月之暗面", "智谱", "SHEIN", "希音", "唯品会", "得物",
    ],
    "en": [
        "ByteDance", "Douyin", "TikTok", "Meituan", "NetEase", "Trip.com", "Didi", "BOE", "Huawei",
        "Apple", "Samsung", "Tesla", "BYD", "NIO", "Nvidia", "Microsoft", "Google", "Amazon",
        "Meta", "OpenAI", "DeepSeek", "Shein",
    ],
}  # fmt: skip
# Names that contain an alias but are another company: 京东方 (BOE) is not JD.
NOT_ALIAS = {"京东": "(?!方)"}
SECTION_HEADINGS = {
    "游戏": "games", "视频": "video", "电商": "ecommerce", "智能硬件": "hardware",
    "广告": "advertising", "出海": "overseas", "AI": "ai",
    "game": "games", "video": "video", "online retailers": "ecommerce", "e-commerce": "ecommerce",
    "intelligent hardware": "hardware", "advertisement": "advertising",
    "advertising": "advertising", "go to sea": "overseas", "overseas": "overseas",
}  # fmt: skip
# Words that put a figure in a segment; the nearest one before the number wins.
SEGMENT_WORDS = [
    (r"游戏|手游|端游|\bgam(?:e|es|ing)\b", "games"),
    (r"视频|短剧|直播|video|live stream", "video"),
    (r"电商|零售|GMV|商品交易|即时零售|e-commerce|retail", "ecommerce"),
    (
        r"智能手机|手机|汽车|电动车|造车|IoT|家电|平板|硬件|smartphone|vehicle|\bEVs?\b|hardware",
        "hardware",
    ),
    (r"广告|营销服务|在线营销|advertis|marketing services", "advertising"),
    (r"海外|国际(?!财务报告准则)|出海|境外|overseas|international(?! financial)", "overseas"),
    (r"AI|人工智能|大模型|云|自动驾驶|无人驾驶|算力|\bcloud\b|autonomous", "ai"),
    (r"(?<!者)总收入|总营收|整体营收|营业额|total revenue", "total"),
]
# Business lines: (company or "" for any, Chinese and English aliases, English name, Chinese
# name, segment, scope). lookup_businesses.csv, when the seeds have it, comes first.
# fmt: off
BUSINESSES = [
    ("tencent", r"本土市场游戏|国内市场游戏|国内游戏|本土游戏",
        "Domestic games", "国内游戏", "games", "unit"),
    ("tencent", r"国际市场游戏|海外市场游戏|国际游戏|海外游戏",
        "International games", "国际游戏", "overseas", "unit"),
    ("tencent", r"营销服务|marketing services",
        "Marketing services", "营销服务", "advertising", "segment"),
    ("tencent", r"视频号营销服务|视频账号营销服务",
        "Video Accounts marketing services", "视频号营销服务", "video", "unit"),
    ("tencent", r"视频号|视频账号|video account",
        "Video Accounts", "视频号", "video", "unit"),
    ("tencent", r"腾讯视频|Tencent Video",
        "Tencent Video", "腾讯视频", "video", "unit"),
    ("tencent", r"微信|WeChat|Weixin",
        "Weixin and WeChat", "微信及 WeChat", "total", "unit"),
    ("tencent", r"金融科技及企业服务|FinTech and Business Services",
        "FinTech and Business Services", "金融科技及企业服务", "total", "segment"),
    ("tencent", r"(?<!及)企业服务|business services",
        "Business services", "企业服务", "ai", "unit"),
    ("tencent", r"腾讯云|AI 云服务|云服务",
        "Tencent Cloud", "腾讯云", "ai", "unit"),
    ("kuaishou", r"线上营销服务|在线营销服务|online marketing",
        "Online marketing services", "线上营销服务", "advertising", "segment"),
    ("kuaishou", r"可灵|Kling|Keling",
        "Kling AI", "可灵 AI", "ai", "unit"),
    ("bilibili", r"广告",
        "Advertising", "广告", "advertising", "segment"),
    ("alibaba", r"淘天集团|淘天|Taotian",
        "Taobao and Tmall Group", "淘天集团", "ecommerce", "unit"),
    ("alibaba", r"客户管理|customer management",
        "Taobao and Tmall customer management", "淘天客户管理", "ecommerce", "unit"),
    ("alibaba", r"88VIP",
        "88VIP", "88VIP", "ecommerce", "unit"),
    ("alibaba", r"阿里云|云智能|Cloud Intelligence",
        "Cloud Intelligence Group", "阿里云智能集团", "ai", "unit"),
    ("alibaba", r"国际数字商业|国际商业|International Digital Commerce",
        "International Digital Commerce Group", "国际数字商业集团", "overseas", "segment"),
    ("alibaba", r"大文娱|优酷|Youku",
        "Digital Media and Entertainment Group", "阿里大文娱集团", "video", "unit"),
    ("alibaba", r"AI 相关产品|AI相关产品",
        "AI-related products", "AI 相关产品", "ai", "unit"),
    ("jd", r"京东零售|JD Retail",
        "JD Retail", "京东零售", "ecommerce", "segment"),
    ("jd", r"京东物流|JD Logistics",
        "JD Logistics", "京东物流", "ecommerce", "unit"),
    ("jd", r"电子产品和家用电器|带电品类",
        "Electronics and home appliances", "电子产品和家用电器", "ecommerce", "unit"),
    ("pdd", r"Temu",
        "Temu", "Temu", "overseas", "unit"),
    ("pdd", r"在线营销服务|online marketing",
        "Online marketing services", "在线营销服务", "advertising", "unit"),
    ("pdd", r"交易服务|transaction services",
        "Transaction services", "交易服务", "ecommerce", "unit"),
    ("xiaomi", r"智能手机|手机|smartphone",
        "Smartphones", "智能手机", "hardware", "unit"),
    ("xiaomi", r"创新业务|new initiatives",
        "Smart EV and other new initiatives", "智能电动汽车等创新业务", "hardware", "unit"),
    ("xiaomi", r"小米汽车|电动汽车|电动车|汽车|SU7|YU7|electric vehicle",
        "Smart EV", "智能电动汽车", "hardware", "unit"),
    ("xiaomi", r"IoT|生活消费产品",
        "IoT and lifestyle products", "IoT 与生活消费产品", "hardware", "unit"),
    ("baidu", r"萝卜快跑|Apollo Go",
        "Apollo Go", "萝卜快跑", "ai", "unit"),
    ("baidu", r"文心一言|ERNIE Bot",
        "ERNIE Bot", "文心一言", "ai", "unit"),
    ("baidu", r"文心大模型|ERNIE",
        "ERNIE", "文心大模型", "ai", "unit"),
    ("baidu", r"AI 云|智能云|AI Cloud",
        "AI Cloud", "百度智能云", "ai", "unit"),
    ("baidu", r"非在线营销",
        "Non-online-marketing (AI Cloud and others)", "非在线营销", "ai", "unit"),
    ("baidu", r"在线营销|online marketing",
        "Online marketing services", "在线营销服务", "advertising", "segment"),
    ("baidu", r"百度文库|Wenku",
        "Baidu Wenku", "百度文库", "ai", "unit"),
]
# fmt: on
# (words, metric): the nearest before the number, of a metric that fits its unit, wins; on a
# tie the longer word (经营利润率 over 利润率).
METRIC_WORDS = [
    (r"GMV|商品交易总额|成交总额|交易总额|成交额|gross merchandise", "gmv"),
    (r"收入|营收|营业额|收益|客户管理|revenue|income|sales", "revenue"),
    (r"经营利润|营业利润|经营溢利|operating profit|operating income", "operating_profit"),
    (r"经营亏损|营业亏损|亏损|operating loss", "operating_loss"),
    (r"净利润|纯利|净利|net profit|net income", "net_profit"),
    (
        r"经调整净利润|调整后净利润|(?:非国际财务报告准则|非公认会计准则|Non-IFRS|non-GAAP)"
        r"[^,，。;；\d]{0,6}?净利润?|adjusted net",
        "adjusted_net_profit",
    ),
    (r"净亏损|net loss", "net_loss"),
    (r"利润|盈利|profit", "profit"),
    (r"毛利(?!率)|gross profit", "gross_profit"),
    (r"毛利率|gross margin", "gross_margin"),
    (r"经营利润率|营业利润率|经营利润率|operating margin", "operating_margin"),
    (r"资本开支|资本支出|capex|capital expenditure", "capex"),
    (r"研发(?:投入|开支|费用|支出)|R&D", "rd_expense"),
    (r"投入|invest", "planned_investment"),
    (r"消耗|consumption", "daily_spend"),
    (r"使用时长|日均时长|usage time", "daily_usage_minutes"),
    (r"出货量|出货|shipment", "shipments"),
    (r"交付量|交付|交车|deliver", "deliveries"),
    (r"锁单|locked orders", "locked_orders"),
    (r"市占率|市场份额|市场占有率|market share", "market_share"),
    (r"订阅用户|付费用户|付费会员|subscribers|paying users", "subscribers"),
    (r"会员|members|88VIP", "members"),
    (r"参与者|participants", "participants"),
    (r"创作者总收入|创作者收入|income of creators", "creator_income"),
    (r"创作者|creators", "creators_with_income"),
    (r"日活跃用户|日均活跃用户|日活跃账户|日活|DAU|daily active", "dau"),
    (r"月活跃用户|月均活跃用户|月活跃账户|月活|MAU|monthly active", "mau"),
    (r"留存率|retention", "retention_rate_12m"),
    (r"常青游戏|evergreen", "evergreen_games"),
    (r"API", "api_calls_daily"),
    (r"外部 ?API", "external_api_calls"),
    (r"搜索结果页", "search_pages_with_ai_content"),
    (r"搜索量|searches", "daily_searches"),
    (r"出行服务|出行次数|乘车次数|次服务|rides", "rides"),
    (r"广告商|广告主|advertisers", "advertisers_daily"),
]
# Metrics of the whole company: a figure of one of them is the company's unless words say else.
COMPANY_METRICS = {
    "operating_profit", "operating_loss", "net_profit", "adjusted_net_profit", "net_loss",
    "profit", "gross_profit", "gross_margin", "operating_margin", "capex", "rd_expense",
}  # fmt: skip
METRIC_SEGMENTS = {
    "deliveries": "hardware", "shipments": "hardware", "locked_orders": "hardware",
    "rides": "ai", "api_calls_daily": "ai", "external_api_calls": "ai", "gmv": "ecommerce",
    "daily_usage_minutes": "video", "creators_with_income": "video", "creator_income": "video",
}  # fmt: skip
# Companies whose whole revenue is one segment (PDD reports e-commerce only).
COMPANY_SEGMENTS = {"pdd": "ecommerce"}
# Counts at a date rather than over a period: drafted at the period's last day.
STOCK_METRICS = {"members", "subscribers"}
CLAUSE_END = {"zh": r"[,，;；。!！?？\n]", "en": r"(?:[;!?\n]|[.,](?=\s|$))"}
SENTENCE_END = {"zh": "。！？!?\n", "en": "\n!?"}

# The unit a number's own words give it (after the number; first match wins).
FOREIGN = "foreign"  # a sum in another currency: the contract records yuan only
UNIT_AFTER = [
    (r"^\s*(?:[万亿千百十]*)\s*(?:美元|港元|港币|美金|欧元|dollars|USD|HKD)", FOREIGN),
    (r"^\s*(?:[万亿千百十]*)\s*(?:元|人民币|yuan|CNY)", "CNY"),
    (r"^\s*(?:分钟|minutes)", "minutes"),
    (r"^\s*[万亿]*\s*(?:台|辆|units|vehicles)", "units"),
    (r"^\s*[万亿]*\s*(?:次\s*API|API calls|calls)", "calls"),
    (
        r"^\s*[万亿]*\s*次[^,，;；。]{0,12}?(?:服务|出行|行程)|^\s*[万亿]*\s*(?:services|rides)",
        "rides",
    ),
    (r"^\s*[万亿]*\s*(?:名|家)?\s*(?:广告商|广告主|advertisers)", "advertisers"),
    (r"^\s*[万亿]*\s*(?:名|位)?\s*(?:创作者|creators)", "creators"),
    (r"^\s*[万亿]*\s*(?:订单|单|orders|locked orders)", "orders"),
    (r"^\s*[万亿]*\s*(?:名|位)?\s*(?:用户|人|会员|参与者|users|participants)", "users"),
    (r"^\s*个", "count"),
]
# A plain number needs a measure word after it to be a quantity (小米 15, GPT-4 are names).
MEASURE_WORD = {
    "zh": r"^\s*(?:[万亿千百十%％个家名位次台辆元块人户款项倍部条单笔件座种场所只套]|分钟)",
    "en": r"^\s*(?:%|[a-z]+\b)",
}
QUALIFIER_BEFORE = [
    (r"超过|超出|超|逾|突破|高于|多于|more than|over|exceed", "over"),
    (r"不到|不足|低于|少于|under|less than|below", "under"),
    (r"至少|at least", "at_least"),
    (r"近|接近|将近|逼近|nearly|close to|almost", "nearly"),
    (r"约|大约|大概|approximately|around|about", "approx"),
]
QUALIFIER_AFTER = [
    (r"^\s*(?:以上|多)", "over"),
    (r"^\s*(?:左右|上下)", "approx"),
    (r"^\s*以下", "under"),
]
DECLINE = r"下降|下滑|减少|降低|收窄|缩减|下跌|缩小|narrow|declin|fell|decrease|drop"
GROWTH = r"增长|增加|增速|增幅|提升|上升|上涨|翻|同比|环比|" + DECLINE + r"|grow|increase|rise|up\b"

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


@dataclass
class Candidate:
    """A drafted row, and the mention it came from."""

    row: dict[str, str]
    mention: Mention


@dataclass(frozen=True)
class Business:
    """A business line a figure can be about, and the words that name it."""

    company: str
    pattern: str
    name_en: str
    name_zh: str
    segment: str
    scope: str


@dataclass(frozen=True)
class Found:
    """A word found in the text before a number."""

    start: int
    end: int
    value: object


# --- reference data -------------------------------------------------------------------------


@cache
def fiscal_year_ends(seeds_dir: Path = SEEDS_DIR) -> dict[str, tuple[int, int]]:
    """Company -> (month, day) its fiscal year ends, from lookup_companies.csv."""
    path = seeds_dir / "lookup_companies.csv"
    ends = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if m := re.fullmatch(r"(\d{2})-(\d{2})", (row.get("fiscal_year_end") or "").strip()):
                ends[row["company_id"]] = (int(m.group(1)), int(m.group(2)))
    return ends


@cache
def businesses(seeds_dir: Path = SEEDS_DIR) -> tuple[Business, ...]:
    """Business lines: lookup_businesses.csv's first when the seeds have it, then BUSINESSES.

    The seed file is optional and read leniently: a company, English and Chinese names, a
    segment and aliases (separated by ; | 、 or ,) are what a guess needs.
    """
    found: list[Business] = []
    path = seeds_dir / "lookup_businesses.csv"
    segments = set(load_reference().segments)
    other_names: dict[str, list[str]] = {}
    alias_path = seeds_dir / "lookup_business_aliases.csv"
    if alias_path.is_file():
        with alias_path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                other_names.setdefault(row.get("business_id", ""), []).append(row.get("alias", ""))
    if path.is_file():
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):

                def get(*names: str, row: dict[str, str] = row) -> str:
                    return next((row[n].strip() for n in names if row.get(n)), "")

                if get("is_whole_segment").lower() == "true":
                    continue  # a company's whole segment: drafted with a blank business
                name_en = get("name_en", "business_en", "business", "business_name_en")
                name_zh = get("name_zh", "business_zh", "business_name_zh")
                segment = get("segment_id", "segment")
                aliases = [name_zh, name_en]
                aliases += re.split(r"[;|、,，]", get("aliases", "aliases_zh", "aliases_en"))
                aliases += other_names.get(get("business_id"), [])
                aliases = sorted({a.strip() for a in aliases if a.strip()}, key=len, reverse=True)
                if not aliases or segment not in segments:
                    continue
                found.append(
                    Business(
                        get("company_id", "company"),
                        "|".join(re.escape(a) for a in aliases),
                        name_en,
                        name_zh,
                        segment,
                        get("scope") or "unit",
                    )
                )
    found += [Business(*b) for b in BUSINESSES]
    return tuple(found)


# --- finding words near a number ---------------------------------------------------------------


def _nearest(patterns: list[tuple[str, object]], text: str, start: int, end: int) -> Found | None:
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


def _first(patterns: list[tuple[str, str]], text: str, default: str = "") -> str:
    return next((v for p, v in patterns if re.search(p, text, re.IGNORECASE)), default)


def _clause_span(text: str, start: int, end: int, language: str) -> tuple[int, int]:
    ends = [m.end() for m in re.finditer(CLAUSE_END[language], text[:start])]
    first = ends[-1] if ends else 0
    after = re.search(CLAUSE_END[language], text[end:])
    return first, end + after.start() if after else len(text)


def _clause(text: str, mention: Mention, language: str) -> str:
    first, last = _clause_span(text, mention.start, mention.end, language)
    return text[first:last].strip()


def _sentence_start(text: str, position: int, language: str) -> int:
    return max(text.rfind(ch, 0, position) for ch in SENTENCE_END[language]) + 1


def _paragraph_start(text: str, position: int) -> int:
    return text.rfind("\n", 0, position) + 1


def _company(text: str, position: int, language: str) -> str:
    """The company named last before this position (within the last 400 characters)."""
    company = _company_at(text, position, language)[0]
    return "" if company == OTHER else company


def _company_at(text: str, position: int, language: str) -> tuple[str, int]:
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
            word = _nearest(SEGMENT_WORDS, heading, 0, len(heading))
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


def _is_figure(mention: Mention, text: str, skip: list[tuple[int, int]], language: str) -> bool:
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


def _unit_after(mention: Mention, after: str) -> str:
    if mention.kind == PERCENT:
        return "percent"
    if mention.kind == RANK:
        return "rank"
    return _first(UNIT_AFTER, after)


def _measure(mention: Mention, text: str, clause_start: int, language: str) -> str:
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
    rate = _nearest(
        [(p, m) for p, m in METRIC_WORDS if _metric_unit(m) == "percent"],
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


def _metric_unit(metric: str) -> str:
    return load_reference().metric_units.get(metric, "")


def _metric(
    article: _Article,
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
        wanted = _metric_unit(metric)
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
    found = found or _nearest(patterns, text, paragraph, mention.start)
    found = found or _nearest(patterns, text, mention.end, clause_end)
    if found is not None:
        return str(found.value)
    if unit == "CNY" and measure == "level":
        return "revenue"
    by_unit = [m for m, u in load_reference().metric_units.items() if u == unit and unit != "count"]
    return by_unit[0] if len(by_unit) == 1 else ""


def _plain(value: float) -> str:
    """A value as a curator writes it: 197700000000, 24.3, -57.2 (no exponent)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


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
        if (here := _paragraph_start(original, mention.start)) != paragraph:
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
    start = _sentence_start(text, mention.start, language)
    end = min(
        [i for ch in SENTENCE_END[language] if (i := text.find(ch, mention.end)) >= 0]
        or [len(text)]
    )
    before = _company(text[start : mention.start], mention.start - start, language)
    if before:
        return before
    return _company(text[:end], end, language) or _company(text, mention.start, language)


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
    sentence = _sentence_start(text, mention.start, language)
    paragraph = _paragraph_start(text, mention.start)
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


# --- the draft -------------------------------------------------------------------------------


@dataclass
class _Article:
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
    def read(cls, text: str, language: str) -> _Article:
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


def _in_order(patterns: list[tuple[str, object]], text: str, start: int, end: int) -> list[Found]:
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


def _respectively(
    article: _Article, mention: Mention, sentence: int, clause_end: int, patterns: list
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
    named = _in_order(patterns, article.about, sentence, cut)
    if index is None or len(named) != len(numbers):
        return None
    return named[index]


def _segment(
    article: _Article,
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
    business = _nearest(mine, article.about, sentence, end)
    segment_word = _nearest(SEGMENT_WORDS, article.about, sentence, end)
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
    earlier = _nearest(SEGMENT_WORDS, article.about, since_company, end)
    heading = next((s for at, s in reversed(article.headings) if at <= mention.start), "")
    if earlier or heading:
        return str(earlier.value) if earlier else heading, None
    return COMPANY_SEGMENTS.get(company, "total"), None


def _period(
    article: _Article,
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


def _english_quote(english: list[Mention], used: set[int], en_text: str, mention: Mention) -> str:
    """The clause of the English translation that states the same value (each used once)."""
    for i, other in enumerate(english):
        if i not in used and other.kind == mention.kind and same_value(other.value, mention.value):
            used.add(i)
            return _clause(en_text, other, "en")
    return ""


def _draft_row(article: _Article, mention: Mention) -> dict[str, str] | None:
    """One candidate row for a number, or None when it is not a figure."""
    text, language = article.text, article.language
    if not _is_figure(mention, text, article.skip, language):
        return None
    clause_start, clause_end = _clause_span(text, mention.start, mention.end, language)
    sentence = _sentence_start(text, mention.start, language)
    paragraph = _paragraph_start(text, mention.start)
    after = text[mention.end : mention.end + 16]
    unit = _unit_after(mention, after)
    measure = _measure(mention, article.masked, clause_start, language)
    company, named_at = _company_at(text, mention.start, language)
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
    metric = _metric(article, paragraph, sentence, mention, unit, measure, clause_end)
    bounds, metric, period_note = _period(article, mention, metric, (clause_start, clause_end))
    if measure == "level":
        fallback = "users" if re.match(r"^\s*[万亿]", after) else "count"
        unit = _metric_unit(metric) or unit or fallback
    elif measure != "rank":
        unit = "percent"
    if measure == "mom_growth" and (bounds.end - bounds.start).days > 40:
        measure = "qoq_growth"  # 环比 of a quarter: against the previous quarter
    segment, business = _segment(
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
        else _first(QUALIFIER_BEFORE, text[max(0, mention.start - 6) : mention.start], "")
        or _first(QUALIFIER_AFTER, after, "exact")
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
    article = _Article.read(text.part(language), language)
    english = list(mentions(text.en, "en")) if language == "zh" and text.en else []
    used: set[int] = set()
    candidates = []
    for mention in mentions(article.text, language):
        guess = _draft_row(article, mention)
        if guess is None:
            continue
        clause = _clause(article.text, mention, language)
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
