-- Facts that sources state with different values: every statement of such a fact, beside the
-- latest source's value (the one the segment and company marts use). A restatement with the
-- same value is not a conflict; an empty table means the sources agree.
with statements as (

    select * from {{ ref('int_figures_joined') }}

),

latest as (

    select * from {{ ref('int_figures_latest') }}

),

facts as (

    select
        company_id,
        segment_id,
        business_key,
        metric_id,
        measure_id,
        period_label,
        count(*) as n_statements,
        count(distinct value) as n_distinct_values

    from statements
    group by company_id, segment_id, business_key, metric_id, measure_id, period_label
    having count(distinct value) > 1

),

final as (

    select
        statements.figure_id,
        statements.company_id || '|' || statements.segment_id || '|' || statements.business_key
            || '|' || statements.metric_id || '|' || statements.measure_id
            || '|' || statements.period_label as fact_id,
        statements.source_id,
        statements.source_publication_date,
        statements.company_id,
        statements.company_name_en,
        statements.company_name_zh,
        statements.segment_id,
        statements.business_key,
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
        facts.n_statements,
        facts.n_distinct_values

    from statements
    inner join facts
        on statements.company_id = facts.company_id
        and statements.segment_id = facts.segment_id
        and statements.business_key = facts.business_key
        and statements.metric_id = facts.metric_id
        and statements.measure_id = facts.measure_id
        and statements.period_label = facts.period_label
    inner join latest
        on statements.company_id = latest.company_id
        and statements.segment_id = latest.segment_id
        and statements.business_key = latest.business_key
        and statements.metric_id = latest.metric_id
        and statements.measure_id = latest.measure_id
        and statements.period_label = latest.period_label

)

select * from final
