-- The period dimension: every period a figure is stated for, with its dates and readable names
-- in English and Chinese. Date arithmetic and extract() as DuckDB writes them.
with figures as (

    select * from {{ ref('int_figures_joined') }}

),

periods as (

    select
        period_label,
        max(period_type) as period_type,
        min(period_start_date) as period_start_date,
        max(period_end_date) as period_end_date,
        count(*) as n_figures

    from figures
    group by period_label

),

parts as (

    select
        *,
        cast(extract(year from period_start_date) as varchar) as start_year,
        cast(extract(month from period_start_date) as varchar) as start_month,
        cast(extract(day from period_start_date) as varchar) as start_day,
        cast(extract(year from period_end_date) as varchar) as end_year,
        cast(extract(month from period_end_date) as varchar) as end_month,
        cast(extract(day from period_end_date) as varchar) as end_day,
        cast(extract(quarter from period_start_date) as varchar) as start_quarter

    from periods

),

final as (

    select
        period_label,
        period_type,
        period_start_date,
        period_end_date,
        cast(extract(year from period_end_date) as integer) as calendar_year,
        -- DuckDB: date - date is a whole number of days
        cast(period_end_date - period_start_date + 1 as integer) as n_days,
        case period_type
            when 'year' then start_year
            when 'quarter' then 'Q' || start_quarter || ' ' || start_year
            when 'month' then start_year || '-' || lpad(start_month, 2, '0')
            when 'day' then end_year || '-' || lpad(end_month, 2, '0') || '-' || lpad(end_day, 2, '0')
            else start_year || '-' || lpad(start_month, 2, '0') || '-' || lpad(start_day, 2, '0')
                || ' to ' || end_year || '-' || lpad(end_month, 2, '0') || '-'
                || lpad(end_day, 2, '0')
        end as period_name_en,
        case period_type
            when 'year' then start_year || '年'
            when 'quarter' then start_year || '年第' || start_quarter || '季度'
            when 'month' then start_year || '年' || start_month || '月'
            when 'day' then end_year || '年' || end_month || '月' || end_day || '日'
            else start_year || '年' || start_month || '月' || start_day || '日至'
                || end_year || '年' || end_month || '月' || end_day || '日'
        end as period_name_zh,
        n_figures

    from parts

)

select * from final
