"""Quotes are checked against the source text when this machine has it."""

import shutil
from pathlib import Path

import pytest

from orchestration.confine import Refused
from orchestration.figures.provenance import (
    TEXT_PATH_ENV,
    TextRefused,
    load_text,
    quote_problems,
    resolve_text,
    split_languages,
)
from orchestration.ingestion.load import read_raw
from tests.conftest import copy_raw
from tests.sources import FIXTURE, SEED_TEXT, needs_seed_text


def copy_fixture(raw: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, raw / FIXTURE.name))


def test_a_bilingual_text_splits_at_the_chinese_original():
    zh, en = split_languages(
        "An English translation of some length, with 5% growth.\n\n中文原文,增长 5%。\n"
    )
    assert zh.startswith("中文原文") and en.startswith("An English")
    assert split_languages("只有中文 1977 亿元") == ("只有中文 1977 亿元", "")
    assert split_languages("English only") == ("", "English only")


def test_the_text_is_found_beside_the_source_or_on_the_search_path(tmp_path, monkeypatch):
    folder = copy_fixture(tmp_path)
    assert resolve_text("article.txt", folder) == (folder / "article.txt").resolve()
    elsewhere = tmp_path / "texts"
    elsewhere.mkdir()
    (folder / "article.txt").rename(elsewhere / "article.txt")
    monkeypatch.setenv(TEXT_PATH_ENV, str(tmp_path / "nowhere"))
    assert resolve_text("article.txt", folder) is None
    monkeypatch.setenv(TEXT_PATH_ENV, str(elsewhere))
    assert resolve_text("article.txt", folder) == (elsewhere / "article.txt").resolve()


def test_a_quote_that_is_not_in_the_text_is_rejected_naming_the_figure(tmp_path):
    folder = copy_fixture(tmp_path)
    figures = folder / "figures.csv"
    figures.write_text(
        figures.read_text(encoding="utf-8").replace("同比增长 5%", "同比增长 5% 左右"),
        encoding="utf-8",
    )
    batch = read_raw(tmp_path)
    assert len(batch.figures) == 2
    (reason,) = batch.rejected.reason
    assert (
        "figure syn-002" in reason and "'同比增长 5% 左右' does not occur in article.txt" in reason
    )
    assert batch.rejected.column_name.iloc[0] == "quote_zh"


def test_without_the_text_the_quotes_are_not_checked_and_that_is_said(tmp_path, monkeypatch):
    folder = copy_fixture(tmp_path)
    (folder / "article.txt").unlink()
    monkeypatch.setenv(TEXT_PATH_ENV, str(tmp_path / "nowhere"))
    batch = read_raw(tmp_path)
    assert len(batch.figures) == 3
    assert "not found" in batch.text_status[FIXTURE.name]


def test_a_wrong_value_is_rejected_naming_the_figure_and_both_quotes(tmp_path):
    folder = copy_fixture(tmp_path)
    figures = folder / "figures.csv"
    figures.write_text(
        figures.read_text(encoding="utf-8").replace("100000000000", "10000000000"), encoding="utf-8"
    )
    (reason,) = read_raw(tmp_path).rejected.reason
    assert "figure syn-001" in reason
    assert "'游戏收入 1000 亿元'" in reason and "'games revenue of 100 billion yuan'" in reason


def test_a_quote_without_a_number_is_rejected(tmp_path):
    folder = copy_fixture(tmp_path)
    figures = folder / "figures.csv"
    figures.write_text(
        figures.read_text(encoding="utf-8").replace(",同比增长 5%,", ",同比增长,"), encoding="utf-8"
    )
    (reason,) = read_raw(tmp_path).rejected.reason
    assert "figure syn-002: quote_zh '同比增长' does not state value 5 percent" in reason


@needs_seed_text
def test_every_seed_quote_occurs_verbatim_in_the_seed_article(tmp_path):
    text = load_text(SEED_TEXT)
    batch = read_raw(copy_raw(tmp_path / "raw"))
    assert batch.rejected.empty and len(batch.figures) >= 100
    assert "quotes checked against" in next(iter(batch.text_status.values()))
    for figure in batch.figures.itertuples():
        assert quote_problems(text, figure.quote_zh, figure.quote_en) == [], figure.figure_id


def test_a_text_may_come_only_from_the_source_folder_and_the_text_folders(tmp_path, monkeypatch):
    raw, texts, outside = tmp_path / "raw", tmp_path / "texts", tmp_path / "outside"
    folder = copy_fixture(raw)
    texts.mkdir()
    outside.mkdir()
    (texts / "shared.txt").write_text("shared", encoding="utf-8")
    (folder / "sub").mkdir()
    (outside / "secret.txt").write_text("secret", encoding="utf-8")
    monkeypatch.setenv(TEXT_PATH_ENV, str(texts))
    # a name, a path that stays inside after `..` is folded, a link inside the roots: fine
    assert resolve_text("shared.txt", folder) == (texts / "shared.txt").resolve()
    assert resolve_text("sub/../article.txt", folder) == (folder / "article.txt").resolve()
    (folder / "linked.txt").symlink_to(texts / "shared.txt")
    assert resolve_text("linked.txt", folder) == (texts / "shared.txt").resolve()
    refused = {
        "/etc/passwd": "is an absolute path",
        str(outside / "secret.txt"): "is an absolute path",
        "~/secret.txt": "is an absolute path",
        "/proc/self/environ": "is an absolute path",
        "../../outside/secret.txt": "leads outside the folders a text may come from",
        "../../outside/missing.txt": "leads outside the folders a text may come from",
        "../../../../../../../../etc/hostname": "leads outside",
        "article.txt\n": "contains a control character",
    }
    for entry, words in refused.items():
        with pytest.raises(TextRefused, match=words):
            resolve_text(entry, folder)
    (folder / "escape.txt").symlink_to(outside / "secret.txt")
    (folder / "dangling.txt").symlink_to(outside / "missing.txt")
    (folder / "out").symlink_to(outside)
    for entry in ("escape.txt", "dangling.txt", "out/secret.txt", "out/missing.txt"):
        with pytest.raises(TextRefused, match="is a link to a place outside"):
            resolve_text(entry, folder)


def test_a_text_over_its_limit_is_not_read(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(5 * 1024 * 1024 + 1)
    with pytest.raises(Refused, match="over the limit of 5 MB for an article text"):
        load_text(big)
