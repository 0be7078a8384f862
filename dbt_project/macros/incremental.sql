{#-
    The post-hooks of the models built incrementally by source (int_figures_joined, figures):
    after the rows of new source versions are written, the rows that no longer exist go. Run
    only on an incremental build; a full refresh has nothing to delete.
-#}

{#- Rows of source versions (source_id, loaded_at) the staged figures no longer hold: a source
    removed, or the earlier load of a source loaded again. -#}
{% macro delete_gone_versions(model, staged) %}
delete from {{ model }} as built
where not exists (
    select 1
    from (select distinct source_id, loaded_at from {{ staged }}) as versions
    where versions.source_id = built.source_id and versions.loaded_at = built.loaded_at
)
{% endmacro %}

{#- Figures `joined` (int_figures_joined) no longer holds. Only two kinds can be gone: those of a
    source that has no figure left (removed, or every row rejected), and those of a source that
    was loaded again, whose new rows are all in joined's latest batch (built_at); so only the
    rows of those sources are looked up, not every figure. -#}
{% macro delete_gone_figures(model, joined) %}
{%- set reloaded -%}
    select distinct source_id from {{ joined }}
    where built_at = (select max(built_at) from {{ joined }})
{%- endset %}
delete from {{ model }} as kept
where kept.source_id not in (select distinct source_id from {{ joined }})
    or (
        kept.source_id in ({{ reloaded }})
        and not exists (
            select 1 from {{ joined }} as current_figures
            where current_figures.source_id in ({{ reloaded }})
                and current_figures.figure_id = kept.figure_id
                and current_figures.source_id = kept.source_id
        )
    )
{% endmacro %}
