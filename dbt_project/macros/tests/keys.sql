{#-
    The keys of a model, in one test: its primary key (a column or a list of columns: unique and
    never null), its other unique keys (a column, a list of columns, or {columns: [...],
    where: "..."} for a key among some rows), each reference to another model's key (a foreign
    key, as dbt's relationships test checks it), and, with not_empty, that the model has rows at
    all (an empty mart is a broken load, not a quiet quarter). On the marts this is the part of
    the contract that is tested rather than enforced: a primary key or unique constraint would
    build an index on every build, which costs more than this query (docs/warehouse.md).

    Result: one row per offending value, naming the rule, the column(s), the value ("(null)" for
    a null) and how many rows hold it. As dbt's unique test, a unique key of one column lets
    nulls through; in a key of several columns a null is a value like any other.

      - keys:
          arguments:
            primary_key: figure_id
            unique: [[company_id, period_label]]
            references: {company_id: companies.company_id}
            not_empty: true

    On a model built incrementally, `written` names the rows the latest build wrote:
    `business_lines` (the lines int_changed_business_lines lists), `derived_figures` (those and
    the derivations across lines), `figures` or `latest_build` (the rows of the latest built_at;
    macros/incremental.sql). Unless dbt runs with --full-refresh, each key is then checked among
    those rows and the rows that share a key value with them, and references from those rows:
    the rows a build did not write were checked by the build that wrote them, and what they
    reference did not change (docs/operations.md, "Incremental builds"). The written rows are
    read once (a materialized CTE): a key that holds the column `written` selects by
    (business_id, figure_id) is checked among them alone, since a row sharing such a key is
    written too; any other key, among the rows holding one of their values (nulls matching nulls
    in a key of several columns). A reference from them is looked up among the parent's rows
    holding one of their values. Each whole-table read this saves is costly at ten
    million figures (benchmarks/RESULTS.md).
-#}
{% test keys(model, primary_key=none, unique=[], references={}, not_empty=false, written=none) %}
{%- set parts = [] -%}
{#- rendered whatever the flags, so that dbt records the models the condition reads -#}
{%- set written_condition = written_rows_condition(written, model) -%}
{%- set written_rows = written_condition if not flags.FULL_REFRESH else none -%}
{%- set written_column = written_rows_column(written) -%}

{%- set model_alias = "checked" -%}
{%- set keys = [] -%}
{%- if primary_key is not none -%}
    {%- set columns = [primary_key] if primary_key is string else primary_key -%}
    {%- do keys.append({"rule": "primary_key", "columns": columns, "where": none}) -%}
{%- endif -%}
{%- for key in unique -%}
    {%- if key is mapping -%}
        {%- do keys.append({"rule": "unique", "columns": key["columns"], "where": key.get("where")}) -%}
    {%- else -%}
        {%- do keys.append({"rule": "unique", "columns": [key] if key is string else key, "where": none}) -%}
    {%- endif -%}
{%- endfor -%}

{%- for key in keys -%}
    {%- set source = model -%}
    {%- set values, nulls = [], [] -%}
    {%- for column in key.columns -%}
        {%- do values.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '(null)')") -%}
        {%- do nulls.append(column ~ " is null") -%}
    {%- endfor -%}
    {%- set conditions = [] -%}
    {%- if key.rule == "unique" and key.columns | length == 1 -%}
        {%- do conditions.append(key.columns[0] ~ " is not null") -%}
    {%- endif -%}
    {%- if key.where -%}
        {%- do conditions.append("(" ~ key.where ~ ")") -%}
    {%- endif -%}
    {%- set null_part = none -%}
    {%- if written_rows and written_column in key.columns -%}
        {%- set source = "written_rows" -%}
    {%- elif written_rows and key.columns | length == 1 -%}
        {#- a null is no value of `in`: a primary key's nulls among the written rows apart -#}
        {%- do conditions.append(key.columns[0] ~ " in (select " ~ key.columns[0] ~ " from written_rows)") -%}
        {%- if key.rule == "primary_key" -%}
            {%- set null_part -%}
select '{{ key.rule }}' as rule, '{{ key.columns[0] }}' as column_name, '(null)' as value, count(*) as n_rows
from written_rows
where {{ key.columns[0] }} is null
having count(*) > 0
            {%- endset -%}
        {%- endif -%}
    {%- elif written_rows -%}
        {#- the rows holding a written row's value of the key, nulls matching nulls: the written
            rows themselves among them, without an `or` that reads the whole table twice -#}
        {%- set matches = [] -%}
        {%- for column in key.columns -%}
            {%- do matches.append("w." ~ column ~ " is not distinct from " ~ model_alias ~ "." ~ column) -%}
        {%- endfor -%}
        {%- do conditions.append(
            "exists (select 1 from written_rows as w where " ~ matches | join(" and ") ~ ")"
        ) -%}
    {%- endif -%}
    {%- set part -%}
select
    '{{ key.rule }}' as rule,
    '{{ key.columns | join(", ") }}' as column_name,
    {{ values | join(" || ' | ' || ") }} as value,
    count(*) as n_rows
from {{ source }} as {{ model_alias }}
{%- if conditions %}
where {{ conditions | join(" and ") }}
{%- endif %}
group by {{ key.columns | join(", ") }}
having count(*) > 1
    {%- if key.rule == "primary_key" %} or {{ nulls | join(" or ") }}{% endif %}
    {%- endset -%}
    {%- do parts.append(part) -%}
    {%- if null_part -%}
        {%- do parts.append(null_part) -%}
    {%- endif -%}
{%- endfor -%}

{%- for column, target in references.items() -%}
    {%- set target_model, target_column = target.split(".") -%}
    {%- set part -%}
select
    'references {{ target }}' as rule,
    '{{ column }}' as column_name,
    cast(child.{{ column }} as {{ dbt.type_string() }}) as value,
    count(*) as n_rows
from {{ "written_rows" if written_rows else model }} as child
where child.{{ column }} is not null
    {#- not in rather than not exists: DuckDB builds its hash table on the parent, millions
        of rows for businesses, where not in reads the parent's column once (several times
        faster at ten million figures, benchmarks/RESULTS.md). Both sides are not null, so the
        two mean the same. From the written rows, only the parent's values among theirs are
        hashed: a few, not millions. #}
    and child.{{ column }} not in (
        select parent.{{ target_column }} from {{ ref(target_model) }} as parent
        where parent.{{ target_column }}
        {%- if written_rows %} in (select {{ column }} from written_rows)
        {%- else %} is not null{% endif %}
    )
group by child.{{ column }}
    {%- endset -%}
    {%- do parts.append(part) -%}
{%- endfor -%}

{%- if not_empty -%}
    {%- set part -%}
select
    'not_empty' as rule,
    cast(null as {{ dbt.type_string() }}) as column_name,
    cast(null as {{ dbt.type_string() }}) as value,
    0 as n_rows
where not exists (select 1 from {{ model }})
    {%- endset -%}
    {%- do parts.append(part) -%}
{%- endif %}

{%- if written_rows %}
{#- only the columns the checks read: a build may write every row (a contract changed), and
    whole rows of ten million figures would not fit in memory -#}
{%- set needed = [] -%}
{%- for key in keys -%}
    {%- for column in key.columns if column not in needed -%}{%- do needed.append(column) -%}{%- endfor -%}
{%- endfor -%}
{%- for column in references if column not in needed -%}{%- do needed.append(column) -%}{%- endfor -%}
{%- set any_where = keys | selectattr("where") | list | length > 0 -%}
with written_rows as materialized (
    select {{ "*" if any_where or not needed else needed | join(", ") }}
    from {{ model }} where {{ written_rows }}
)
{%- endif %}
{{ parts | join("\nunion all\n") }}
{% endtest %}
