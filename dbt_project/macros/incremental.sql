{#-
    The post-hooks of the models built incrementally by source (int_figures_joined, figures):
    after the rows of new source versions are written, the rows that no longer exist go. Run
    only on an incremental build; a full refresh has nothing to delete.
-#}

{#- Rows of source versions (source_id, loaded_at) the staged figures no longer hold: a source
    removed, or the earlier load of a source loaded again. -#}
{% macro delete_gone_versions(model, staged) %}
delete from {{ model }} as built
where {{ is_gone_version('built', staged) }}
{% endmacro %}

{#- Whether the row `built` belongs to a source version the staged figures no longer hold. -#}
{% macro is_gone_version(built, staged) -%}
not exists (
    select 1
    from (select distinct source_id, loaded_at from {{ staged }}) as versions
    where versions.source_id = {{ built }}.source_id and versions.loaded_at = {{ built }}.loaded_at
)
{%- endmacro %}

{#- Figures `joined` (int_figures_joined) no longer holds. Only two kinds can be gone: those of a
    source that has no figure left (removed, or every row rejected), and those of a source that
    was loaded again, whose new rows joined wrote in this dbt invocation (built_at); so only the
    rows of those sources are looked up, not every figure. This invocation's rows, not the
    latest batch: a build that wrote none (a source removed that alone stated its facts) would
    otherwise take the batch before it, after a full refresh every figure. -#}
{% macro delete_gone_figures(model, joined) %}
{%- set reloaded -%}
    select distinct source_id from {{ joined }}
    where built_at = {{ this_build_started_at() }}
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

{#- When this dbt invocation started: the built_at of every row it writes. -#}
{% macro this_build_started_at() -%}
cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- The business lines an incremental build changed (int_changed_business_lines). -#}
{% macro changed_business_lines(changed) -%}
(select business_id from {{ changed }} where built_at = {{ this_build_started_at() }})
{%- endmacro %}

{#- The rows of a table (not a view) that belong to the business lines an incremental build
    changed, as a subquery. Their business_id is scanned first and their other columns are read
    by row id for those rows alone: a filter on a few lines of ten million rows otherwise reads
    every column of every row (benchmarks/RESULTS.md). -#}
{% macro rows_of_changed_lines(relation, changed) -%}
(select * from {{ relation }} where rowid in (
    select rowid from {{ relation }} where business_id in {{ changed_business_lines(changed) }}
))
{%- endmacro %}

{#- int_figures_latest's rule: the statement of a fact that wins (int_figures_joined ranks them). -#}
{% macro is_latest_statement() -%}
statement_rank = 1
{%- endmacro %}

{#- The rows of int_figures_latest (a view, which has no row ids) of the lines an incremental
    build changed, read from int_figures_joined by row id. -#}
{% macro latest_figures_of_changed_lines(joined, changed) -%}
(select * from {{ rows_of_changed_lines(joined, changed) }} where {{ is_latest_statement() }})
{%- endmacro %}

{#- int_figures_joined's pre-hook: before its rows of gone versions are replaced or deleted, the
    business lines they belong to are noted as changed by this build (int_changed_business_lines
    adds the lines of the rows the build writes). A line can lose rows and gain none: a source
    removed that alone stated some of its periods. -#}
{% macro record_gone_business_lines(model, staged) %}
{%- set changed = api.Relation.create(
    database=model.database, schema=model.schema, identifier='int_changed_business_lines'
) -%}
create table if not exists {{ changed }} (business_id varchar, built_at timestamp);
insert into {{ changed }}
select distinct built.business_id, {{ this_build_started_at() }}
from {{ model }} as built
where {{ is_gone_version('built', staged) }}
{% endmacro %}

{#- The pre-hook of a mart built incrementally by business line: its rows of the lines this build
    changed go, and the model's query writes them again from the lines' current figures.
    `also`: a condition for more rows to replace (derived_figures: those computed across lines). -#}
{% macro delete_changed_business_lines(model, changed, also=none) %}
delete from {{ model }}
where business_id in {{ changed_business_lines(changed) }}
{%- if also %} or ({{ also }}){% endif %}
{% endmacro %}

{#- The rows of a mart built by business line that the latest build wrote (the keys test's
    `written`). -#}
{% macro written_business_lines() -%}
business_id in (
    select business_id from {{ ref('int_changed_business_lines') }}
    where built_at = (select max(built_at) from {{ ref('int_changed_business_lines') }})
)
{%- endmacro %}

{#- The rows of marts.derived_figures that the latest build wrote (the keys test's `written`):
    those of the changed lines, and those computed across lines, which every build writes. -#}
{% macro written_derived_figures() -%}
({{ written_business_lines() }} or derivation in (
    {%- for derivation in var('derivations_across_lines') -%}
    {{ sql_literal(derivation) }}{% if not loop.last %}, {% endif %}
    {%- endfor -%}
))
{%- endmacro %}

{#- The rows of marts.figures (or of int_figures_joined, or a model of its rows) that the latest
    build wrote (the keys test's `written`). -#}
{% macro written_figures() -%}
figure_id in (
    select figure_id from {{ ref('int_figures_joined') }}
    where built_at = (select max(built_at) from {{ ref('int_figures_joined') }})
)
{%- endmacro %}

{#- The rows of a model with a built_at (int_figures_joined, or a view of its rows) that the
    latest build wrote (the keys test's `written: latest_build`): found from that column alone,
    which a build's rows, appended together, keep apart in the file. -#}
{% macro written_in_latest_build(model) -%}
built_at = (select max(built_at) from {{ model }})
{%- endmacro %}

{#- The staged figures of source versions (source_id, loaded_at) that int_figures_joined does
    not hold yet (the keys and column_values tests' `written: staged`): the staging tests run
    before int_figures_joined is built, which, in an incremental build, holds the versions of the
    last complete build, whose staging tests passed (orchestration/build_state.py). A version's
    rows never change (a source loaded again is a new version), nor what they reference (a seed
    changed is a project changed: a full refresh). int_figures_joined is named, not ref'd: a
    ref would make the tests wait for it. Every row when it does not exist. -#}
{% macro written_staged_figures(model) -%}
    {%- set built = adapter.get_relation(
        database=target.database, schema='intermediate', identifier='int_figures_joined') if execute else none -%}
    {%- if built is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(
        "(source_id, loaded_at) in (select distinct source_id, loaded_at from " ~ model
        ~ " except select distinct source_id, loaded_at from " ~ built ~ ")"
    ) }}
{%- endmacro %}

{#- The column a test's `written` selects rows by, when it selects them by one of their own
    columns (a key holding it is checked among the written rows alone: macros/tests/keys.sql). -#}
{% macro written_rows_column(written) -%}
    {{ return({"business_lines": "business_id", "derived_figures": "business_id",
               "figures": "figure_id"}.get(written)) }}
{%- endmacro %}

{#- The condition of a test's `written` (business_lines, derived_figures, figures, latest_build,
    staged; none: every row). Rendered whatever the flags, so that dbt records the models the
    condition reads. -#}
{% macro written_rows_condition(written, model=none) -%}
    {%- if written == "staged" -%}
        {{ return(written_staged_figures(model)) }}
    {%- elif written == "business_lines" -%}
        {{ return(written_business_lines()) }}
    {%- elif written == "derived_figures" -%}
        {{ return(written_derived_figures()) }}
    {%- elif written == "figures" -%}
        {{ return(written_figures()) }}
    {%- elif written == "latest_build" -%}
        {{ return(written_in_latest_build(model)) }}
    {%- elif written -%}
        {{ exceptions.raise_compiler_error(
            "written is business_lines, derived_figures, figures, latest_build or staged, not "
            ~ written) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- int_figures_joined's incremental build: DuckDB estimates the facts a new source touches as
    many as the built rows, and then builds its hash table on the ten million built rows
    (spilling to disk) rather than on the hundred touched facts: several times slower than with
    the sides as written (benchmarks/RESULTS.md). Set for that
    model's statements only: its post-hook sets DuckDB's choice back (should the model fail
    before it, the setting ends with the dbt invocation's connection). -#}
{% macro join_sides_as_written() -%}
set disabled_optimizers = 'build_side_probe_side'
{%- endmacro %}

{% macro join_sides_chosen_by_duckdb() -%}
reset disabled_optimizers
{%- endmacro %}
