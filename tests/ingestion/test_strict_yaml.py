"""source.yaml is read as plain data: what YAML could do beyond that is refused, with its line."""

import pytest
import yaml

from orchestration.ingestion import strict_yaml
from tests.conftest import SEED_SOURCE

SEED_YAML = (SEED_SOURCE / "source.yaml").read_text(encoding="utf-8")


def refusal(text: str) -> tuple[str, int | None]:
    with pytest.raises(yaml.YAMLError) as raised:
        strict_yaml.load(text)
    mark = getattr(raised.value, "problem_mark", None)
    return raised.value.problem, mark.line + 1 if mark else None


def test_the_seed_reads_as_before_but_its_date_stays_text():
    plain = yaml.safe_load(SEED_YAML)
    strict = strict_yaml.load(SEED_YAML)
    assert strict == {**plain, "publication_date": plain["publication_date"].isoformat()}


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ("a: &x 1\nb: *x\n", "an anchor (&x) is not allowed", 1),
        ("a: 1\nb: [*x]\n", "an alias (*x) is not allowed", 2),
        ("a: 1\nb: !!binary aGVsbG8=\n", "a tag (tag:yaml.org,2002:binary) is not allowed", 2),
        ("a: !!python/object:os.system ls\n", "a tag (tag:yaml.org,2002:python/object", 1),
        ("a: 1\nb: 2\na: 3\n", "the key 'a' appears twice (first at line 1): keep one", 3),
        ("<<: {a: 1}\n", "merge keys (<<) are not allowed", 1),
    ],
)
def test_what_plain_data_does_not_need_is_refused_with_its_line(text, words, line):
    problem, at = refusal(text)
    assert words in problem and at == line


def test_a_billion_laughs_is_refused_before_anything_is_built():
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    problem, line = refusal("\n".join(levels))
    assert problem == "an anchor (&a) is not allowed: write the values out" and line == 1


def test_a_date_that_does_not_exist_is_text_for_the_contract_to_refuse():
    # yaml.safe_load raises ValueError here, which no caller expected
    with pytest.raises(ValueError):
        yaml.safe_load("d: 2025-02-30")
    assert strict_yaml.load("d: 2025-02-30\nt: 2024-12-31 00:00:00") == {
        "d": "2025-02-30",
        "t": "2024-12-31 00:00:00",
    }
