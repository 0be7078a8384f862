{#- How a business name is compared with the names of lookup_businesses and its aliases: case
    and spaces aside (AI 云服务 is AI云服务, "Marketing Services" is "Marketing services").
    orchestration/figures/dimensions.py (name_key) is the same rule, for make check-source. -#}
{% macro business_name_key(name) -%}
    lower(replace(replace(replace({{ name }}, ' ', ''), chr(12288), ''), chr(160), ''))
{%- endmacro %}
