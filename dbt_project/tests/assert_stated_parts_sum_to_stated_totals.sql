-- Where a source states a total and its parts, the parts add up to the total within the
-- rounding of the stated figures (half a unit of 0.1 bn each):
--   Tencent games = domestic games + international games (1977 = 1397 + 580 亿元)
--   Alibaba e-commerce = Taobao and Tmall Group + International Digital Commerce Group
--     (1739 = 1361 + 377.56 亿元; the English attributes the total to the wrong group).
with lines as (

    select * from {{ ref('company_segments') }}
    where revenue_cny_bn is not null

),

rules (rule_id, company_id, role, segment_id, business_key) as (

    values
        ('tencent_games', 'tencent', 'total', 'games', ''),
        ('tencent_games', 'tencent', 'part', 'games', 'Domestic games'),
        ('tencent_games', 'tencent', 'part', 'overseas', 'International games'),
        ('alibaba_ecommerce', 'alibaba', 'total', 'ecommerce',
            'Taobao and Tmall Group and International Digital Commerce Group'),
        ('alibaba_ecommerce', 'alibaba', 'part', 'ecommerce', 'Taobao and Tmall Group'),
        ('alibaba_ecommerce', 'alibaba', 'part', 'overseas', 'International Digital Commerce Group')

),

matched as (

    select rules.rule_id, rules.role, lines.period_label, lines.revenue_cny_bn
    from rules
    inner join lines
        on rules.company_id = lines.company_id
        and rules.segment_id = lines.segment_id
        and rules.business_key = lines.business_key

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
