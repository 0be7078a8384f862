-- One row per company: what the sources say about it, and its stated annual revenue by
-- segment for the latest year in which any is stated (whole-segment figures only).
with companies as (

    select * from {{ ref('lookup_companies') }}

),

figures as (

    select * from {{ ref('int_figures_latest') }}

),

lines as (

    select * from {{ ref('company_segments') }}

),

coverage as (

    select
        company_id,
        count(*) as n_figures,
        count(distinct source_id) as n_sources,
        count(distinct segment_id) as n_segments_covered,
        string_agg(distinct segment_id, ', ' order by segment_id) as segments_covered,
        max(source_publication_date) as latest_source_date,
        count(*) filter (where has_translation_discrepancy) as n_translation_discrepancies

    from figures
    group by company_id

),

annual as (

    select *
    from lines
    where scope = 'segment' and period_type = 'year' and revenue_cny_bn is not null

),

latest_year as (

    select company_id, max(period_label) as revenue_year
    from annual
    group by company_id

),

by_segment as (

    select
        annual.company_id,
        latest_year.revenue_year,
        {% for segment in ['games', 'video', 'ecommerce', 'hardware', 'advertising', 'overseas', 'ai'] -%}
        max(case when annual.segment_id = '{{ segment }}' then annual.revenue_cny_bn end)
            as {{ segment }}_revenue_cny_bn,
        {% endfor -%}
        string_agg(
            annual.segment_id || ' ' || cast(round(annual.revenue_cny_bn, 1) as varchar) || ' bn',
            '; ' order by annual.revenue_cny_bn desc
        ) as revenue_by_segment

    from annual
    inner join latest_year
        on annual.company_id = latest_year.company_id
        and annual.period_label = latest_year.revenue_year
    group by annual.company_id, latest_year.revenue_year

),

final as (

    select
        companies.company_id,
        companies.name_en as company_name_en,
        companies.name_zh as company_name_zh,
        companies.short_name_en,
        companies.tickers,
        companies.fiscal_year_end,
        coalesce(coverage.n_figures, 0) as n_figures,
        coalesce(coverage.n_sources, 0) as n_sources,
        coalesce(coverage.n_segments_covered, 0) as n_segments_covered,
        coverage.segments_covered,
        coverage.latest_source_date,
        coalesce(coverage.n_translation_discrepancies, 0) as n_translation_discrepancies,
        by_segment.revenue_year,
        by_segment.games_revenue_cny_bn,
        by_segment.video_revenue_cny_bn,
        by_segment.ecommerce_revenue_cny_bn,
        by_segment.hardware_revenue_cny_bn,
        by_segment.advertising_revenue_cny_bn,
        by_segment.overseas_revenue_cny_bn,
        by_segment.ai_revenue_cny_bn,
        by_segment.revenue_by_segment

    from companies
    left join coverage on companies.company_id = coverage.company_id
    left join by_segment on companies.company_id = by_segment.company_id

)

select * from final
