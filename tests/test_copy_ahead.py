"""The current build's DuckDB file copied while dbt builds (orchestration/copy_ahead.py): on
folders of published builds made here, no pipeline run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestration import copy_ahead, snapshots
from orchestration.paths import PUBLISHED_DATABASE

FORMAT = "v1.0.0"


def publish(published: Path, build_id: str, content: bytes, storage_version: str = FORMAT):
    """A complete build folder with a database file of `content`, switched in as current."""
    partial = snapshots.partial_folder(published, build_id)
    (partial / snapshots.PARQUET_DIR).mkdir(parents=True)
    (partial / PUBLISHED_DATABASE).write_bytes(content)
    info = {
        "build_id": build_id,
        "storage_version": storage_version,
        "figures_built_at": "2026-01-01 00:00:00",
    }
    snapshots.write_build_info(partial, info)
    snapshots.switch(published, partial, build_id)


def test_the_current_build_s_file_is_copied_and_taken_whole(tmp_path):
    published = tmp_path / "published"
    content = os.urandom(3 * 1024 * 1024)
    publish(published, "20260101T000000Z-run1", content)
    current = snapshots.current_build(published)

    finished = copy_ahead.start(published, FORMAT)
    assert finished == copy_ahead.ahead_path(published, current.build_id)
    taken = copy_ahead.take(published, current.build_id)
    assert taken == finished
    assert taken.read_bytes() == content
    # a copy: the build's own file is where it was, read-only
    assert current.database.read_bytes() == content
    assert taken.stat().st_ino != current.database.stat().st_ino
    assert not list((published / snapshots.BUILDS).glob("*.tmp"))
    # a copy of another build is not this one's
    assert copy_ahead.take(published, "20250101T000000Z-other") is None


def test_nothing_is_copied_when_the_publish_would_not_copy(tmp_path):
    published = tmp_path / "published"
    # no build yet: the first publish writes its copy in full
    assert copy_ahead.start(published, FORMAT) is None
    # another storage format: the publish writes in full
    publish(published, "20260101T000000Z-run1", b"one")
    assert copy_ahead.start(published, "v1.2.0") is None
    # a build to retire (BUILDS_KEPT kept): the publish moves its file instead
    for n in range(2, snapshots.BUILDS_KEPT + 1):
        publish(published, f"2026010{n}T000000Z-run{n}", b"next")
    assert snapshots.retiring_build(published, snapshots.current_build(published)) is not None
    assert copy_ahead.start(published, FORMAT) is None
    assert not list((published / snapshots.BUILDS).glob(".*"))


@pytest.mark.parametrize("left", [".ahead-20250101T000000Z-old.duckdb", ".ahead-x.duckdb.tmp"])
def test_what_a_killed_run_left_is_deleted(tmp_path, left):
    published = tmp_path / "published"
    publish(published, "20260101T000000Z-run1", b"one")
    leftover = published / snapshots.BUILDS / left
    leftover.write_bytes(b"half a copy")
    finished = copy_ahead.start(published, FORMAT)  # the next run's dbt step
    assert not leftover.exists()
    assert copy_ahead.take(published, "20260101T000000Z-run1") == finished
    leftover.write_bytes(b"half a copy")
    copy_ahead.discard(published)  # every publish
    assert not list((published / snapshots.BUILDS).glob(".*"))


def test_a_copy_that_fails_leaves_nothing(tmp_path):
    finished = tmp_path / "builds" / ".ahead-x.duckdb"
    finished.parent.mkdir()
    copy_ahead._copy(tmp_path / "gone.duckdb", finished)
    assert list(finished.parent.iterdir()) == []
