-- Facts that sources state with different values: every statement of such a fact, beside the
-- latest source's value (the one the segment and company marts use). A restatement with the
-- same value is not a conflict; an empty table means the sources agree.
--
-- Incremental by business line, as the marts by line: a fact is a business line's (its
-- company, business, metric, measure and period), so whether it is in conflict, and its
-- statements, change only with the line's figures. A build writes again the rows of the lines
-- it changed (int_changed_business_lines), reading those lines' figures by row id.
-- depends_on: {{ ref('int_changed_business_lines') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}{{ delete_changed_business_lines(this, ref('int_changed_business_lines')) }}{% endif %}",
    )
}}
with statements as (

    {% if is_incremental() %}
    select * from {{ rows_of_changed_lines(ref('int_figures_joined'), ref('int_changed_business_lines')) }}
    {% else %}
    select * from {{ ref('int_figures_joined') }}
    {% endif %}
    where has_conflicting_statements

),

-- Every statement of a conflicting fact is in `statements`, its latest one too: no second
-- pass over all figures for it.
latest as (

    select fact_id, figure_id, source_id, value from statements
    where statement_rank = 1

),

facts as (

    select
        fact_id,
        count(distinct value) as n_distinct_values

    from statements
    group by fact_id

),

final as (

    select
        statements.figure_id,
        statements.fact_id,
        statements.source_id,
        statements.source_publication_date,
        statements.company_id,
        statements.company_name_en,
        statements.company_name_zh,
        statements.segment_id,
        statements.business_key,
        statements.business_id,
        statements.business_en,
        statements.business_zh,
        statements.metric_id,
        statements.metric_name_en,
        statements.metric_name_zh,
        statements.measure_id,
        statements.period_label,
        statements.value,
        statements.unit_id,
        statements.value_cny_bn,
        statements.qualifier,
        statements.quote_zh,
        statements.figure_id = latest.figure_id as is_latest_statement,
        latest.figure_id as latest_figure_id,
        latest.source_id as latest_source_id,
        latest.value as latest_value,
        statements.value - latest.value as difference_from_latest,
        case when latest.value <> 0
            then 100 * (statements.value - latest.value) / abs(latest.value)
        end as difference_from_latest_pct,
        statements.n_statements,
        facts.n_distinct_values

    from statements
    inner join facts on statements.fact_id = facts.fact_id
    inner join latest on statements.fact_id = latest.fact_id

)

select * from final
