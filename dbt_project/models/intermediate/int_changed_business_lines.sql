-- The business lines each dbt build changed, with its built_at: the lines of the figures it wrote
-- to int_figures_joined, and (written by that model's pre-hook) the lines of the figures it
-- replaced or deleted. The marts built by business line (business_series, company_segments,
-- businesses, derived_figures) write again only the rows of the lines the current build changed,
-- and the published copy those of every build since the previous copy
-- (orchestration/published_copy.py). A full refresh lists every line once.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
with written as (

    select distinct business_id
    from {{ ref('int_figures_joined') }}
    where built_at = {{ this_build_started_at() }}

),

{% if is_incremental() %}

gone as (

    -- noted by int_figures_joined's pre-hook before it replaced or deleted them
    select business_id from {{ this }}
    where built_at = {{ this_build_started_at() }}

),

new_lines as (

    select business_id from written
    except
    select business_id from gone

),

{% else %}

new_lines as (

    select business_id from written

),

{% endif %}

final as (

    select business_id, {{ this_build_started_at() }} as built_at
    from new_lines

)

select * from final
