-- Every figure with its dimensions' labels and its source's date, so marts never re-join, and
-- where it stands among the statements of its fact (the latest source's wins; ties: the later
-- source_id). A table, not a view like the rest of the folder: every mart reads it, and at
-- millions of figures computing the joins and the window once is what keeps dbt build fast
-- (benchmarks/RESULTS.md).
{{ config(materialized='table') }}
with figures as (

    select * from {{ ref('stg_raw__figures') }}

),

sources as (

    select * from {{ ref('stg_raw__sources') }}

),

companies as (

    select * from {{ ref('lookup_companies') }}

),

segments as (

    select * from {{ ref('lookup_segments') }}

),

metrics as (

    select * from {{ ref('lookup_metrics') }}

),

measures as (

    select * from {{ ref('lookup_measures') }}

),

units as (

    select * from {{ ref('lookup_units') }}

),

stated as (

    -- the figure, its fact and its source's date: all the window below needs
    select
        figures.*,
        -- the fact a figure states: sources that state the same fact share it
        figures.company_id || '|' || figures.segment_id || '|'
            || coalesce(figures.business_en, '') || '|' || figures.metric_id || '|'
            || figures.measure_id || '|' || figures.period_label as fact_id,
        sources.publication_date as source_publication_date

    from figures
    inner join sources on figures.source_id = sources.source_id

),

ranked as (

    -- one window pass over the whole row (joining a narrow ranking back on figure_id measured
    -- slower and larger at ten million figures), before the labels are joined: a narrower row
    -- to sort (38 s against 34 s at ten million figures, benchmarks/RESULTS.md)
    select
        *,
        row_number() over (
            partition by fact_id
            order by source_publication_date desc, source_id desc, figure_id desc
        ) as statement_rank,
        count(*) over (partition by fact_id) as n_statements,
        -- sources disagree on the fact when its statements' values differ
        min(value) over (partition by fact_id) <> max(value) over (partition by fact_id)
            as has_conflicting_statements

    from stated

),

joined as (

    select
        ranked.figure_id,
        ranked.fact_id,
        ranked.source_id,
        ranked.source_publication_date,
        ranked.company_id,
        companies.name_en as company_name_en,
        companies.name_zh as company_name_zh,
        ranked.segment_id,
        segments.name_en as segment_name_en,
        segments.name_zh as segment_name_zh,
        ranked.scope,
        ranked.business_en,
        ranked.business_zh,
        coalesce(ranked.business_en, '') as business_key,
        ranked.metric_id,
        metrics.name_en as metric_name_en,
        metrics.name_zh as metric_name_zh,
        ranked.measure_id,
        measures.name_en as measure_name_en,
        measures.name_zh as measure_name_zh,
        ranked.period_label,
        ranked.period_type,
        ranked.period_start_date,
        ranked.period_end_date,
        ranked.value,
        ranked.unit_id,
        units.is_monetary,
        case when units.is_monetary then ranked.value / 1e9 end as value_cny_bn,
        ranked.qualifier,
        ranked.qualifier = 'exact' as is_exact,
        ranked.quote_zh,
        ranked.quote_en,
        ranked.translation_discrepancy,
        ranked.translation_discrepancy is not null as has_translation_discrepancy,
        ranked.note,
        ranked.source_file,
        ranked.source_row,
        ranked.statement_rank,
        ranked.n_statements,
        ranked.has_conflicting_statements

    from ranked
    inner join companies on ranked.company_id = companies.company_id
    inner join segments on ranked.segment_id = segments.segment_id
    inner join metrics on ranked.metric_id = metrics.metric_id
    inner join measures on ranked.measure_id = measures.measure_id
    inner join units on ranked.unit_id = units.unit_id

)

select * from joined
