"""Command line for curators: draft a figures.csv, check a folder, report text coverage.

    python -m orchestration.figures draft raw/<source_id>/article.txt [--out FILE]
    python -m orchestration.figures check raw/<source_id>   (also warns of unknown businesses)
    python -m orchestration.figures coverage raw/<source_id>

`make draft TEXT=...`, `make check-source SOURCE=...` and `make coverage SOURCE=...` call these.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from orchestration.confine import Refused
from orchestration.figures.coverage import UNCOVERED, coverage, read_exclusions, summary
from orchestration.figures.coverage import unused_exclusions as _unused
from orchestration.figures.dimensions import figures_warnings
from orchestration.figures.draft import draft_rows, write_draft
from orchestration.figures.provenance import load_text, resolve_text
from orchestration.paths import display


def _draft(args: argparse.Namespace) -> int:
    text_path = Path(args.text)
    if not text_path.is_file():
        print(f"error: no file {text_path}", file=sys.stderr)
        return 2
    folder = text_path.parent
    out = Path(args.out) if args.out else folder / "figures.csv"
    if out.exists() and not args.out:
        out = folder / "figures.draft.csv"
    prefix = args.id_prefix or folder.name
    candidates = draft_rows(load_text(text_path), prefix)
    write_draft(candidates, out)
    print(f"{len(candidates)} candidate figures written to {out}")
    for column in ("company", "metric", "unit"):
        if missing := sum(1 for c in candidates if not c.row[column]):
            print(f"  {missing} rows need a {column} (the draft could not guess it)")
    periods = Counter(c.row["period"] for c in candidates)
    print("  periods: " + ", ".join(f"{p} ({n})" for p, n in periods.most_common()))
    print(
        f"Next: curate it (raw/README.md), then `make check-source SOURCE={folder}` and "
        f"`make coverage SOURCE={folder}`; when both are clean, move the folder to raw/ and "
        "`make run`."
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from orchestration.ingestion.load import read_raw
    from orchestration.ingestion.raw_files import FIGURES_FILE

    folder = Path(args.folder).resolve()
    batch = read_raw(folder.parent)
    mine = batch.rejected[batch.rejected["source_id"] == folder.name]
    figures = batch.figures[batch.figures["source_id"] == folder.name]
    print(f"{len(figures)} figures pass the contract; {len(mine)} rejected.")
    print(batch.text_status.get(folder.name, ""))
    for row in mine.itertuples():
        print(f"  {row.reason}")
    # Warnings, not errors: such a row loads, but stands apart from the known series.
    figures_path = folder / FIGURES_FILE
    warnings = figures_warnings(figures_path)
    if warnings:
        what = "warning" if len(warnings) == 1 else "warnings"
        print(f"{len(warnings)} {what}: names the business or metric dimensions do not know.")
    for warning in warnings:
        print(f"  warning: {display(figures_path)} {warning}")
    return 1 if len(mine) else 0


def _coverage(args: argparse.Namespace) -> int:
    from orchestration.ingestion.load import read_raw
    from orchestration.ingestion.raw_files import EXCLUSIONS_FILE

    folder = Path(args.folder).resolve()
    batch = read_raw(folder.parent)
    source = batch.sources[batch.sources["source_id"] == folder.name]
    if source.empty:
        print(f"error: {folder} does not load: run `check` first", file=sys.stderr)
        return 2
    try:
        path = resolve_text(source["text"].iloc[0], folder)
        if path is None:
            print(
                "error: the source's text is not on this machine (source.yaml `text:`)",
                file=sys.stderr,
            )
            return 2
        text = load_text(path)
        exclusions = read_exclusions(folder / EXCLUSIONS_FILE)
    except (Refused, OSError, UnicodeDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    figures = batch.figures[batch.figures["source_id"] == folder.name].to_dict("records")
    rows = coverage(text, figures, exclusions)
    for language, counts in summary(rows).items():
        print(f"{language}: {counts}")
    for row in rows:
        if row.status == UNCOVERED:
            print(f"  uncovered {row.language} {row.number!r}: ...{row.context}...")
    for exclusion in _unused(text, exclusions):
        print(f"  exclusion not in the text: {exclusion.language} {exclusion.quote!r}")
    return 1 if any(r.status == UNCOVERED for r in rows) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.figures")
    commands = parser.add_subparsers(dest="command", required=True)
    draft = commands.add_parser("draft", help="draft figures.csv from an article's text")
    draft.add_argument("text", help="the article's text file (UTF-8), e.g. raw/<id>/article.txt")
    draft.add_argument("--out", help="where to write (default: figures.csv beside the text)")
    draft.add_argument("--id-prefix", help="figure_id prefix (default: the folder's name)")
    check = commands.add_parser("check", help="validate one source folder without a warehouse")
    check.add_argument("folder")
    cover = commands.add_parser("coverage", help="which numbers of the text no figure covers")
    cover.add_argument("folder")
    args = parser.parse_args(argv)
    return {"draft": _draft, "check": _check, "coverage": _coverage}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
