-- The source dimension: each document the figures come from, and what became of its figures
-- (still the latest statement, superseded by a later source, or in conflict with another).
with sources as (

    select * from {{ ref('stg_articles__sources') }}

),

figures as (

    select * from {{ ref('int_figures_joined') }}

),

counts as (

    select
        source_id,
        count(*) as n_figures,
        count(distinct company_id) as n_companies,
        count(case when statement_rank = 1 then 1 end) as n_latest_statements,
        count(case when statement_rank > 1 then 1 end) as n_superseded,
        count(case when has_conflicting_statements then 1 end) as n_conflicting,
        count(case when has_translation_discrepancy then 1 end) as n_translation_discrepancies

    from figures
    group by source_id

),

final as (

    select
        sources.source_id,
        sources.title_en,
        sources.title_zh,
        sources.publisher,
        sources.author,
        sources.publication_date,
        sources.languages,
        sources.authoritative_language,
        sources.citation,
        sources.notes,
        coalesce(counts.n_figures, 0) as n_figures,
        coalesce(counts.n_companies, 0) as n_companies,
        coalesce(counts.n_latest_statements, 0) as n_latest_statements,
        coalesce(counts.n_superseded, 0) as n_superseded,
        coalesce(counts.n_conflicting, 0) as n_conflicting,
        coalesce(counts.n_translation_discrepancies, 0) as n_translation_discrepancies,
        sources.loaded_at

    from sources
    left join counts on sources.source_id = counts.source_id

)

select * from final
