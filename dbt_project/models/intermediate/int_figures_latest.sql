-- One statement per fact: when several sources state the same company, business, metric,
-- measure and period, the latest source wins (ties: the later source_id). The figures mart
-- keeps every statement; segment and company marts read this model, so nothing is counted twice.
with figures as (

    select * from {{ ref('int_figures_joined') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by fact_id
            order by source_publication_date desc, source_id desc
        ) as statement_rank,
        count(*) over (
            partition by fact_id
        ) as n_statements

    from figures

),

latest as (

    select * from ranked where statement_rank = 1

)

select * from latest
