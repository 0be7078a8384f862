with source as (

    select * from {{ source('articles', 'text_coverage') }}

),

renamed as (

    select
        source_id,
        language,
        position as text_position,
        number as number_text,
        value,
        kind,
        status as coverage_status,
        detail as coverage_detail,
        context

    from source

)

select * from renamed
