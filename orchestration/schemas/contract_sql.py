"""The figures.csv contract as DuckDB SQL: every rule of `FigureSchema`, vectorised.

The pandera model in `figures.py` is the reference a reader should study; this module states
the same rules as SQL so that the loader checks ten million rows in DuckDB instead of in
Python. Each rule is a condition (cheap, run on every row, once: `flags`) and a message (built
only for the rows that fail, and written into the query only for the rules some row breaks:
`problems`), worded as `validation.py` words pandera's failures, so a curator reads the same
sentence whichever path caught the row. The provenance rule (the quote states the value) is
confirmed here for the common forms (1977亿, 80万, 24.3%, 197.7 billion); a quote SQL cannot
confirm goes to `numbers.supporting_mention` in Python, which decides.

The SQL reads a relation whose figure columns are VARCHAR, trimmed, with '' as NULL, plus `v`
(value as DOUBLE), `start_day` and `end_day` (DATE) and `duplicate_in_source` (BOOLEAN). `v`,
`start_day` and `end_day` are typed only from text of the contract's format (`typed_from_text`):
DuckDB alone would read `1397_0000_0000`, `nan` or `2024/01/01`.
"""

from __future__ import annotations

from orchestration.figures.messages import period_mismatch_sql
from orchestration.limits import CONTROL_PATTERN, MAX_FIELD_CHARS
from orchestration.schemas.figures import (
    COLUMNS,
    DATE_PATTERN,
    DECIMAL_PATTERN,
    DISCREPANCIES,
    FREE_TEXT_COLUMNS,
    GROWTH_MEASURES,
    ID_PATTERN,
    PERCENT_MAX,
    PERCENT_MIN,
    PERIOD_PATTERN,
    QUALIFIERS,
    REF,
    REQUIRED_COLUMNS,
    SCOPES,
    SHARE_MEASURES,
)
from orchestration.schemas.validation import NOT_A_DATE, NOT_A_NUMBER, SEED_OF_COLUMN

# The value as the curator wrote it, or as DuckDB reads it back once typed (197700000000).
VALUE_TEXT = "coalesce(value, num_text(v))"
TYPED_OF = {"value": "v", "period_start": "start_day", "period_end": "end_day"}

# Columns typed from their text (`typed_from_text`); every other column is a field of text,
# with the length limit of orchestration/limits.py, and the free text (FREE_TEXT_COLUMNS, as in
# the pandera model) may hold no control character: in a key or an id one fails its own rule.
TYPED_COLUMNS = {"value": "double", "period_start": "date", "period_end": "date"}
TEXT_COLUMNS = tuple(c for c in COLUMNS if c not in TYPED_COLUMNS)

# py_repr: Python's repr() of a string, as the messages of validation.py show values; control
# characters escaped as repr escapes them, so that no message carries one into a log.
MACROS = r"""
create or replace temp macro py_controls(s) as
    case when regexp_matches(s, '[\x00-\x1f\x7f-\x9f]') then array_to_string(list_transform(
        string_split(s, ''), lambda c: case
            when c = chr(9) then '\t' when c = chr(10) then '\n' when c = chr(13) then '\r'
            when unicode(c) < 32 or unicode(c) between 127 and 159
                then '\x' || lower(printf('%02X', unicode(c)))
            else c end), '')
    else s end;
create or replace temp macro py_repr(s) as
    case when contains(s, '''') and not contains(s, '"')
         then '"' || py_controls(replace(s, '\', '\\')) || '"'
         else '''' || py_controls(replace(replace(s, '\', '\\'), '''', '\''')) || '''' end;
create or replace temp macro num_text(x) as
    case when x = trunc(x) and x < 1e15 then cast(cast(x as bigint) as varchar)
         else cast(x as varchar) end;
"""


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def typed_from_text(column: str) -> str:
    """SQL: a typed column from its text, NULL unless the text has the contract's format."""
    pattern = DECIMAL_PATTERN if column == "value" else DATE_PATTERN
    return (
        f"case when regexp_full_match({column}, {literal(pattern)}) "
        f"then try_cast({column} as {TYPED_COLUMNS[column]}) end"
    )


def _in_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


class ColumnSql(str):
    """The column at fault of a rule, computed in SQL for the rows that break it."""


# A rule: (SQL condition that is true when the row breaks it, column at fault, SQL message).
Rule = tuple[str, str | None, str]


def _isin(column: str, values: tuple[str, ...]) -> Rule:
    seed = SEED_OF_COLUMN.get(column)
    where = f" (add new keys to dbt_project/seeds/{seed})" if seed else ""
    suffix = literal(f" is not one of the allowed values {tuple(values)!r}{where}")
    return (
        f"{column} not in {_in_list(values)}",
        column,
        f"'{column} ' || py_repr({column}) || {suffix}",
    )


def _format(column: str, pattern: str) -> Rule:
    return (
        f"not regexp_full_match({column}, {literal(pattern)})",
        column,
        f"'{column} ' || py_repr({column}) || "
        + literal(f" has the wrong format (expected {pattern!r})"),
    )


def column_rules(controls: bool = True) -> list[Rule]:
    """The rules pandera checks column by column (keys, formats, types, emptiness, ids).

    Without `controls`, the one rule that searches every row's free text is left out.
    """
    rules: list[Rule] = [
        ("figure_id is null", "figure_id", literal("figure_id is empty")),
        _format("figure_id", ID_PATTERN),
        (
            "duplicate_in_source",
            "figure_id",
            "'figure_id ' || py_repr(figure_id) || ' appears more than once'",
        ),
    ]
    keys = {
        "company": REF.companies,
        "scope": SCOPES,
        "segment": REF.segments,
        "metric": REF.metrics,
        "measure": REF.measures,
        "unit": REF.units,
        "qualifier": QUALIFIERS,
    }
    for column in REQUIRED_COLUMNS[1:]:
        empty = f"{column} is null"
        if column in TYPED_OF:  # a loaded row carries the typed column only
            empty += f" and {TYPED_OF[column]} is null"
        rules.append((empty, column, literal(f"{column} is empty")))
        if column in keys:
            rules.append(_isin(column, keys[column]))
        elif column == "period":
            rules.append(_format("period", PERIOD_PATTERN))
        elif column in ("period_start", "period_end"):
            day = "start_day" if column == "period_start" else "end_day"
            rules.append(
                (
                    f"{column} is not null and {day} is null",
                    column,
                    f"'{column} ' || py_repr({column}) || {literal(' ' + NOT_A_DATE)}",
                )
            )
        elif column == "value":
            rules.append(
                (
                    "value is not null and v is null",
                    "value",
                    f"'value ' || py_repr(value) || {literal(' ' + NOT_A_NUMBER)}",
                )
            )
    rules.append(_isin("translation_discrepancy", DISCREPANCIES))
    rules += [_length_rule(column) for column in TEXT_COLUMNS]
    return [*rules, _control_rule()] if controls else rules


def _length_rule(column: str) -> Rule:
    """A field of text no longer than the limit (limits.py's words). strlen (bytes, stored
    with the string) bounds length (characters), so only a long field is counted."""
    too_long = f" characters long, over the limit of {MAX_FIELD_CHARS:,} (raw/README.md): "
    return (
        f"strlen({column}) > {MAX_FIELD_CHARS} and length({column}) > {MAX_FIELD_CHARS}",
        column,
        f"'{column} is ' || length({column}) || {literal(too_long + 'shorten it')}",
    )


def _control_rule() -> Rule:
    """Free text without a control character: one search over a row's free text, which is
    what every row pays; which fields hold one is worked out only for the rows that do.

    One message per field that holds one, as pandera gives (limits.py's words).
    """
    control = literal(CONTROL_PATTERN)
    has = {c: f"regexp_matches({c}, {control})" for c in FREE_TEXT_COLUMNS}
    first = "case " + " ".join(f"when {has[c]} then {literal(c)}" for c in has) + " end"
    messages = ", ".join(
        f"case when {has[c]} then '{c} contains a control character (U+' || "
        f"printf('%04X', unicode(regexp_extract({c}, {control}))) || '): remove it' end"
        for c in has
    )
    return (
        f"regexp_matches(concat({', '.join(FREE_TEXT_COLUMNS)}), {control})",
        ColumnSql(first),
        f"array_to_string(list_filter([{messages}], lambda m: m is not null), '; ')",
    )


def _expected_unit() -> str:
    growth_or_share = _in_list(GROWTH_MEASURES + SHARE_MEASURES)
    metric_units = " ".join(
        f"when {literal(metric)} then {literal(unit)}" for metric, unit in REF.metric_units.items()
    )
    return (
        f"case when measure in {growth_or_share} then 'percent' when measure = 'rank' then 'rank' "
        f"else case metric {metric_units} end end"
    )


def _period_bounds() -> tuple[str, str]:
    """SQL: the first and last day a (well-formed) period label denotes; NULL when none."""
    year = "try_cast(left(period, 4) as integer)"
    month = "try_cast(substr(period, 6, 2) as integer)"
    quarter = "try_cast(substr(period, 6, 1) as integer)"
    start = (
        f"case length(period) when 4 then make_date({year}, 1, 1) "
        f"when 6 then make_date({year}, 3 * {quarter} - 2, 1) "
        f"when 7 then case when {month} between 1 and 12 then make_date({year}, {month}, 1) end "
        "when 10 then try_cast(period as date) "
        "when 21 then try_cast(left(period, 10) as date) end"
    )
    end = (
        f"case length(period) when 4 then make_date({year}, 12, 31) "
        f"when 6 then last_day(make_date({year}, 3 * {quarter}, 1)) "
        f"when 7 then case when {month} between 1 and 12 "
        f"then last_day(make_date({year}, {month}, 1)) end "
        "when 10 then try_cast(period as date) "
        "when 21 then try_cast(right(period, 10) as date) end"
    )
    return start, end


def row_rules() -> list[Rule]:
    """The rules pandera checks on whole rows, for rows whose columns are all valid."""
    start, end = _period_bounds()
    share = _in_list(SHARE_MEASURES)
    expected = _expected_unit()
    in_range = (
        f"(unit != 'percent' or v between {PERCENT_MIN} and {PERCENT_MAX})"
        f" and (measure not in {share} or v between 0 and 100)"
        " and (unit != 'rank' or (v >= 1 and v = round(v)))"
        " and (measure != 'level' or v >= 0)"
    )
    range_note = literal(
        f" (levels are >= 0, percents {PERCENT_MIN:g} to {PERCENT_MAX:g}, "
        "shares 0 to 100, ranks whole numbers >= 1)"
    )
    return [
        (
            "not isfinite(v)",
            None,
            f"'value ' || py_repr({VALUE_TEXT}) || ' is not a finite number'",
        ),
        (
            f"start_day is distinct from ({start}) or end_day is distinct from ({end})",
            None,
            period_mismatch_sql(start, end),
        ),
        (
            f"unit is distinct from ({expected})",
            None,
            "'unit ' || py_repr(unit) || ' does not fit metric ' || py_repr(metric) || "
            "' with measure ' || py_repr(measure) || ': expected ' || "
            f"coalesce(py_repr({expected}), 'None')",
        ),
        (
            f"isfinite(v) and not ({in_range})",
            None,
            f"'value ' || py_repr({VALUE_TEXT}) || ' is out of range for unit ' || "
            f"py_repr(unit) || ' and measure ' || py_repr(measure) || {range_note}",
        ),
    ]


def flags(rules: list[Rule], prefix: str, when: str | None = None) -> str:
    """SQL select items: one boolean column per rule (`<prefix>_<n>` for rule n), true when
    the row breaks it; NULL where `when` does not hold.

    Each condition is written once, here: the verdict (`passes`) and the messages (`problems`)
    read these columns. DuckDB binds a query in time proportional to its text, and the check
    runs on every load, most of them small: stating each rule once keeps that time short.
    """
    items = []
    for number, (condition, _, _) in enumerate(rules):
        flag = f"coalesce({condition}, false)"
        if when:
            flag = f"case when {when} then {flag} end"
        items.append(f"{flag} as {prefix}_{number}")
    return ", ".join(items)


def flag_columns(rules: list[Rule], prefix: str) -> list[str]:
    """The names of the columns `flags` gives the rules."""
    return [f"{prefix}_{number}" for number in range(len(rules))]


def passes(rules: list[Rule], prefix: str) -> str:
    """SQL: true when a row breaks none of the rules, from their `flags` columns."""
    return "not (" + " or ".join(flag_columns(rules, prefix)) + ")"


def problems(rules: list[Rule], prefix: str, broken: set[int] | None = None) -> str:
    """SQL: the list of {column_name, message} of the rules a row breaks, in rule order, from
    their `flags` columns.

    Only the rules in `broken` (some row breaks them; all when None) are written out: a
    message is the costly part of a rule to bind, and most loads break one rule or none.
    """
    items = []
    for number, (_, column, message) in enumerate(rules):
        if broken is not None and number not in broken:
            continue
        column_sql = (
            column if isinstance(column, ColumnSql) else literal(column) if column else "null"
        )
        items.append(
            f"case when {prefix}_{number} then "
            f"{{'column_name': {column_sql}, 'message': {message}}} end"
        )
    if not items:
        return "null"
    return "list_filter([" + ", ".join(items) + "], lambda p: p is not null)"


def quote_token(language: str) -> str:
    """SQL: the one way a quote most likely writes |v|, by unit and size (NULL: none tried).

    A Chinese token is `1977亿`, `80万` or `24.3%` (see `quote_text` for the spaces);
    an English one is `197.7 billion` (from 0.1 billion), `800 thousand` or `24.3%`. Ranks
    and words (翻倍, double-digit) are left to Python.
    """
    a = "abs(v)"
    if language == "zh":
        amount = (
            f"case when {a} >= 1e8 then num_text({a} / 1e8) || '亿' "
            f"when {a} >= 1e4 then num_text({a} / 1e4) || '万' end"
        )
    else:
        amount = (
            f"case when {a} >= 1e8 then num_text({a} / 1e9) || ' billion' "
            f"when {a} >= 1e5 then num_text({a} / 1e6) || ' million' "
            f"when {a} >= 1e3 then num_text({a} / 1e3) || ' thousand' end"
        )
    return (
        f"case when not isfinite(v) or {a} >= 1e15 then null "
        f"when unit = 'percent' then num_text({a}) || '%' when unit = 'rank' then null "
        f"else {amount} end"
    )


def quote_text(quote: str, language: str) -> str:
    """SQL: the quote as a token is looked up in it (Chinese: 1977 亿 as 1977亿, ％ as %)."""
    if language == "zh":
        text = f"replace({quote}, '％', '%')"
        for gap in (" 亿", " 万", " %"):
            text = f"replace({text}, '{gap}', '{gap[1]}')"
        return text
    return quote


# Where a token stood in the quote, by what may follow it: a marker character replaces the
# token, and one constant pattern (compiled once, run as a DFA) reads the neighbourhood.
_MARKERS = {"亿": 1, "万": 2, "word": 3, "%": 4}
_ALONE = {
    # before: no digit, letter, '.', ',' (11977, 0.5, 1,977 are other numbers in numbers.py)
    # 亿: no % after (a percent); 万: no % and no 亿 after (万亿); %: anything after
    "zh": r"(^|[^0-9A-Za-z.,_])(\x01([^%]|$)|\x02([^%亿]|$)|\x04)",
    # billion/million/thousand must end a word and not be followed by % or 'percent'
    "en": r"(^|[^0-9A-Za-z.,_])(\x03([^0-9A-Za-z_%\s]|\s+[^\s%pP]|\s*$)|\x04)",
}


def quote_confirmed(text: str, token: str, language: str) -> str:
    """SQL: the token stands in the text as a number of its own, as numbers.py would read it.

    False means "not confirmed here", never "wrong": the Python parser then decides.
    """
    marker = (
        f"chr(case when ends_with({token}, '%') then {_MARKERS['%']} "
        f"when ends_with({token}, '万') then {_MARKERS['万']} "
        f"when ends_with({token}, '亿') then {_MARKERS['亿']} else {_MARKERS['word']} end)"
    )
    marked = f"replace({text}, {token}, {marker})"
    return f"coalesce(regexp_matches({marked}, {literal(_ALONE[language])}), false)"
