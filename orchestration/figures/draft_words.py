"""The words the drafter guesses with: what names a company, a business, a segment, a metric.

Each list pairs words of the article (Chinese and English) with the value a column of
figures.csv takes: `COMPANY_ALIASES` for company, `BUSINESSES` and `SEGMENT_WORDS` for business,
segment and scope, `METRIC_WORDS` for metric, `UNIT_AFTER` for unit, the qualifier words for
qualifier. A new name a source uses is one line here (or in the seeds: `businesses()` reads
`lookup_businesses.csv` first, `fiscal_year_ends()` `lookup_companies.csv`). How the words are
used is in `draft_guesses.py`; docs/drafting.md says how each column is guessed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from orchestration.paths import SEEDS_DIR
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


@dataclass(frozen=True)
class Business:
    """A business line a figure can be about, and the words that name it."""

    company: str
    pattern: str
    name_en: str
    name_zh: str
    segment: str
    scope: str


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
