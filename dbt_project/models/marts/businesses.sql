-- The business-line dimension: one row per business of a company, in English and Chinese, with
-- its home segment and every name sources use for it, and what the sources state about it. A
-- name in a source that no line lists (check-source warns of it) shows here as a line of its own,
-- is_conformed_business false, until it is added to lookup_businesses or as an alias.
--
-- Incremental by business line: a build writes again the rows of the lines it changed
-- (int_changed_business_lines), since a line's row depends on its own figures alone.
-- depends_on: {{ ref('int_changed_business_lines') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}{{ delete_changed_business_lines(this, ref('int_changed_business_lines')) }}{% endif %}",
    )
}}
with businesses as (

    select * from {{ ref('lookup_businesses') }}
    {% if is_incremental() %}
    where business_id in {{ changed_business_lines(ref('int_changed_business_lines')) }}
    {% endif %}

),

aliases as (

    select * from {{ ref('lookup_business_aliases') }}

),

companies as (

    select * from {{ ref('lookup_companies') }}

),

segments as (

    select * from {{ ref('lookup_segments') }}

),

figures as (

    {% if is_incremental() %}
    select * from {{ rows_of_changed_lines(ref('int_figures_joined'), ref('int_changed_business_lines')) }}
    {% else %}
    select * from {{ ref('int_figures_joined') }}
    {% endif %}

),

alias_lists as (

    select business_id, string_agg(alias, ' | ' order by alias) as aliases
    from aliases
    group by business_id

),

usage as (

    -- one pass over the figures: what they state about each line, and the lines no seed lists
    select
        business_id,
        bool_and(is_conformed_business) as is_conformed_business,
        any_value(company_id) as company_id,
        any_value(business_segment_id) as segment_id,
        bool_or(is_whole_segment) as is_whole_segment,
        any_value(business_key) as business_key,
        max(business_name_en) as business_name_en,
        max(business_name_zh) as business_name_zh,
        count(*) as n_figures,
        count(distinct source_id) as n_sources,
        count(distinct period_label) as n_periods,
        min(period_start_date) as first_period_start_date,
        max(period_end_date) as last_period_end_date

    from figures
    group by business_id

),

lines as (

    select
        business_id,
        company_id,
        segment_id,
        is_whole_segment,
        case when is_whole_segment then '' else business_name_en end as business_key,
        business_name_en,
        business_name_zh,
        true as is_conformed_business

    from businesses
    union all
    -- names no line lists: visible, so that the gap is seen and closed
    select
        business_id,
        company_id,
        segment_id,
        is_whole_segment,
        business_key,
        business_name_en,
        business_name_zh,
        false as is_conformed_business

    from usage
    where not is_conformed_business

),

final as (

    select
        lines.business_id,
        lines.company_id,
        companies.name_en as company_name_en,
        companies.name_zh as company_name_zh,
        lines.segment_id,
        segments.name_en as segment_name_en,
        segments.name_zh as segment_name_zh,
        lines.is_whole_segment,
        lines.business_key,
        lines.business_name_en,
        lines.business_name_zh,
        alias_lists.aliases,
        lines.is_conformed_business,
        coalesce(usage.n_figures, 0) as n_figures,
        coalesce(usage.n_sources, 0) as n_sources,
        coalesce(usage.n_periods, 0) as n_periods,
        usage.first_period_start_date,
        usage.last_period_end_date

    from lines
    inner join companies on lines.company_id = companies.company_id
    inner join segments on lines.segment_id = segments.segment_id
    left join alias_lists on lines.business_id = alias_lists.business_id
    left join usage on lines.business_id = usage.business_id

)

select * from final
