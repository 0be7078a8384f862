with source as (

    select * from {{ source('articles', 'sources') }}

),

renamed as (

    select
        source_id,
        title_en,
        title_zh,
        publisher,
        author,
        cast(publication_date as date) as publication_date,
        languages,
        authoritative_language,
        citation,
        notes,
        source_file,
        file_hash,
        loaded_at

    from source

)

select * from renamed
