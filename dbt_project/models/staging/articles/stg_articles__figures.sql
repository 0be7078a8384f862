with source as (

    select * from {{ source('articles', 'figures') }}

),

renamed as (

    select
        figure_id,
        source_id,
        company as company_id,
        segment as segment_id,
        metric as metric_id,
        measure as measure_id,
        unit as unit_id,
        scope,
        business as business_en,
        business_zh,
        period as period_label,
        case length(period)
            when 4 then 'year'
            when 6 then 'quarter'
            when 7 then 'month'
            when 10 then 'day'
            else 'range'
        end as period_type,
        cast(period_start as date) as period_start_date,
        cast(period_end as date) as period_end_date,
        cast(value as double) as value,
        qualifier,
        quote_zh,
        quote_en,
        translation_discrepancy,
        note,
        source_file,
        source_row,
        file_hash,
        loaded_at

    from source

)

select * from renamed
