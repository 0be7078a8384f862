{#-
    Row rules for a model without an enforced contract (the staging and intermediate views, the
    seeds): what the marts state as not_null and check constraints, checked in one test and one
    scan instead of one test per column (each dbt node costs a build far more than its query).
    A rule holds as a check constraint does: a row breaks it only where the expression is false,
    so accepted_values and checks let nulls through (not_null is the rule that stops them).

    Result: one row per broken rule, naming the column, the rule, how many rows break it and the
    smallest offending value.

      - column_values:
          arguments:
            not_null: [figure_id, source_id]
            accepted_values: {scope: [segment, unit]}
            checks: {value: "value >= 0"}     # column: a boolean SQL expression

    `written` (as in the keys test, macros/incremental.sql): on a model built incrementally,
    unless dbt runs with --full-refresh, only the rows the latest build wrote are checked; a row
    keeps the values it was checked with.
-#}
{% test column_values(model, not_null=[], accepted_values={}, checks={}, written=none) %}
{%- set written_condition = written_rows_condition(written, model) -%}
{%- set rules = [] -%}
{%- for column in not_null -%}
    {%- do rules.append({"column": column, "rule": "not_null", "sql": column ~ " is not null"}) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- do literals.append(sql_literal(value)) -%}
    {%- endfor -%}
    {%- do rules.append({
        "column": column,
        "rule": "accepted_values: " ~ values | join(", "),
        "sql": column ~ " in (" ~ literals | join(", ") ~ ")",
    }) -%}
{%- endfor -%}
{%- for column, sql in checks.items() -%}
    {%- do rules.append({"column": column, "rule": "check: " ~ sql, "sql": sql}) -%}
{%- endfor -%}

with broken as (

    select
        {%- for rule in rules %}
        count(*) filter (where not coalesce({{ rule.sql }}, true)) as n_rows_{{ loop.index }},
        min(cast({{ rule.column }} as {{ dbt.type_string() }}))
            filter (where not coalesce({{ rule.sql }}, true)) as example_{{ loop.index }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from {{ model }}
    {%- if written_condition and not flags.FULL_REFRESH %}
    where {{ written_condition }}
    {%- endif %}

)

{% for rule in rules -%}
select
    '{{ rule.column }}' as column_name,
    {{ sql_literal(rule.rule) }} as rule,
    n_rows_{{ loop.index }} as n_rows,
    example_{{ loop.index }} as example_value
from broken
where n_rows_{{ loop.index }} > 0
{% if not loop.last %}union all
{% endif %}
{%- endfor %}
{% endtest %}


{#- A value as a SQL literal: strings quoted (quotes doubled), booleans and numbers as they are. -#}
{% macro sql_literal(value) -%}
    {%- if value is string -%}
        '{{ value | replace("'", "''") }}'
    {%- elif value is sameas true or value is sameas false -%}
        {{ value | string | lower }}
    {%- else -%}
        {{ value }}
    {%- endif -%}
{%- endmacro %}
