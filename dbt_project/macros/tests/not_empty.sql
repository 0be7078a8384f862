{#- A model that must have rows: an empty mart is a broken load, not a quiet quarter. -#}
{% test not_empty(model) %}
select 1 as missing_rows
where not exists (select 1 from {{ model }})
{% endtest %}
