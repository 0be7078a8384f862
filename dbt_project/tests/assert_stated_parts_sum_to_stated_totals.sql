-- Where a source states a total and its parts, the parts add up to the total within the
-- rounding of the stated figures (half a unit of 0.1 bn each):
--   Tencent games = domestic games + international games (1977 = 1397 + 580 亿元)
--   Alibaba e-commerce = Taobao and Tmall Group + International Digital Commerce Group
--     (1739 = 1361 + 377.56 亿元; the English attributes the total to the wrong group).
with lines as (

    select * from {{ ref('company_segments') }}
    where revenue_cny_bn is not null

),

rules (rule_id, role, business_id) as (

    -- business lines (lookup_businesses), so a part filed under another segment or named
    -- another way by a later source still counts
    values
        ('tencent_games', 'total', 'tencent.games'),
        ('tencent_games', 'part', 'tencent.domestic_games'),
        ('tencent_games', 'part', 'tencent.international_games'),
        ('alibaba_ecommerce', 'total', 'alibaba.taotian_and_aidc'),
        ('alibaba_ecommerce', 'part', 'alibaba.taotian'),
        ('alibaba_ecommerce', 'part', 'alibaba.aidc')

),

matched as (

    select rules.rule_id, rules.role, lines.period_label, lines.revenue_cny_bn
    from rules
    inner join lines on rules.business_id = lines.business_id

),

compared as (

    select
        rule_id,
        period_label,
        sum(case when role = 'total' then revenue_cny_bn end) as total_cny_bn,
        sum(case when role = 'part' then revenue_cny_bn end) as parts_cny_bn,
        count(*) as n_figures

    from matched
    group by rule_id, period_label
    having count(case when role = 'total' then 1 end) = 1
        and count(case when role = 'part' then 1 end) = 2

)

select *
from compared
where abs(total_cny_bn - parts_cny_bn) > 0.05 * n_figures
