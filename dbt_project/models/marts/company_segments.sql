-- Revenue per company, segment, business and period: the stated level, growth and share side
-- by side, and the prior-year revenue they imply. Built from the latest statement of each fact.
with revenue_figures as (

    select * from {{ ref('int_figures_latest') }}
    where metric_id = 'revenue'

),

lines as (

    select
        company_id,
        segment_id,
        business_key,
        max(business_en) as business_en,
        max(business_zh) as business_zh,
        max(scope) as scope,
        period_label,
        max(period_type) as period_type,
        max(period_start_date) as period_start_date,
        max(period_end_date) as period_end_date,
        max(case when measure_id = 'level' then value_cny_bn end) as revenue_cny_bn,
        max(case when measure_id = 'level' then qualifier end) as revenue_qualifier,
        max(case when measure_id = 'yoy_growth' then value end) as revenue_yoy_growth_pct,
        max(case when measure_id = 'yoy_growth' then qualifier end) as revenue_yoy_growth_qualifier,
        max(case when measure_id = 'share_of_company_revenue' then value end)
            as share_of_company_revenue_pct,
        max(case when measure_id = 'level' then figure_id end) as revenue_figure_id,
        max(case when measure_id = 'yoy_growth' then figure_id end) as growth_figure_id,
        max(case when measure_id = 'share_of_company_revenue' then figure_id end)
            as share_figure_id

    from revenue_figures
    group by company_id, segment_id, business_key, period_label

),

stated as (

    select * from lines
    where revenue_cny_bn is not null
        or revenue_yoy_growth_pct is not null
        or share_of_company_revenue_pct is not null

),

final as (

    select
        company_id || '|' || segment_id || '|' || business_key || '|' || period_label
            as company_segment_id,
        company_id,
        segment_id,
        business_key,
        business_en,
        business_zh,
        scope,
        period_label,
        period_type,
        period_start_date,
        period_end_date,
        revenue_cny_bn,
        revenue_qualifier,
        revenue_yoy_growth_pct,
        revenue_yoy_growth_qualifier,
        share_of_company_revenue_pct,
        -- Derived: revenue / (1 + growth), to the million. Exact figures only: a bound gives none.
        case
            when revenue_qualifier = 'exact' and revenue_yoy_growth_qualifier = 'exact'
                then round(revenue_cny_bn / (1 + revenue_yoy_growth_pct / 100), 3)
        end as implied_prior_year_revenue_cny_bn,
        revenue_figure_id,
        growth_figure_id,
        share_figure_id

    from stated

)

select * from final
