-- Every name a source may give a business line, one row each: its English and Chinese names
-- (lookup_businesses) and the other names sources use (lookup_business_aliases), compared case
-- and spaces aside. A name names one line of a company (tested), so a figure joins one line.
with businesses as (

    select * from {{ ref('lookup_businesses') }}

),

aliases as (

    select * from {{ ref('lookup_business_aliases') }}

),

names as (

    select business_id, company_id, business_name_en as business_name from businesses
    union all
    select business_id, company_id, business_name_zh as business_name from businesses
    union all
    select aliases.business_id, businesses.company_id, aliases.alias as business_name
    from aliases
    inner join businesses on aliases.business_id = businesses.business_id

),

final as (

    select distinct
        company_id,
        {{ business_name_key('business_name') }} as business_name_key,
        business_id

    from names
    where business_name is not null

)

select * from final
