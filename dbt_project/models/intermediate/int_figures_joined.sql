-- Every figure with its dimensions' labels and its source's date, so marts never re-join, the
-- business line it is about (lookup_businesses: one row per business, whatever each source calls
-- it), and where it stands among the statements of its fact (the latest source's wins; ties: the
-- later source_id). A table, not a view like the rest of the folder: every mart reads it, and at
-- millions of figures computing the joins and the window once is what keeps dbt build fast
-- (benchmarks/RESULTS.md).
--
-- Incremental by source (docs/operations.md, "Incremental builds"): a row carries the load of its
-- source (loaded_at: a source reloaded is a new version of it). A run rebuilds the rows of new and
-- changed source versions, and the other statements of every fact those rows state or stated,
-- since a new statement changes which is the latest and whether the fact is in conflict; the
-- post-hook deletes the rows of versions that are gone (a source removed or reloaded). built_at
-- says which dbt invocation last wrote a row: marts.figures and the published copy take the rows
-- of the latest one. A full refresh (orchestration/transformation.py decides) builds every row.
-- An incremental build joins the built rows to the facts it touched with the hash table on the
-- touched facts, as written (macros/incremental.sql, join_sides_as_written).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='figure_id',
        on_schema_change='fail',
        pre_hook=[
            "{% if is_incremental() %}{{ join_sides_as_written() }}{% endif %}",
            "{% if is_incremental() %}{{ record_gone_business_lines(this, ref('stg_articles__figures')) }}{% endif %}",
        ],
        post_hook=[
            "{% if is_incremental() %}{{ delete_gone_versions(this, ref('stg_articles__figures')) }}{% endif %}",
            "{% if is_incremental() %}{{ join_sides_chosen_by_duckdb() }}{% endif %}",
        ],
    )
}}
with

{% if is_incremental() %}

versions as (

    select distinct source_id, loaded_at from {{ ref('stg_articles__figures') }}

),

built_versions as (

    select distinct source_id, loaded_at from {{ this }}

),

new_versions as (

    select * from versions
    except
    select * from built_versions

),

gone_versions as (

    select * from built_versions
    except
    select * from versions

),

{% endif %}

figures as (

    select staged.* exclude (file_hash)
    from {{ ref('stg_articles__figures') }} as staged
    {% if is_incremental() %}
    inner join new_versions using (source_id, loaded_at)
    {% endif %}

),

sources as (

    select * from {{ ref('stg_articles__sources') }}

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

businesses as (

    select * from {{ ref('lookup_businesses') }}

),

business_names as (

    select * from {{ ref('int_business_names') }}

),

resolved as (

    -- the business line a figure is about, however its source names it: by its English name,
    -- else its Chinese name, else (a figure of the whole segment) the company's whole-segment
    -- line of its segment (orchestration/figures/dimensions.py: the same rule, for check-source)
    select
        figures.*,
        coalesce(
            by_en.business_id,
            by_zh.business_id,
            case when figures.scope = 'segment' then whole.business_id end
        ) as conformed_business_id

    from figures
    left join business_names as by_en
        on figures.company_id = by_en.company_id
        and {{ business_name_key('figures.business_en') }} = by_en.business_name_key
    left join business_names as by_zh
        on figures.company_id = by_zh.company_id
        and {{ business_name_key('figures.business_zh') }} = by_zh.business_name_key
    left join businesses as whole
        on figures.company_id = whole.company_id
        and figures.segment_id = whole.segment_id
        and whole.is_whole_segment

),

stated as (

    -- the figure, its business line and its source's date: all the window below needs. A
    -- business no line names stays visible as a provisional line of its own, company|segment|name,
    -- or company|segment| for the whole segment (is_conformed_business false; check-source warns
    -- of it before a load).
    select
        resolved.* exclude (conformed_business_id),
        coalesce(
            resolved.conformed_business_id,
            resolved.company_id || '|' || resolved.segment_id || '|'
                || {{ provisional_business_key('resolved.business_en', 'resolved.business_zh', 'resolved.scope') }}
        ) as business_id,
        sources.publication_date as source_publication_date

    from resolved
    inner join sources on resolved.source_id = sources.source_id

),

{% if is_incremental() %}

touched_facts as (

    -- the facts that new versions state, and the facts that gone versions stated
    select business_id, metric_id, measure_id, period_label from stated
    union
    select built.business_id, built.metric_id, built.measure_id, built.period_label
    from {{ this }} as built
    inner join gone_versions using (source_id, loaded_at)

),

restated as (

    -- the statements of those facts that stay: ranked again beside the new ones. Found by their
    -- facts' and versions' columns first, then read whole by row id for those rows alone (a
    -- join on the whole rows read every column of every built row: benchmarks/RESULTS.md)
    select
        built.figure_id, built.source_id, built.company_id, built.segment_id, built.metric_id,
        built.measure_id, built.unit_id, built.scope, built.business_en, built.business_zh,
        built.period_label, built.period_type, built.period_start_date, built.period_end_date, built.value,
        built.qualifier, built.quote_zh, built.quote_en, built.translation_discrepancy, built.note,
        built.source_file, built.source_row, built.loaded_at, built.business_id, built.source_publication_date
    from {{ this }} as built
    where rowid in (
        select rowid from {{ this }}
        semi join touched_facts using (business_id, metric_id, measure_id, period_label)
        anti join gone_versions using (source_id, loaded_at)
    )

),

statements as (

    select * from stated
    union all by name
    select * from restated

),

{% else %}

statements as (

    select * from stated

),

{% endif %}

ranked as (

    -- one window pass over the whole row (joining a narrow ranking back on figure_id measured
    -- slower and larger at ten million figures), before the labels are joined: a narrower row
    -- to sort, which measured faster at ten million figures (benchmarks/RESULTS.md). A fact is a
    -- business line's metric, measure and period: sources that state the same fact share it,
    -- whatever they call the business and under whichever segment they file it.
    select
        *,
        row_number() over facts as statement_rank,
        count(*) over facts as n_statements,
        -- sources disagree on the fact when its statements' values differ
        min(value) over facts <> max(value) over facts as has_conflicting_statements

    from statements
    window facts as (
        partition by business_id, metric_id, measure_id, period_label
        order by source_publication_date desc, source_id desc, figure_id desc
        rows between unbounded preceding and unbounded following
    )

),

joined as (

    select
        ranked.figure_id,
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
        ranked.business_id,
        -- '' for a whole-segment line, else its English name: with the line's home segment,
        -- the key company_segments and the fact id use
        case
            when lines.business_id is null
                then {{ provisional_business_key('ranked.business_en', 'ranked.business_zh', 'ranked.scope') }}
            when lines.is_whole_segment then ''
            else lines.business_name_en
        end as business_key,
        coalesce(lines.segment_id, ranked.segment_id) as business_segment_id,
        coalesce(lines.is_whole_segment, ranked.scope = 'segment') as is_whole_segment,
        lines.business_id is not null as is_conformed_business,
        coalesce(
            lines.business_name_en, ranked.business_en, ranked.business_zh,
            segments.name_en || ' (unlisted)'
        ) as business_name_en,
        coalesce(
            lines.business_name_zh, ranked.business_zh, ranked.business_en,
            segments.name_zh || '(未列入)'
        ) as business_name_zh,
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
        ranked.loaded_at,
        ranked.statement_rank,
        ranked.n_statements,
        ranked.has_conflicting_statements

    from ranked
    left join businesses as lines on ranked.business_id = lines.business_id
    inner join companies on ranked.company_id = companies.company_id
    inner join segments on ranked.segment_id = segments.segment_id
    inner join metrics on ranked.metric_id = metrics.metric_id
    inner join measures on ranked.measure_id = measures.measure_id
    inner join units on ranked.unit_id = units.unit_id

),

final as (

    select
        -- the fact a figure states: company|segment|business|metric|measure|period of its
        -- business line, shared by every source that states it
        company_id || '|' || business_segment_id || '|' || business_key || '|' || metric_id
            || '|' || measure_id || '|' || period_label as fact_id,
        *,
        {{ this_build_started_at() }} as built_at

    from joined

)

select * from final
