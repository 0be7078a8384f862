with source as (

    select * from {{ source('articles', 'figures_rejected') }}

),

renamed as (

    select
        source_id,
        source_file,
        source_row,
        figure_id,
        column_name,
        reason,
        record,
        file_hash,
        loaded_at

    from source

)

select * from renamed
