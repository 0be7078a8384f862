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
    the derivations across lines) or `figures` (macros/incremental.sql). Unless dbt runs
    with --full-refresh, each key is then checked among those rows and the rows that share a key
    value with them, and references from those rows: the rows a build did not write were checked
    by the build that wrote them, and what they reference did not change (docs/operations.md,
    "Incremental builds").
-#}
{% test keys(model, primary_key=none, unique=[], references={}, not_empty=false, written=none) %}
{%- set parts = [] -%}
{#- rendered whatever the flags, so that dbt records the models the condition reads -#}
{%- set written_condition = written_rows_condition(written) -%}
{%- set written_rows = written_condition if not flags.FULL_REFRESH else none -%}

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
    {%- if written_rows -%}
        {%- set columns = "(" ~ key.columns | join(", ") ~ ")" -%}
        {%- do conditions.append(
            "(" ~ written_rows ~ " or " ~ columns ~ " in (select " ~ key.columns | join(", ")
            ~ " from " ~ model ~ " where " ~ written_rows ~ "))"
        ) -%}
    {%- endif -%}
    {%- set part -%}
select
    '{{ key.rule }}' as rule,
    '{{ key.columns | join(", ") }}' as column_name,
    {{ values | join(" || ' | ' || ") }} as value,
    count(*) as n_rows
from {{ model }}
{%- if conditions %}
where {{ conditions | join(" and ") }}
{%- endif %}
group by {{ key.columns | join(", ") }}
having count(*) > 1
    {%- if key.rule == "primary_key" %} or {{ nulls | join(" or ") }}{% endif %}
    {%- endset -%}
    {%- do parts.append(part) -%}
{%- endfor -%}

{%- for column, target in references.items() -%}
    {%- set target_model, target_column = target.split(".") -%}
    {%- set part -%}
select
    'references {{ target }}' as rule,
    '{{ column }}' as column_name,
    cast(child.{{ column }} as {{ dbt.type_string() }}) as value,
    count(*) as n_rows
from {{ model }} as child
where child.{{ column }} is not null
    {%- if written_rows %}
    and {{ written_rows }}
    {%- endif %}
    and not exists (
        select 1 from {{ ref(target_model) }} as parent
        where parent.{{ target_column }} = child.{{ column }}
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

{{ parts | join("\nunion all\n") }}
{% endtest %}
