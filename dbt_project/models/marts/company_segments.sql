-- Revenue per company, business line and period: the stated level, growth and share side by
-- side, and what they imply (prior-year revenue, the company's total revenue). A business line
-- (lookup_businesses) is one row per period whatever each source calls it and under whichever
-- segment it files it, so the segment is the line's home segment. Built from the latest
-- statement of each fact; a fact that sources state with different values is flagged.
--
-- Incremental by business line: a build writes again the rows of the lines it changed
-- (int_changed_business_lines), since a line's rows depend on its own figures alone.
-- depends_on: {{ ref('int_changed_business_lines') }}, {{ ref('int_figures_joined') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}{{ delete_changed_business_lines(this, ref('int_changed_business_lines')) }}{% endif %}",
    )
}}
with revenue_figures as (

    {% if is_incremental() %}
    select * from {{ latest_figures_of_changed_lines(ref('int_figures_joined'), ref('int_changed_business_lines')) }}
    {% else %}
    select * from {{ ref('int_figures_latest') }}
    {% endif %}
    where metric_id = 'revenue'

),

lines as (

    select
        company_id,
        business_segment_id as segment_id,
        business_key,
        business_id,
        max(business_name_en) as business_en,
        max(business_name_zh) as business_zh,
        case when bool_or(is_whole_segment) then 'segment' else 'unit' end as scope,
        bool_and(is_conformed_business) as is_conformed_business,
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
        max(case when measure_id = 'share_of_company_revenue' then qualifier end)
            as share_qualifier,
        max(case when measure_id = 'level' then figure_id end) as revenue_figure_id,
        max(case when measure_id = 'yoy_growth' then figure_id end) as growth_figure_id,
        max(case when measure_id = 'share_of_company_revenue' then figure_id end)
            as share_figure_id,
        -- true when another source states one of these facts with a different value
        max(case when has_conflicting_statements then 1 else 0 end) = 1
            as has_conflicting_statements

    from revenue_figures
    group by company_id, business_segment_id, business_key, business_id, period_label

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
        business_id,
        business_en,
        business_zh,
        scope,
        is_conformed_business,
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
                then round(
                    {{ implied_prior_year_value('revenue_cny_bn', 'revenue_yoy_growth_pct') }}, 3
                )
        end as implied_prior_year_revenue_cny_bn,
        -- Derived: 100 * revenue / share of company revenue, to the million; exact figures only.
        case
            when revenue_qualifier = 'exact' and share_qualifier = 'exact'
                and share_of_company_revenue_pct > 0
                then round(
                    {{ implied_company_revenue('revenue_cny_bn', 'share_of_company_revenue_pct') }},
                    3
                )
        end as implied_company_revenue_cny_bn,
        revenue_figure_id,
        growth_figure_id,
        share_figure_id,
        has_conflicting_statements

    from stated

)

select * from final
