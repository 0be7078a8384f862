-- The metric dimension: what each metric measures, in English and Chinese, the unit its level
-- is stated in, and how many statements the sources make of it.
with metrics as (

    select * from {{ ref('lookup_metrics') }}

),

units as (

    select * from {{ ref('lookup_units') }}

),

figures as (

    select * from {{ ref('int_figures_joined') }}

),

usage as (

    select
        metric_id,
        count(*) as n_figures,
        count(distinct company_id) as n_companies

    from figures
    group by metric_id

),

final as (

    select
        metrics.metric_id,
        metrics.name_en as metric_name_en,
        metrics.name_zh as metric_name_zh,
        metrics.description as metric_description,
        metrics.unit_id,
        units.name_en as unit_name_en,
        units.name_zh as unit_name_zh,
        units.is_monetary,
        coalesce(usage.n_figures, 0) as n_figures,
        coalesce(usage.n_companies, 0) as n_companies

    from metrics
    inner join units on metrics.unit_id = units.unit_id
    left join usage on metrics.metric_id = usage.metric_id

)

select * from final
