-- How completely each source's figures cover the numbers of its text, per language. A source
-- whose text is not on the machine that ran the pipeline has no rows here.
with numbers as (

    select * from {{ ref('stg_articles__text_coverage') }}

),

final as (

    select
        source_id || '|' || language as source_coverage_id,
        source_id,
        language,
        count(*) as n_numbers,
        count(case when coverage_status = 'figure' then 1 end) as n_figures,
        count(case when coverage_status = 'date' then 1 end) as n_dates,
        count(case when coverage_status = 'excluded' then 1 end) as n_excluded,
        count(case when coverage_status = 'uncovered' then 1 end) as n_uncovered,
        round(
            100.0 * count(case when coverage_status <> 'uncovered' then 1 end) / count(*), 1
        ) as covered_pct

    from numbers
    group by source_id, language

)

select * from final
