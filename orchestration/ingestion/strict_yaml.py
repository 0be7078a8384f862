"""source.yaml as plain data: a mapping of scalars and lists, nothing YAML can do beyond that.

source.yaml is contributed input (docs/security.md). Full YAML lets a kilobyte grow into
gigabytes (anchors and aliases, each alias repeating a node that holds aliases), hides a typo
(a repeated key silently keeps its last value) and builds more than strings (tags such as
!!binary or !!python/..., dates that crash the reader when they do not exist: 2025-02-30).
So, before anything is built, the file is read as a stream of events by libyaml (the C
parser, fast: every folder is read at each load and each tick of the raw/ sensor) and refused
at the first anchor, alias or explicit tag, with its line; then it is built by SafeLoader's
C twin with two changes: a repeated key is an error, and no value is turned into a date (a
date is a string the contract checks as YYYY-MM-DD).
"""

from __future__ import annotations

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


class StrictError(yaml.YAMLError):
    """What YAML feature a file uses that the contract does not allow, and where."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class StrictLoader(_BASE):  # type: ignore[misc, valid-type]
    """SafeLoader (C when PyYAML has libyaml) without dates, refusing repeated keys."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in _BASE.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node, deep=False):  # noqa: ANN001, ANN201 (PyYAML's signature)
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                raise ConstructorError(
                    None, None, "merge keys (<<) are not allowed", key_node.start_mark
                )
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                raise ConstructorError(
                    None,
                    None,
                    f"the key {key!r} appears twice (first at line {seen[key]}): keep one",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _refuse_features(text: str) -> None:
    for event in yaml.parse(text, Loader=_BASE):
        if isinstance(event, AliasEvent):
            raise StrictError(
                f"an alias (*{event.anchor}) is not allowed: write the value out",
                event.start_mark,
            )
        if isinstance(event, ScalarEvent | CollectionStartEvent):
            if event.anchor is not None:
                raise StrictError(
                    f"an anchor (&{event.anchor}) is not allowed: write the values out",
                    event.start_mark,
                )
            if event.tag is not None:
                raise StrictError(
                    f"a tag ({event.tag}) is not allowed: write plain values", event.start_mark
                )


def load(text: str) -> object:
    """The document, built only when it uses no anchor, alias or tag; yaml.YAMLError if not.

    A value YAML cannot build (a number too large, a malformed escape) is a YAMLError too, so
    that every problem of the file is reported as one, with its line when YAML gives one.
    """
    _refuse_features(text)
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise StrictError(str(error), None) from error
