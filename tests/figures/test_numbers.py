"""Number parsing on real phrasings from the seed article, in both languages."""

import pytest

from orchestration.figures.numbers import (
    AMOUNT,
    AT_LEAST,
    PERCENT,
    RANK,
    mentions_en,
    mentions_zh,
    supporting_mention,
)

ZH_CASES = [
    ("游戏业务收入 1977 亿元", 197_700_000_000, AMOUNT),
    ("同比增长 10%", 10, PERCENT),
    ("国内游戏收入 1397 亿元", 139_700_000_000, AMOUNT),
    ("B 站的游戏收入虽然仅为 56 亿元", 5_600_000_000, AMOUNT),
    ("但同比增幅达到40%", 40, PERCENT),
    ("订阅用户数达到 1.13 亿", 113_000_000, AMOUNT),
    ("在 Q4 季度收入为 54.38 亿元", 5_438_000_000, AMOUNT),
    ("吸引了超过 800 万参与者", 8_000_000, AMOUNT),
    ("创作者总收入增长了近 500%", 500, PERCENT),
    ("有近 310 万创作者", 3_100_000, AMOUNT),
    ("达到 2.58 亿", 258_000_000, AMOUNT),
    ("用户日均使用时长达到了 125.6 分钟", 125.6, AMOUNT),
    ("创作者数量同比翻倍", 100, PERCENT),
    ("收入同比翻了一倍", 100, PERCENT),
    ("继续保持双位数增长,达到4900万", 49_000_000, AMOUNT),
    ("继续保持双位数增长", 10, PERCENT),
    ("京东零售在该季度收入达到 3071 亿元", 307_100_000_000, AMOUNT),
    ("达到 1741.5 亿元", 174_150_000_000, AMOUNT),
    ("超过零售收入的一半", 50, PERCENT),
    ("计划投入千亿人民币", 100_000_000_000, AMOUNT),
    ("年利润首次突破千亿元", 100_000_000_000, AMOUNT),
    ("成为继腾讯、阿里之后第三家", 3, RANK),
    ("市占率排名第一,达到24.3%", 24.3, PERCENT),
    ("市占率排名第一", 1, RANK),
    ("电动汽车全年交付量为 13.7 万台", 137_000, AMOUNT),
    ("3 天锁单订单超过 1 万辆", 10_000, AMOUNT),
    ("在全球排名第五", 5, RANK),
    ("在全球 53 个市场排名前三", 53, AMOUNT),
    ("经营亏损同比收窄 57.2%", 57.2, PERCENT),
    ("国际商业收入达到 377.56 亿元", 37_756_000_000, AMOUNT),
    ("每天处理约 16.5 亿次 API 调用", 1_650_000_000, AMOUNT),
    ("百度文库 AI 功能的 MAU(月活) 达到 9400 万", 94_000_000, AMOUNT),
    ("每天有 2.7 万名广告商", 27_000, AMOUNT),
    ("日均消耗超过 3000 万元", 30_000_000, AMOUNT),
    ("商业化收入已经超过了 1 亿元", 100_000_000, AMOUNT),
    ("连续六个季度保持三位数的同比增长", 6, AMOUNT),
    ("连续六个季度保持三位数的同比增长", 100, PERCENT),
    ("从 2023 年的 12 个", 12, AMOUNT),
]

EN_CASES = [
    ("gaming revenue of 197.7 billion yuan in 2024", 197_700_000_000, AMOUNT),
    ("a year-on-year increase of 10%", 10, PERCENT),
    ("with 113 million subscribers", 113_000_000, AMOUNT),
    ("had a revenue of 5.438 billion yuan in Q4", 5_438_000_000, AMOUNT),
    ("attracted over 8 million participants", 8_000_000, AMOUNT),
    ("nearly 3.1 million creators earning income", 3_100_000, AMOUNT),
    ("reached 125.6 minutes, up 5.8% year on year", 5.8, PERCENT),
    ("the number of creators ... will double year-on-year", 100, PERCENT),
    ("Tencent's AI cloud service revenue doubled year-on-year", 100, PERCENT),
    ("continued to maintain double-digit growth", 10, PERCENT),
    ("maintained double-digit year-on-year growth for six consecutive quarters", 6, AMOUNT),
    ("more than half of its retail revenue", 50, PERCENT),
    ("reaching 174.15 billion yuan", 174_150_000_000, AMOUNT),
    ("the operating profit exceeded 100 billion yuan", 100_000_000_000, AMOUNT),
    ("plans to invest billions of yuan", 1_000_000_000, AMOUNT),
    ("becoming the third Internet company", 3, RANK),
    ("the market share ranks first, reaching 24.3%", 1, RANK),
    ("The annual delivery volume of electric vehicles was 137000 units", 137_000, AMOUNT),
    ("with over 10000 locked orders in 3 days", 10_000, AMOUNT),
    ("ranking fifth in the world", 5, RANK),
    ("rank among the top three in 53 global markets", 3, RANK),
    ("its operating loss narrowed by 57.2% year-on-year", 57.2, PERCENT),
    ("processed approximately 1.65 billion API calls per day", 1_650_000_000, AMOUNT),
    ("The MAU (monthly active user) of Baidu Wenku's AI function reached 94 million", 94e6, AMOUNT),
    ("27000 advertisers will use Baidu AI intelligent agents", 27_000, AMOUNT),
    ("exceeded 30 million yuan", 30_000_000, AMOUNT),
    ("reached 37.756 billion yuan in the fourth quarter", 37_756_000_000, AMOUNT),
    ("provided more than 1.1 million services", 1_100_000, AMOUNT),
]


@pytest.mark.parametrize(("text", "value", "kind"), ZH_CASES)
def test_chinese_phrasing_is_parsed(text, value, kind):
    found = [(m.value, m.kind) for m in mentions_zh(text)]
    assert any(abs(v - value) <= 1e-9 * max(1, value) and k == kind for v, k in found), found


@pytest.mark.parametrize(("text", "value", "kind"), EN_CASES)
def test_english_phrasing_is_parsed(text, value, kind):
    found = [(m.value, m.kind) for m in mentions_en(text)]
    assert any(abs(v - value) <= 1e-9 * max(1, value) and k == kind for v, k in found), found


def test_digit_words_are_lower_bounds():
    (mention,) = [m for m in mentions_zh("三位数的同比增长") if m.kind == PERCENT]
    assert (mention.value, mention.bound) == (100, AT_LEAST)
    (mention,) = [m for m in mentions_en("triple-digit growth") if m.kind == PERCENT]
    assert (mention.value, mention.bound) == (100, AT_LEAST)


def test_a_value_in_the_wrong_unit_is_not_supported():
    # 197.7 is the figure in billions; the contract wants yuan.
    assert supporting_mention("游戏业务收入 1977 亿元", "zh", 197.7, "CNY") is None
    assert supporting_mention("游戏业务收入 1977 亿元", "zh", 197.7e9, "CNY") is not None


def test_percent_and_amount_are_not_confused():
    assert supporting_mention("同比增长 10%", "zh", 10, "count") is None
    assert supporting_mention("从 2023 年的 12 个", "zh", 12, "percent") is None


def test_a_decline_matches_its_stated_magnitude():
    assert supporting_mention("经营亏损同比收窄 57.2%", "zh", -57.2, "percent") is not None


def test_names_and_years_are_not_taken_for_the_value():
    # 88VIP and 2024 are numbers in the text, but not 49 million.
    assert supporting_mention("88VIP 在 2024 年", "zh", 49e6, "users") is None


def test_tenths_are_percents_but_words_with_cheng_are_not():
    found = mentions_zh("海外收入占总收入的近四成,成为增长曲线,成本下降")
    assert [(m.text, m.value, m.kind) for m in found] == [("四成", 40.0, "percent")]
