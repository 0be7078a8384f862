"""A folder's hash kept while its files are unchanged (orchestration/ingestion/folder_hashes.py):
every change that matters is noticed, what cannot be told is hashed every time, and the loader
reads only the folders that changed."""

from __future__ import annotations

import json
import os
import shutil

import duckdb
import pytest

from orchestration.figures.provenance import TEXT_PATH_ENV
from orchestration.ingestion import folder_hashes, load
from orchestration.ingestion.folder_files import folder_hash
from orchestration.ingestion.folder_hashes import FILE_NAME, FolderHashes
from orchestration.ingestion.load import load_raw
from tests.sources import FIXTURE, GOOD_CSV, make_source


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A Dagster instance folder for the kept hashes; files count as settled at once."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setattr(folder_hashes, "RACY_SECONDS", 0.0)
    return home


def folders_passed(monkeypatch, module, name: str) -> list[str]:
    """The names of the folders given to module.name from now on (the function still runs)."""
    passed = []
    real = getattr(module, name)

    def counted(folder):
        passed.append(folder.name)
        return real(folder)

    monkeypatch.setattr(module, name, counted)
    return passed


@pytest.fixture
def reads(monkeypatch):
    """The folders whose files were read to hash them."""
    return folders_passed(monkeypatch, folder_hashes, "hashed_folder")


def kept_hash(folder):
    kept = FolderHashes.of_instance()
    digest = kept.hash(folder)
    kept.save()
    return digest


def test_an_unchanged_folder_is_not_read_again_even_by_another_process(instance, tmp_path, reads):
    folder = make_source(tmp_path / "raw", "a-source")
    (folder / "article.txt").write_text("游戏收入 1000 亿元", encoding="utf-8")
    first = kept_hash(folder)
    assert (instance / FILE_NAME).is_file() and reads == ["a-source"]
    assert kept_hash(folder) == first == folder_hash(folder)  # a new FolderHashes: the file
    assert reads == ["a-source"]


@pytest.fixture(autouse=True)
def _text_path(monkeypatch):
    monkeypatch.delenv(TEXT_PATH_ENV, raising=False)


@pytest.mark.parametrize(
    "change",
    [
        "figures.csv rewritten with its size and modification time",
        "figures.csv replaced by another file",
        "exclusions.csv added",
        "source.yaml removed",
        "the article text edited",
        "the text put beside source.yaml, which is looked at before SOURCE_TEXT_PATH",
    ],
)
def test_every_change_of_what_the_hash_covers_is_noticed(
    instance, tmp_path, monkeypatch, reads, change
):
    folder = make_source(tmp_path / "raw", "a-source")
    texts = tmp_path / "texts"
    texts.mkdir()
    monkeypatch.setenv(TEXT_PATH_ENV, str(texts))
    (texts / "article.txt").write_text("游戏收入 1000 亿元", encoding="utf-8")
    kept_hash(folder)
    kept_hash(folder)
    assert reads == ["a-source"]
    figures = folder / "figures.csv"
    if change == "figures.csv rewritten with its size and modification time":
        before = figures.stat()
        figures.write_text(GOOD_CSV.replace("1000", "2000"), encoding="utf-8")
        os.utime(figures, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert figures.stat().st_size == before.st_size
    elif change == "figures.csv replaced by another file":
        (folder / "new.csv").write_text(GOOD_CSV.replace("1000", "2000"), encoding="utf-8")
        os.replace(folder / "new.csv", figures)
    elif change == "exclusions.csv added":
        (folder / "exclusions.csv").write_text("language,quote,reason\nzh,x,y\n", "utf-8")
    elif change == "source.yaml removed":
        (folder / "source.yaml").unlink()
    elif change == "the article text edited":
        (texts / "article.txt").write_text("游戏收入 2000 亿元", encoding="utf-8")
    else:
        (folder / "article.txt").write_text("游戏收入 3000 亿元", encoding="utf-8")
    before = FolderHashes.of_instance().entries[str(folder)]["hash"]
    reads.clear()
    assert kept_hash(folder) == folder_hash(folder) != before
    assert reads == ["a-source"]


def test_a_folder_that_cannot_be_told_by_its_files_is_read_every_time(instance, tmp_path, reads):
    raw = tmp_path / "raw"
    linked = make_source(raw, "linked")
    (linked / "figures.csv").rename(linked / "data.csv")
    (linked / "figures.csv").symlink_to("data.csv")
    missing_text = make_source(raw, "no-text")  # source.yaml names article.txt, not there
    for _ in range(2):
        kept_hash(linked)
        kept_hash(missing_text)
    assert reads == ["linked", "no-text", "linked", "no-text"]


def test_a_file_changed_just_before_it_was_hashed_is_read_again(tmp_path, monkeypatch, reads):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    folder = make_source(tmp_path / "raw", "a-source")
    shutil.copy(FIXTURE / "article.txt", folder)
    kept_hash(folder)
    kept_hash(folder)  # within RACY_SECONDS of the last change: not trusted yet
    assert reads == ["a-source", "a-source"]


def test_other_text_folders_or_a_broken_file_mean_hashing_again(
    instance, tmp_path, monkeypatch, reads
):
    folder = make_source(tmp_path / "raw", "a-source")
    (folder / "article.txt").write_text("游戏收入 1000 亿元", encoding="utf-8")
    kept_hash(folder)
    monkeypatch.setenv(TEXT_PATH_ENV, str(tmp_path / "texts"))
    kept_hash(folder)
    (instance / FILE_NAME).write_text("{not json", encoding="utf-8")
    kept_hash(folder)
    odd = {"format": 1, "folders": {str(folder): {"paths": 5, "hash": "x"}}}
    (instance / FILE_NAME).write_text(json.dumps(odd), encoding="utf-8")
    assert kept_hash(folder) == folder_hash(folder)
    assert reads == ["a-source"] * 4
    assert json.loads((instance / FILE_NAME).read_text(encoding="utf-8"))["folders"]


def test_the_loader_reads_only_the_folders_that_changed(instance, tmp_path, monkeypatch):
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    for name in ("a-source", "b-source", "c-source"):
        folder = make_source(raw, name, figures=GOOD_CSV.replace("syn-", name[0] + "-"))
        shutil.copy(FIXTURE / "article.txt", folder)  # a text on this machine: kept
    scanned = folders_passed(monkeypatch, load, "scan_folder")
    with duckdb.connect(str(warehouse)) as conn:
        load_raw(conn, raw)
        for name in ("a-source", "b-source", "c-source"):
            kept_hash(raw / name)  # as `make run` and the sensor do before a run
        assert sorted(scanned) == ["a-source", "b-source", "c-source"]
        scanned.clear()
        figures = raw / "b-source" / "figures.csv"
        before = figures.stat()
        changed = GOOD_CSV.replace("syn-", "b-").replace("synthetic", "synthesis")
        figures.write_text(changed, encoding="utf-8")
        os.utime(figures, ns=(before.st_atime_ns, before.st_mtime_ns))
        report = load_raw(conn, raw)
        assert scanned == ["b-source"]
        assert report.sources_reloaded == ["b-source"]
        assert report.sources_unchanged == ["a-source", "c-source"]
        assert report.file_hashes == {name: folder_hash(raw / name) for name in report.file_hashes}
        scanned.clear()
        assert load_raw(conn, raw).sources_reloaded == []
        assert scanned == ["b-source"]  # its new hash is not kept until someone hashes it
        forced = load_raw(conn, raw, force=True).sources_reloaded
        assert forced == ["a-source", "b-source", "c-source"]
        stored = conn.execute(
            "select file_hash from raw.sources where source_id = 'b-source'"
        ).fetchall()
        notes = conn.execute(
            "select distinct note from raw.figures where source_id = 'b-source'"
        ).fetchall()
    assert stored == [(folder_hash(raw / "b-source"),)]
    assert notes == [("synthesis",)]


SOURCE_YAML = (FIXTURE / "source.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "broken",
    [
        SOURCE_YAML + "extra: field\n",  # an unknown field
        SOURCE_YAML.replace('publisher: "Test fixtures"\n', ""),  # a missing one
        SOURCE_YAML.replace("source_id: synthetic-2025-01-01", "source_id: another-2025"),
        SOURCE_YAML.replace("text: article.txt", "text: [article.txt, other.txt]"),
        SOURCE_YAML,  # nothing wrong
    ],
    ids=["unknown field", "missing field", "source_id mismatch", "text as a list", "valid"],
)
def test_the_loader_hashes_a_folder_as_make_run_and_the_sensor_do(instance, tmp_path, broken):
    """Whatever is wrong with source.yaml, the loader's hash (recorded in the published build)
    is the folder's hash the sensor and `make run` compare it with: else they would find the
    folder changed after every build, and build again and again."""
    raw, warehouse = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    folder = make_source(raw, yaml=broken)
    shutil.copy(FIXTURE / "article.txt", folder)  # the text it names is on this machine
    with duckdb.connect(str(warehouse)) as conn:
        report = load_raw(conn, raw)
    assert report.file_hashes == {folder.name: folder_hash(folder)}
