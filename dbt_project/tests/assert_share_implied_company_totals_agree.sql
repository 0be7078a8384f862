-- A segment's revenue and its stated share of company revenue imply the company's total.
-- Where a company states two such pairs for a period (Xiaomi: EVs 328 亿元 = 9%, overseas
-- 1533 亿元 = 41.9%), the implied totals must agree within the rounding of the inputs:
-- each pair gives an interval, and the intervals must overlap.
with lines as (

    select * from {{ ref('company_segments') }}
    where revenue_cny_bn is not null and share_of_company_revenue_pct > 0
        and revenue_qualifier = 'exact'

),

intervals as (

    select
        company_id,
        period_label,
        company_segment_id,
        -- half a unit of the last stated digit: 32.8 -> 0.05, 9 -> 0.5, 41.9 -> 0.05
        case when revenue_cny_bn = round(revenue_cny_bn, 1) then 0.05 else 0.0005 end
            as revenue_rounding,
        case when share_of_company_revenue_pct = round(share_of_company_revenue_pct) then 0.5
            else 0.05 end as share_rounding,
        revenue_cny_bn,
        share_of_company_revenue_pct

    from lines

),

bounds as (

    select
        company_id,
        period_label,
        company_segment_id,
        100 * (revenue_cny_bn - revenue_rounding)
            / (share_of_company_revenue_pct + share_rounding) as low_cny_bn,
        100 * (revenue_cny_bn + revenue_rounding)
            / (share_of_company_revenue_pct - share_rounding) as high_cny_bn

    from intervals

),

compared as (

    select
        company_id,
        period_label,
        count(*) as n_pairs,
        max(low_cny_bn) as highest_low_cny_bn,
        min(high_cny_bn) as lowest_high_cny_bn

    from bounds
    group by company_id, period_label

)

select *
from compared
where n_pairs > 1 and highest_low_cny_bn > lowest_high_cny_bn
