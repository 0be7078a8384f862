-- Each business line as a time series: one row per company, business line, metric, measure and
-- period, with the same measure of the previous quarter and of the same period a year earlier
-- beside it, where a source states them. A business line (lookup_businesses) is one series
-- whatever each source calls it (营销服务, 广告, "Marketing services") and under whichever segment
-- it files it. From stated levels it derives the quarter-on-quarter and year-on-year growth:
-- only where both periods are stated, exactly, and the earlier level is above zero (a bound
-- such as 双位数 gives none); derived_figures lists them, flagged, with formula and inputs.
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
with latest as (

    {% if is_incremental() %}
    select * from {{ latest_figures_of_changed_lines(ref('int_figures_joined'), ref('int_changed_business_lines')) }}
    {% else %}
    select * from {{ ref('int_figures_latest') }}
    {% endif %}

),

series as (

    select
        business_id || '|' || metric_id || '|' || measure_id || '|' || period_label
            as business_series_id,
        company_id,
        business_id,
        business_name_en,
        business_name_zh,
        business_segment_id as segment_id,
        business_key,
        case when is_whole_segment then 'segment' else 'unit' end as scope,
        is_conformed_business,
        metric_id,
        measure_id,
        period_label,
        period_type,
        period_start_date,
        period_end_date,
        value,
        unit_id,
        value_cny_bn,
        qualifier,
        figure_id,
        source_id

    from latest

),

compared as (

    select
        series.*,
        previous_quarter.period_label as previous_quarter_label,
        previous_quarter.value as previous_quarter_value,
        previous_quarter.value_cny_bn as previous_quarter_value_cny_bn,
        previous_quarter.qualifier as previous_quarter_qualifier,
        previous_quarter.figure_id as previous_quarter_figure_id,
        prior_year.period_label as prior_year_period_label,
        prior_year.value as prior_year_value,
        prior_year.value_cny_bn as prior_year_value_cny_bn,
        prior_year.qualifier as prior_year_qualifier,
        prior_year.figure_id as prior_year_figure_id

    from series
    -- the quarter that ends the day before this one starts
    left join series as previous_quarter
        on series.business_id = previous_quarter.business_id
        and series.metric_id = previous_quarter.metric_id
        and series.measure_id = previous_quarter.measure_id
        and series.period_type = 'quarter'
        and previous_quarter.period_type = 'quarter'
        and previous_quarter.period_end_date = series.period_start_date - 1
    -- the same kind of period, a year earlier (2024Q1 for 2025Q1, 2023 for 2024)
    left join series as prior_year
        on series.business_id = prior_year.business_id
        and series.metric_id = prior_year.metric_id
        and series.measure_id = prior_year.measure_id
        and series.period_type = prior_year.period_type
        and prior_year.period_start_date = cast(series.period_start_date - interval 1 year as date)
        and prior_year.period_end_date = cast(series.period_end_date - interval 1 year as date)

),

final as (

    select
        business_series_id,
        company_id,
        business_id,
        business_name_en,
        business_name_zh,
        segment_id,
        business_key,
        scope,
        is_conformed_business,
        metric_id,
        measure_id,
        period_label,
        period_type,
        period_start_date,
        period_end_date,
        value,
        unit_id,
        value_cny_bn,
        qualifier,
        figure_id,
        source_id,
        previous_quarter_label,
        previous_quarter_value,
        previous_quarter_value_cny_bn,
        previous_quarter_figure_id,
        prior_year_period_label,
        prior_year_value,
        prior_year_value_cny_bn,
        prior_year_figure_id,
        -- Derived: growth between two stated exact levels, to three decimals.
        case
            when measure_id = 'level' and qualifier = 'exact'
                and previous_quarter_qualifier = 'exact' and previous_quarter_value > 0
                then round({{ growth_between('value', 'previous_quarter_value') }}, 3)
        end as derived_qoq_growth_pct,
        case
            when measure_id = 'level' and qualifier = 'exact'
                and prior_year_qualifier = 'exact' and prior_year_value > 0
                then round({{ growth_between('value', 'prior_year_value') }}, 3)
        end as derived_yoy_growth_pct

    from compared

)

select * from final
