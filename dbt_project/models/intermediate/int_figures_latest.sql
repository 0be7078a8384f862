-- One statement per fact: when several sources state the same company, business, metric,
-- measure and period, the latest source wins (int_figures_joined ranks them). The figures mart
-- keeps every statement; segment and company marts read this model, so nothing counts twice.
with figures as (

    select * from {{ ref('int_figures_joined') }}

),

latest as (

    select * from figures where {{ is_latest_statement() }}

)

select * from latest
