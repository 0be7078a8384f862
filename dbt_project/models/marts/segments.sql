-- One row per segment: who the sources cover, and the ranking in the segment's headline period
-- (the period in which the most companies state whole-segment revenue; ties: the latest).
with segments as (

    select * from {{ ref('lookup_segments') }}

),

figures as (

    select * from {{ ref('int_figures_latest') }}

),

rankings as (

    select * from {{ ref('segment_rankings') }}

),

companies as (

    select * from {{ ref('lookup_companies') }}

),

coverage as (

    select
        segment_id,
        count(distinct company_id) as n_companies_covered,
        count(*) as n_figures,
        string_agg(distinct company_id, ', ' order by company_id) as companies_covered

    from figures
    group by segment_id

),

periods as (

    select
        segment_id,
        period_label,
        row_number() over (
            partition by segment_id
            order by max(n_companies_ranked) desc, max(period_end_date) desc,
                min(period_start_date) asc
        ) as period_preference

    from rankings
    group by segment_id, period_label

),

headline as (

    select rankings.*
    from rankings
    inner join periods
        on rankings.segment_id = periods.segment_id
        and rankings.period_label = periods.period_label
    where periods.period_preference = 1

),

summary as (

    select
        headline.segment_id,
        max(headline.period_label) as headline_period_label,
        count(*) as n_companies_ranked,
        sum(headline.revenue_cny_bn) as covered_revenue_cny_bn,
        max(case when headline.revenue_rank = 1 then headline.company_id end) as leader_company_id,
        max(case when headline.revenue_rank = 1 then headline.revenue_cny_bn end)
            as leader_revenue_cny_bn,
        max(case when headline.revenue_rank = 1 then headline.revenue_yoy_growth_pct end)
            as leader_revenue_yoy_growth_pct,
        max(case when headline.revenue_rank = 1 then headline.share_of_covered_revenue_pct end)
            as leader_share_of_covered_revenue_pct,
        max(case when headline.growth_rank = 1 then headline.company_id end)
            as fastest_growing_company_id,
        max(case when headline.growth_rank = 1 then headline.revenue_yoy_growth_pct end)
            as fastest_revenue_yoy_growth_pct,
        string_agg(
            companies.short_name_en || ' ' || cast(round(headline.revenue_cny_bn, 1) as varchar)
            || coalesce(
                ' (' || case when headline.revenue_yoy_growth_pct >= 0 then '+' else '' end
                || cast(headline.revenue_yoy_growth_pct as varchar) || '%)', ''
            ),
            ' > ' order by headline.revenue_rank, headline.company_id
        ) as revenue_ranking

    from headline
    inner join companies on headline.company_id = companies.company_id
    group by headline.segment_id

),

final as (

    select
        segments.segment_id,
        segments.name_en as segment_name_en,
        segments.name_zh as segment_name_zh,
        segments.sort_order,
        coalesce(coverage.n_companies_covered, 0) as n_companies_covered,
        coalesce(coverage.n_figures, 0) as n_figures,
        coverage.companies_covered,
        summary.headline_period_label,
        coalesce(summary.n_companies_ranked, 0) as n_companies_ranked,
        summary.covered_revenue_cny_bn,
        summary.leader_company_id,
        summary.leader_revenue_cny_bn,
        summary.leader_revenue_yoy_growth_pct,
        summary.leader_share_of_covered_revenue_pct,
        summary.fastest_growing_company_id,
        summary.fastest_revenue_yoy_growth_pct,
        summary.revenue_ranking

    from segments
    left join coverage on segments.segment_id = coverage.segment_id
    left join summary on segments.segment_id = summary.segment_id

)

select * from final
