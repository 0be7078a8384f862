-- Figures no source states but the stated ones imply, one row each, flagged as derived and kept
-- apart from the stated figures (marts.figures): the derivation, its formula, and the ids of the
-- figures it is computed from. Inputs are exact latest statements; a bound (双位数) gives none.
--   implied_prior_year_value   a level and its year-on-year growth give the year-earlier level
--   implied_company_revenue    a business's revenue and its share give the company's revenue
--   segment_revenue_rank       rank by whole-segment revenue among the covered companies
--   share_of_covered_revenue   that revenue as a percent of the covered companies' total
--   qoq_growth_from_levels     a business line's level in two consecutive quarters gives the
--                              quarter-on-quarter growth (business_series)
--   yoy_growth_from_levels     its level in a period and the same period a year earlier gives
--                              the year-on-year growth (business_series)
--
-- Incremental by business line: a build writes again the rows of the derivations across lines,
-- and of the others those of the lines it changed (int_changed_business_lines), which depend
-- on those lines' figures alone.
-- depends_on: {{ ref('int_changed_business_lines') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}{{ delete_changed_business_lines(this, ref('int_changed_business_lines'), 'derivation in ' ~ derivations_across_lines()) }}{% endif %}",
    )
}}
with latest as (

    select * from {{ ref('int_figures_latest') }}
    {% if is_incremental() %}
    where business_id in {{ changed_business_lines(ref('int_changed_business_lines')) }}
    {% endif %}

),

lines as (

    select * from {{ ref('company_segments') }}

),

series as (

    select * from {{ ref('business_series') }}
    {% if is_incremental() %}
    where business_id in {{ changed_business_lines(ref('int_changed_business_lines')) }}
    {% endif %}

),

whole_companies as (

    -- each company's whole-company business line, where the dimension has one
    select company_id, business_id from {{ ref('lookup_businesses') }}
    where segment_id = 'total' and is_whole_segment

),

rankings as (

    select * from {{ ref('segment_rankings') }}

),

level_and_growth as (

    select
        company_id,
        business_segment_id as segment_id,
        business_key,
        business_id,
        case when bool_or(is_whole_segment) then 'segment' else 'unit' end as scope,
        metric_id,
        period_label,
        max(period_type) as period_type,
        max(period_start_date) as period_start_date,
        max(period_end_date) as period_end_date,
        max(case when measure_id = 'level' then value end) as level_value,
        max(case when measure_id = 'level' then qualifier end) as level_qualifier,
        max(case when measure_id = 'level' then unit_id end) as unit_id,
        max(case when measure_id = 'level' and is_monetary then 1 else 0 end) = 1 as is_monetary,
        max(case when measure_id = 'level' then figure_id end) as level_figure_id,
        max(case when measure_id = 'yoy_growth' then value end) as growth_pct,
        max(case when measure_id = 'yoy_growth' then qualifier end) as growth_qualifier,
        max(case when measure_id = 'yoy_growth' then figure_id end) as growth_figure_id

    from latest
    where measure_id in ('level', 'yoy_growth')
    group by company_id, business_segment_id, business_key, business_id, metric_id, period_label

),

prior_year as (

    select
        'implied_prior_year_value' as derivation,
        'value / (1 + yoy_growth / 100)' as formula,
        company_id,
        segment_id,
        business_key,
        business_id,
        scope,
        metric_id,
        'level' as measure_id,
        -- the same period a year earlier; DuckDB: date - interval is a timestamp
        case
            when period_type in ('day', 'range')
                then cast(cast(period_start_date - interval '1 year' as date) as varchar)
            else cast(cast(substr(period_label, 1, 4) as integer) - 1 as varchar)
                || substr(period_label, 5)
        end
        || case when period_type = 'range'
            then '/' || cast(cast(period_end_date - interval '1 year' as date) as varchar)
            else ''
        end as period_label,
        period_type,
        cast(period_start_date - interval '1 year' as date) as period_start_date,
        cast(period_end_date - interval '1 year' as date) as period_end_date,
        {{ implied_prior_year_value('level_value', 'growth_pct') }} as raw_value,
        unit_id,
        is_monetary,
        level_figure_id || ',' || growth_figure_id as input_figure_ids,
        period_label as input_period_label

    from level_and_growth
    where level_qualifier = 'exact' and growth_qualifier = 'exact' and growth_pct > -100

),

company_revenue as (

    select
        'implied_company_revenue' as derivation,
        '100 * revenue / share_of_company_revenue' as formula,
        lines.company_id,
        'total' as segment_id,
        '' as business_key,
        whole_companies.business_id,
        'segment' as scope,
        'revenue' as metric_id,
        'level' as measure_id,
        lines.period_label,
        lines.period_type,
        lines.period_start_date,
        lines.period_end_date,
        1e9 * {{ implied_company_revenue('revenue_cny_bn', 'share_of_company_revenue_pct') }}
            as raw_value,
        'CNY' as unit_id,
        true as is_monetary,
        lines.revenue_figure_id || ',' || lines.share_figure_id as input_figure_ids,
        lines.period_label as input_period_label,
        -- which business the total is implied from, for the id
        lines.segment_id as basis_segment_id,
        lines.business_key as basis_business_key

    from lines
    left join whole_companies on lines.company_id = whole_companies.company_id
    where lines.implied_company_revenue_cny_bn is not null

),

ranking_inputs as (

    select
        segment_id,
        period_label,
        string_agg(revenue_figure_id, ',' order by revenue_figure_id) as input_figure_ids

    from rankings
    group by segment_id, period_label

),

ranked as (

    select
        rankings.*,
        ranking_inputs.input_figure_ids

    from rankings
    inner join ranking_inputs
        on rankings.segment_id = ranking_inputs.segment_id
        and rankings.period_label = ranking_inputs.period_label

),

segment_rank as (

    select
        'segment_revenue_rank' as derivation,
        'rank of revenue among the companies stating whole-segment revenue (1 = most)'
            as formula,
        company_id,
        segment_id,
        business_key,
        business_id,
        'segment' as scope,
        'revenue' as metric_id,
        'rank' as measure_id,
        period_label,
        period_type,
        period_start_date,
        period_end_date,
        cast(revenue_rank as double) as raw_value,
        'rank' as unit_id,
        false as is_monetary,
        input_figure_ids,
        period_label as input_period_label

    from ranked

),

covered_share as (

    select
        'share_of_covered_revenue' as derivation,
        '100 * revenue / sum(revenue of the companies ranked in the segment and period)'
            as formula,
        company_id,
        segment_id,
        business_key,
        business_id,
        'segment' as scope,
        'revenue' as metric_id,
        'share_of_covered_revenue' as measure_id,
        period_label,
        period_type,
        period_start_date,
        period_end_date,
        share_of_covered_revenue_pct as raw_value,
        'percent' as unit_id,
        false as is_monetary,
        input_figure_ids,
        period_label as input_period_label

    from ranked

),

quarter_growth as (

    select
        'qoq_growth_from_levels' as derivation,
        '100 * (value / previous_quarter_value - 1)' as formula,
        company_id,
        segment_id,
        business_key,
        business_id,
        scope,
        metric_id,
        'qoq_growth' as measure_id,
        period_label,
        period_type,
        period_start_date,
        period_end_date,
        {{ growth_between('value', 'previous_quarter_value') }} as raw_value,
        'percent' as unit_id,
        false as is_monetary,
        previous_quarter_figure_id || ',' || figure_id as input_figure_ids,
        previous_quarter_label || ',' || period_label as input_period_label

    from series
    where derived_qoq_growth_pct is not null

),

year_growth as (

    select
        'yoy_growth_from_levels' as derivation,
        '100 * (value / prior_year_value - 1)' as formula,
        company_id,
        segment_id,
        business_key,
        business_id,
        scope,
        metric_id,
        'yoy_growth' as measure_id,
        period_label,
        period_type,
        period_start_date,
        period_end_date,
        {{ growth_between('value', 'prior_year_value') }} as raw_value,
        'percent' as unit_id,
        false as is_monetary,
        prior_year_figure_id || ',' || figure_id as input_figure_ids,
        prior_year_period_label || ',' || period_label as input_period_label

    from series
    where derived_yoy_growth_pct is not null

),

unioned as (

    select *, segment_id as basis_segment_id, business_key as basis_business_key
    from prior_year
    union all
    select * from company_revenue
    union all
    select *, segment_id as basis_segment_id, business_key as basis_business_key
    from segment_rank
    union all
    select *, segment_id as basis_segment_id, business_key as basis_business_key
    from covered_share
    union all
    select *, segment_id as basis_segment_id, business_key as basis_business_key
    from quarter_growth
    union all
    select *, segment_id as basis_segment_id, business_key as basis_business_key
    from year_growth

),

final as (

    select
        derivation || '|' || company_id || '|' || basis_segment_id || '|' || basis_business_key
            || '|' || metric_id || '|' || input_period_label as derived_figure_id,
        derivation,
        formula,
        true as is_derived,
        company_id,
        segment_id,
        business_key,
        business_id,
        scope,
        metric_id,
        measure_id,
        period_label,
        period_type,
        period_start_date,
        period_end_date,
        round(raw_value, 3) as value,
        unit_id,
        case when is_monetary then round(raw_value / 1e9, 3) end as value_cny_bn,
        input_figure_ids,
        input_period_label

    from unioned

)

select * from final
