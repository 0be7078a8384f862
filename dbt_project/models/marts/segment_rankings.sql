-- Companies ranked within a segment and period by stated whole-segment revenue (scope
-- 'segment'), with their share of the covered companies' total. Ranks and shares are derived.
with lines as (

    select * from {{ ref('company_segments') }}
    where scope = 'segment' and revenue_cny_bn is not null

),

ranked as (

    select
        segment_id || '|' || period_label || '|' || company_id as segment_ranking_id,
        segment_id,
        period_label,
        period_type,
        period_start_date,
        period_end_date,
        company_id,
        business_key,
        business_id,
        business_en,
        revenue_cny_bn,
        revenue_yoy_growth_pct,
        revenue_figure_id,
        rank() over (
            partition by segment_id, period_label order by revenue_cny_bn desc
        ) as revenue_rank,
        count(*) over (partition by segment_id, period_label) as n_companies_ranked,
        100 * revenue_cny_bn / sum(revenue_cny_bn) over (partition by segment_id, period_label)
            as share_of_covered_revenue_pct,
        case when revenue_yoy_growth_pct is not null then
            rank() over (
                partition by segment_id, period_label, revenue_yoy_growth_pct is null
                order by revenue_yoy_growth_pct desc
            )
        end as growth_rank

    from lines

),

final as (

    select * from ranked

)

select * from final
