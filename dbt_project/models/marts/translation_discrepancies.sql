-- Figures whose English translation disagrees with the Chinese original on the value, scope,
-- company or period. The Chinese wins: the figure's value is the Chinese one.
with figures as (

    select * from {{ ref('figures') }}

),

final as (

    select
        figure_id,
        source_id,
        translation_discrepancy as discrepancy,
        company_id,
        company_name_en,
        company_name_zh,
        segment_id,
        business_en,
        metric_id,
        measure_id,
        period_label,
        value,
        unit_id,
        quote_zh,
        quote_en,
        note as explanation

    from figures
    where translation_discrepancy is not null

)

select * from final
