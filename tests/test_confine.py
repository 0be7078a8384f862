"""Files of raw/ are read only inside their folder and within their size limit."""

import os
from pathlib import Path

import pytest

from orchestration.confine import (
    Refused,
    file_in_folder,
    folder_problem,
    read_limited,
    shown,
    within,
)
from orchestration.limits import MAX_FILE_BYTES, control_character, size_text


def test_within_is_checked_on_resolved_paths_and_never_in_the_kernels_files(tmp_path):
    root = tmp_path.resolve()
    assert within(root / "a" / "b.txt", [root]) and within(root, [root])
    assert not within(root.parent / "other", [root])
    assert not within(Path("/proc/self/environ"), [Path("/")])  # whatever the roots say


def test_a_link_out_of_the_folder_is_refused_and_named_as_the_link(tmp_path):
    folder, outside = tmp_path / "raw" / "x", tmp_path / "outside.txt"
    folder.mkdir(parents=True)
    outside.write_text("secret")
    (folder / "figures.csv").symlink_to(outside)
    (folder / "inside.csv").write_text("ok")
    (folder / "alias.csv").symlink_to(folder / "inside.csv")
    with pytest.raises(Refused, match=r"raw/x/figures.csv is a link to a file outside .*raw/x"):
        file_in_folder(folder / "figures.csv", folder)
    assert file_in_folder(folder / "alias.csv", folder) == (folder / "inside.csv").resolve()
    assert shown(folder / "figures.csv").endswith("raw/x/figures.csv")


def test_a_source_folder_that_is_a_link_out_of_raw_is_refused(tmp_path):
    raw, elsewhere = tmp_path / "raw", tmp_path / "elsewhere"
    raw.mkdir()
    elsewhere.mkdir()
    (raw / "x").symlink_to(elsewhere)
    (raw / "y").mkdir()
    assert "raw/x is a link to a folder outside" in folder_problem(raw / "x", raw)
    assert folder_problem(raw / "y", raw) is None


def test_a_file_is_read_only_within_its_limit(tmp_path):
    small, big = tmp_path / "small", tmp_path / "big"
    small.write_bytes(b"x" * 10)
    with big.open("wb") as handle:
        handle.truncate(11)
    assert read_limited(small, 10, "a file") == b"x" * 10
    with pytest.raises(Refused, match="/big is 11 bytes, over the limit of 10 bytes for a file"):
        read_limited(big, 10, "a file")
    (tmp_path / "link").symlink_to(big)
    with pytest.raises(Refused, match="/link is 11 bytes"):  # named as the user wrote it
        read_limited(big, 10, "a file", tmp_path / "link")


def test_a_fifo_or_a_device_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(Refused, match="is not a regular file"):
        read_limited(tmp_path / "fifo", 10, "a file")
    with pytest.raises(Refused, match="is not a regular file"):
        read_limited(Path("/dev/zero"), 10, "a file")


def test_the_limits_read_as_documented():
    assert [size_text(MAX_FILE_BYTES[n]) for n in MAX_FILE_BYTES] == [
        "64 KB", "32 MB", "1 MB", "5 MB",
    ]  # fmt: skip
    assert control_character("tab\tand\nlines\r") is None
    assert [control_character(c) for c in "\x00\x1b\x7f\x85"] == list("\x00\x1b\x7f\x85")
