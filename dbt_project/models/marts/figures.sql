-- The fact table: every figure every source states, with labels in both languages. A fact that
-- several sources state has a row per statement: is_latest_statement marks the one the other
-- marts use, has_conflicting_statements the facts whose sources disagree (figure_conflicts).
--
-- Incremental with int_figures_joined: a run writes the rows that model wrote in this dbt
-- invocation (a new or reloaded source's figures and the other statements of their facts; none
-- when a source left alone) and the post-hook deletes the figures that are gone. A full refresh
-- builds every row.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='figure_id',
        on_schema_change='fail',
        post_hook="{% if is_incremental() %}{{ delete_gone_figures(this, ref('int_figures_joined')) }}{% endif %}",
    )
}}
with figures as (

    select * from {{ ref('int_figures_joined') }}
    {% if is_incremental() %}
    where built_at = {{ this_build_started_at() }}
    {% endif %}

),

final as (

    select
        figures.figure_id,
        figures.fact_id,
        figures.source_id,
        figures.source_publication_date,
        figures.company_id,
        figures.company_name_en,
        figures.company_name_zh,
        figures.segment_id,
        figures.segment_name_en,
        figures.segment_name_zh,
        figures.scope,
        figures.business_key,
        figures.business_en,
        figures.business_zh,
        figures.business_id,
        figures.business_name_en,
        figures.business_name_zh,
        figures.is_conformed_business,
        figures.metric_id,
        figures.metric_name_en,
        figures.metric_name_zh,
        figures.measure_id,
        figures.measure_name_en,
        figures.measure_name_zh,
        figures.period_label,
        figures.period_type,
        figures.period_start_date,
        figures.period_end_date,
        figures.value,
        figures.unit_id,
        figures.value_cny_bn,
        figures.qualifier,
        figures.is_exact,
        figures.statement_rank = 1 as is_latest_statement,
        figures.n_statements,
        figures.has_conflicting_statements,
        figures.quote_zh,
        figures.quote_en,
        figures.translation_discrepancy,
        figures.has_translation_discrepancy,
        figures.note,
        figures.source_file,
        figures.source_row

    from figures

)

select * from final
