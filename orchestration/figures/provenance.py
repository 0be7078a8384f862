"""Where a source's text is, and whether each quote occurs in it word for word.

The article text is never committed. A source names it in source.yaml (`text: article.txt`);
the name is looked up in the source's folder, then in each folder of SOURCE_TEXT_PATH
(os.pathsep-separated, like PATH). When it is nowhere, the checks that need it say so and skip,
and everything else still runs.

source.yaml is contributed input (docs/security.md), so the name may only lead to a file inside
those folders: an absolute path, a `..` that climbs out of them or a link that points out of
them is refused (`TextRefused`), whether or not a file is there, so that a source can neither
read the build machine's files nor learn which ones exist.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from orchestration.confine import Refused, read_limited, within
from orchestration.figures.messages import quote_not_in_text
from orchestration.limits import MAX_FILE_BYTES
from orchestration.paths import PROJECT_ROOT

TEXT_PATH_ENV = "SOURCE_TEXT_PATH"
# Local article texts: texts/ in the project (git-ignored), and the shared seed folder beside it.
DEFAULT_TEXT_DIRS = (PROJECT_ROOT / "texts", PROJECT_ROOT.parent / "shared" / "seed")
CHINESE_START = "\u4e00"


@dataclass(frozen=True)
class SourceText:
    """A source's text, split into its Chinese and English parts where it has both."""

    path: Path
    zh: str
    en: str

    def part(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


def text_dirs() -> list[Path]:
    """The folders searched for article texts."""
    configured = os.environ.get(TEXT_PATH_ENV)
    if configured:
        return [Path(p) for p in configured.split(os.pathsep) if p]
    return list(DEFAULT_TEXT_DIRS)


class TextRefused(Refused):
    """A source.yaml `text` entry that leads outside the folders a text may come from."""


def text_roots(folder: Path) -> list[Path]:
    """The folders a source's text may come from, resolved: its own, then SOURCE_TEXT_PATH's."""
    return [folder.resolve(), *(d.resolve() for d in text_dirs())]


def _control_character(text: str) -> str | None:
    return next((ch for ch in text if unicodedata.category(ch) == "Cc"), None)


def resolve_text(entry: str | None, folder: Path) -> Path | None:
    """The file a source.yaml `text` entry names, or None when it is not on this machine.

    Raises TextRefused (one line: the entry and why) when the entry is absolute or leads
    outside the source's folder and every folder of SOURCE_TEXT_PATH, or through a link that
    points outside them; in either case before looking for the file.
    """
    if not entry:
        return None
    hint = "name a file in the source's folder or in a folder of SOURCE_TEXT_PATH"
    if _control_character(entry) is not None:
        raise TextRefused(f"text {entry!r} contains a control character: {hint}")
    if Path(entry).is_absolute() or entry.startswith("~"):
        raise TextRefused(f"text {entry!r} is an absolute path: {hint}, by its name")
    roots = text_roots(folder)
    # `..` folded as written, before anything on disk is looked at: a place outside the roots
    # is never looked at, so the answer does not tell whether a file exists there.
    candidates = [Path(os.path.normpath(root / entry)) for root in roots]
    candidates = [candidate for candidate in candidates if within(candidate, roots)]
    if not candidates:
        raise TextRefused(f"text {entry!r} leads outside the folders a text may come from: {hint}")
    for candidate in candidates:
        # Links followed; checked before the file itself is looked at, for the same reason.
        try:
            resolved = candidate.resolve()
        except RuntimeError as error:  # a loop of links
            raise TextRefused(f"text {entry!r} is a link that leads to itself: {hint}") from error
        if not within(resolved, roots):
            raise TextRefused(
                f"text {entry!r} is a link to a place outside the folders a text may come "
                f"from: {hint}, and copy the text there"
            )
        if resolved.is_file():
            return resolved
    return None


def _han(text: str) -> int:
    return sum(1 for ch in text if CHINESE_START <= ch <= "\u9fff")


def _latin(text: str) -> int:
    return sum(1 for ch in text if ch.isascii() and ch.isalpha())


def split_languages(text: str) -> tuple[str, str]:
    """(Chinese, English) parts of a text: a translation may come first, the original after.

    The Chinese part starts at the first mostly-Chinese line that follows a mostly-Latin stretch
    of some length; a text without such a stretch is Chinese throughout, one without Chinese
    is English throughout.
    """
    if _han(text) == 0:
        return "", text
    offset = 0
    for line in text.splitlines(keepends=True):
        before = text[:offset]
        if _han(line) > _latin(line) and _latin(before) > max(40, 4 * _han(before)):
            return text[offset:], before
        offset += len(line)
    return text, ""


def read_text(path: Path) -> bytes:
    """A text file's bytes, within the size limit of an article text (Refused beyond it)."""
    return read_limited(path, MAX_FILE_BYTES["text"], "an article text")


def parse_text(path: Path, data: bytes) -> SourceText:
    """A text file's bytes (UTF-8, BOM allowed) split by language; UnicodeDecodeError if not."""
    text = unicodedata.normalize("NFC", data.decode("utf-8-sig"))
    zh, en = split_languages(text)
    return SourceText(path=path, zh=zh, en=en)


def load_text(path: Path) -> SourceText:
    """Read a text file (UTF-8, BOM allowed, within its size limit) and split it by language."""
    return parse_text(path, read_text(path))


def quote_problems(
    text: SourceText, quote_zh: str | None, quote_en: str | None
) -> list[tuple[str, str]]:
    """(column, message) for each quote that is not in the source text word for word."""
    problems = []
    for column, quote, part in (("quote_zh", quote_zh, text.zh), ("quote_en", quote_en, text.en)):
        if quote and quote not in part:
            problems.append((column, quote_not_in_text(column, quote, part, text.path.name)))
    return problems
