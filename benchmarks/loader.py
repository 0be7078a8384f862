"""Time the loader alone (read, check, write into a fresh DuckDB file) on a synthetic corpus.

    python -m benchmarks.loader --figures 1000000 [--corpus DIR] [--keep]

The corpus is generated (benchmarks/generate.py) into a temporary folder unless --corpus names
one that already holds it; the warehouse is a new file beside it. The first load reads every
source; the second finds raw/ unchanged and must not reload anything. Peak RSS is the
process's own maximum resident memory (Linux), Python and DuckDB together.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks.generate import generate
from orchestration.ingestion.load import load_raw


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, required=True)
    parser.add_argument("--corpus", type=Path, help="an existing or wanted corpus folder")
    parser.add_argument("--keep", action="store_true", help="keep the generated corpus")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="loader-bench-"))
    corpus = args.corpus or workdir / "raw"
    if not any(corpus.glob("*/figures.csv")):
        started = time.perf_counter()
        generate(args.figures, corpus)
        print(f"generated {args.figures:,} figures in {time.perf_counter() - started:.1f} s")
    warehouse = workdir / "warehouse.duckdb"
    try:
        with duckdb.connect(str(warehouse)) as conn:
            started, cpu = time.perf_counter(), _cpu_seconds()
            report = load_raw(conn, corpus)
            seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
            again = time.perf_counter()
            unchanged = load_raw(conn, corpus)
            unchanged_seconds = time.perf_counter() - again
        rows = report.rows_read
        steps = report.seconds
        print(f"figures read:       {rows:,} in {len(report.sources_reloaded):,} sources")
        print(f"loaded / rejected:  {report.counts['figures']:,} / {report.counts['rejected']:,}")
        print(
            f"phases (s):         scan {steps['scan']:.2f}"
            f", read {steps['read'] - steps['scan']:.2f}"
            f", check {steps['validate'] - steps['read']:.2f}"
            f", write {steps['write'] - steps['validate']:.2f}"
        )
        print(f"quotes settled by the Python parser: {report.python_confirmed_quotes:,}")
        print(f"load + validation:  {seconds:.2f} s, {rows / seconds:,.0f} rows/s")
        print(f"CPU time:           {cpu:.2f} s (user + system, all threads)")
        print(
            f"unchanged re-run:   {unchanged_seconds:.2f} s "
            f"(reloaded {len(unchanged.sources_reloaded)} sources)"
        )
        print(f"peak RSS:           {_peak_rss_mb():,.0f} MB")
    finally:
        if args.keep and not args.corpus:
            print(f"corpus and warehouse kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
