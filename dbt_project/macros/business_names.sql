{#- How a business name is compared with the names of lookup_businesses and its aliases: case
    and spaces aside (AI 云服务 is AI云服务, "Marketing Services" is "Marketing services").
    orchestration/figures/dimensions.py (name_key) is the same rule, for make check-source. -#}
{% macro business_name_key(name) -%}
    lower(replace(replace(replace({{ name }}, ' ', ''), chr(12288), ''), chr(160), ''))
{%- endmacro %}

{#- The key of a business no line of lookup_businesses names: '' for a figure of the whole
    segment, whatever the source calls it (a company has one whole segment, so every such figure of
    it is the one provisional line company|segment|, as a listed whole-segment line would be), else
    the source's own name, or '(unnamed part)' for a part it does not name. -#}
{% macro provisional_business_key(business_en, business_zh, scope) -%}
    case
        when {{ scope }} = 'segment' then ''
        else coalesce({{ business_en }}, {{ business_zh }}, '(unnamed part)')
    end
{%- endmacro %}
