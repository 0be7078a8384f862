{#- The formulas of derived figures, in one place: every model that derives a value calls these,
    so a mart column and a derived_figures row can never disagree on the arithmetic. -#}

{#- The value a year earlier that a value and its year-on-year growth (percent) imply. -#}
{% macro implied_prior_year_value(value, yoy_growth_pct) -%}
    ({{ value }} / (1 + {{ yoy_growth_pct }} / 100))
{%- endmacro %}

{#- The whole company's revenue that a business's revenue and its share (percent) imply. -#}
{% macro implied_company_revenue(revenue, share_of_company_revenue_pct) -%}
    (100 * {{ revenue }} / {{ share_of_company_revenue_pct }})
{%- endmacro %}

{#- The growth, in percent, from an earlier value of a series to a later one (a fall is negative):
    quarter on quarter and year on year, from two stated levels. -#}
{% macro growth_between(value, earlier_value) -%}
    (100 * ({{ value }} / {{ earlier_value }} - 1))
{%- endmacro %}

{#- The derivations of derived_figures computed across business lines, as a SQL list
    (dbt_project.yml, vars). -#}
{% macro derivations_across_lines() -%}
({% for derivation in var('derivations_across_lines') %}'{{ derivation }}'{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
