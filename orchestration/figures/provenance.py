"""Where a source's text is, and whether each quote occurs in it word for word.

The article text is never committed. A source names it in source.yaml (`text: article.txt`);
the name is looked up as given, then in the source's folder, then in each folder of
SOURCE_TEXT_PATH (os.pathsep-separated, like PATH). When it is nowhere, the checks that need it
say so and skip, and everything else still runs.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from orchestration.figures.messages import quote_not_in_text
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


def resolve_text(entry: str | None, folder: Path) -> Path | None:
    """The file a source.yaml `text` entry names, or None when it is not on this machine."""
    if not entry:
        return None
    name = Path(entry).expanduser()
    candidates = [name] if name.is_absolute() else [folder / name, *(d / name for d in text_dirs())]
    return next((c.resolve() for c in candidates if c.is_file()), None)


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


def load_text(path: Path) -> SourceText:
    """Read a text file (UTF-8, BOM allowed) and split it by language."""
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8-sig"))
    zh, en = split_languages(text)
    return SourceText(path=path, zh=zh, en=en)


def quote_problems(
    text: SourceText, quote_zh: str | None, quote_en: str | None
) -> list[tuple[str, str]]:
    """(column, message) for each quote that is not in the source text word for word."""
    problems = []
    for column, quote, part in (("quote_zh", quote_zh, text.zh), ("quote_en", quote_en, text.en)):
        if quote and quote not in part:
            problems.append((column, quote_not_in_text(column, quote, part, text.path.name)))
    return problems
