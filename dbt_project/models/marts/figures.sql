-- The fact table: every figure every source states, with labels in both languages.
with figures as (

    select * from {{ ref('int_figures_joined') }}

),

latest as (

    select figure_id, n_statements from {{ ref('int_figures_latest') }}

),

final as (

    select
        figures.figure_id,
        figures.source_id,
        figures.source_publication_date,
        figures.company_id,
        figures.company_name_en,
        figures.company_name_zh,
        figures.segment_id,
        figures.segment_name_en,
        figures.segment_name_zh,
        figures.scope,
        figures.business_en,
        figures.business_zh,
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
        latest.figure_id is not null as is_latest_statement,
        figures.quote_zh,
        figures.quote_en,
        figures.translation_discrepancy,
        figures.has_translation_discrepancy,
        figures.note,
        figures.source_file,
        figures.source_row

    from figures
    left join latest on figures.figure_id = latest.figure_id

)

select * from final
