"""`make bench`: the real pipeline on synthetic corpora, timed stage by stage, with two baselines.

    make bench                          # sizes seed,100,10000,1000000,10000000
    make bench SIZES=seed,100,10000     # a quick one
    python -m benchmarks.run --sizes 100 --results benchmarks/RESULTS.md

For each size, a corpus of synthetic figures (benchmarks/generate.py, fixed seed, cached under
.bench/corpus/) or, for `seed`, the real raw/ folder; then, in a temporary folder with its own
Dagster instance, warehouse and dbt target path (nothing under data/ or dbt_project/target/ is
touched), the manifest is prepared as `make run` prepares it (`dbt parse`), and these run, one
after the other, each in a child process whose peak memory is measured:

1. `python -m orchestration.run` (what `make run` runs) on an empty warehouse. The stage times
   are the durations of the run's steps, from its STEP_START and STEP_SUCCESS events in the
   Dagster instance; a step is classed by what it reports: raw/* materializations are `load`,
   checks alone are `validate`, publish*/* materializations are `publish`, the rest is
   `dbt build`.
   What is outside every step (interpreter start, imports, run bookkeeping) is shown on its own.
2. the same again with raw/ unchanged (the daily run on a day without a new article).
3. the same with one new source folder of 100 figures (the daily run on a day with a new
   article: an incremental build), timed by stage as 1; then, untimed, the folder is removed and
   a run takes its rows out again. Then the same once more: three builds are kept by then, and
   the publish takes the DuckDB file of the build it retires rather than copy the current one
   (the daily run from the fourth build on).
4. bare `dbt build --full-refresh` of the same project on the loaded warehouse: the build the
   first run made.
5. the floor: the compiled SQL of every seed, model and test, executed in dependency order in one
   DuckDB connection (`dbt compile` once, then no dbt at all).

CPU is user + system time of the child and its descendants (wait4): on a shared machine it
moves less than wall time. Memory: `peak tree` is the largest sum of resident memory over the
child and all its descendants, sampled from /proc every 0.1 s (so the Dagster process and its
dbt subprocess count together); `peak proc` is the largest single process, exact (ru_maxrss
from wait4). The machine is shared: every row carries the 1-minute load average at its start.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import generate
from orchestration import snapshots
from orchestration.paths import DBT_BUILD, PROJECT_ROOT, PUBLISH_DIR_ENV, dbt_process

BENCH_DIR = PROJECT_ROOT / ".bench"
CORPORA = BENCH_DIR / "corpus"
DBT_PROJECT = PROJECT_ROOT / "dbt_project"
DEFAULT_SIZES = "seed,100,10000,1000000,10000000"
GENERATOR_SEED = 20241231
GENERATOR_VERSION = generate.VERSION  # a new version, a new cached corpus
SLOWEST_NODES = 5  # the floor row names its slowest seeds, models and tests
SAMPLE_EVERY_S = 0.1
BIN = Path(sys.executable).parent
PACKAGES = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "pandas", "pandera")


# --- measuring a child process -------------------------------------------------------------


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of `root` and all its descendants, from /proc (Linux)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo += parents.get(pid, [])
        with contextlib.suppress(OSError):  # ended meanwhile
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
    return total


class TreeSampler(threading.Thread):
    """Samples the resident memory of a process tree until stopped: (wall time, bytes) pairs."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.samples: list[tuple[float, int]] = []
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.samples.append((time.time(), _tree_rss_bytes(self.root)))
            self._done.wait(SAMPLE_EVERY_S)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        return max((rss for at, rss in self.samples if start <= at <= end), default=0)


@dataclass
class Measured:
    """One child process: how long, how much memory, how busy the machine was."""

    label: str
    seconds: float
    cpu: float
    peak_tree: int
    peak_proc: int
    returncode: int
    load: float
    started: float
    sampler: TreeSampler = field(repr=False)


def measure(
    label: str,
    command: Sequence[str],
    env: dict,
    log: Path,
    timeout: float,
    cwd: Path | str = PROJECT_ROOT,
) -> Measured:
    """Run `command` in `cwd` to its end (or kill it after `timeout`), with its time and peak
    memory."""
    load = os.getloadavg()[0]
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(command)}\n".encode())
        out.flush()
        started = time.time()
        clock = time.perf_counter()
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        sampler = TreeSampler(process.pid)
        sampler.start()
        killer = threading.Timer(timeout, os.killpg, (process.pid, signal.SIGKILL))
        killer.start()
        # wait4, not Popen.wait: it returns the child's resource usage, which covers the
        # descendants it waited for (dbt under Dagster) as well.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - clock
        killer.cancel()
        sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        label=label,
        seconds=seconds,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_tree=sampler.peak(),
        peak_proc=usage.ru_maxrss * 1024,
        returncode=process.returncode,
        load=load,
        started=started,
        sampler=sampler,
    )


# --- corpora -------------------------------------------------------------------------------


def corpus(size: str, log: Path) -> tuple[Path, int, int]:
    """The raw/ folder for a size, its number of figures and of source folders.

    Synthetic corpora are generated once and cached (the generator is deterministic); a folder
    is only used once it is complete, so an interrupted generation starts again.
    """
    if size == "seed":
        folder = PROJECT_ROOT / "raw"
    else:
        folder = CORPORA / f"{int(size):d}-{GENERATOR_SEED}-v{GENERATOR_VERSION}"
        if not (folder / ".complete").exists():
            partial = folder.with_name(folder.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            print(f"  generating {int(size):,} synthetic figures in {folder} ...", flush=True)
            with log.open("ab") as out:
                subprocess.run(
                    [sys.executable, "-m", "benchmarks.generate", "--figures", size,
                     "--out", str(partial), "--seed", str(GENERATOR_SEED)],
                    cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, check=True,
                )  # fmt: skip
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
            (folder / ".complete").write_text("synthetic benchmark corpus\n")
    files = sorted(folder.glob("*/figures.csv"))
    figures = 0
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            figures += sum(1 for _ in csv.reader(handle)) - 1
    return folder, figures, len(files)


# --- the floor: compiled SQL, one connection -----------------------------------------------


def _order(nodes: dict[str, dict]) -> list[dict]:
    """Nodes in dependency order (dbt's DAG, restricted to the nodes given)."""
    done: set[str] = set()
    ordered: list[dict] = []

    def visit(unique_id: str) -> None:
        if unique_id in done or unique_id not in nodes:
            return
        done.add(unique_id)
        for parent in nodes[unique_id].get("depends_on", {}).get("nodes", []):
            visit(parent)
        ordered.append(nodes[unique_id])

    for unique_id in sorted(nodes):
        visit(unique_id)
    return ordered


def floor(manifest_path: Path, database: str, summary: Path) -> None:
    """Build every seed, model and test of the compiled manifest with plain DuckDB SQL."""
    import duckdb

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("seed", "model", "test")
        and node["config"].get("enabled", True)
    }
    counts = {"seed": 0, "model": 0, "test": 0}
    failing = []
    seconds: dict[str, float] = {}
    with duckdb.connect(database) as conn:
        for node in _order(nodes):
            started = time.perf_counter()
            kind = node["resource_type"]
            relation = node.get("relation_name")
            if kind in ("seed", "model"):
                conn.execute(f'create schema if not exists "{node["schema"]}"')
            if kind == "seed":
                path = Path(node["root_path"]) / node["original_file_path"]
                conn.execute(
                    f"create or replace table {relation} as "
                    f"select * from read_csv('{path}', header = true)"
                )
            elif kind == "model":
                materialized = node["config"]["materialized"]
                if materialized == "ephemeral":
                    continue  # inlined as a CTE in the models that use it
                what = "view" if materialized == "view" else "table"
                conn.execute(f"create or replace {what} {relation} as {node['compiled_code']}")
            else:
                found = conn.execute(
                    f"select count(*) from ({node['compiled_code']}) as test"
                ).fetchone()[0]
                if found:
                    failing.append(node["name"])
            counts[kind] += 1
            seconds[node["name"]] = time.perf_counter() - started
    slowest = dict(sorted(seconds.items(), key=lambda item: -item[1])[:SLOWEST_NODES])
    summary.write_text(
        json.dumps({"built": counts, "failing_tests": failing, "slowest": slowest}),
        encoding="utf-8",
    )


# --- the Dagster run's steps ---------------------------------------------------------------


def steps() -> None:
    """The latest run of $DAGSTER_HOME: each step's start, end, and what it reported (JSON)."""
    import dagster as dg

    instance = dg.DagsterInstance.get()
    (run,) = instance.get_runs(limit=1)
    found: dict[str, dict] = {}
    for entry in instance.all_logs(run.run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        step = found.setdefault(
            event.step_key, {"start": None, "end": None, "assets": [], "checks": 0}
        )
        kind = event.event_type_value
        if kind == "STEP_START":
            step["start"] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            step["end"] = entry.timestamp
            step["ok"] = kind == "STEP_SUCCESS"
        elif kind == "ASSET_MATERIALIZATION":
            step["assets"].append(event.asset_key.path)
            written = event.event_specific_data.materialization.metadata.get("copy_written")
            if written is not None:  # how the published DuckDB copy was written
                step["copy_written"] = written.value
        elif kind == "ASSET_CHECK_EVALUATION":
            step["checks"] += 1
    print(json.dumps({"run_id": run.run_id, "status": run.status.value, "steps": found}))


STAGES = ("load", "validate", "dbt build", "publish")


def stage_of(step: dict) -> str:
    """Which stage a step belongs to, from the asset keys it materialized."""
    prefixes = {key[0] for key in step["assets"]}
    if any(prefix.startswith("publish") for prefix in prefixes):
        return "publish"
    if "raw" in prefixes:
        return "load"
    if not prefixes:
        return "validate"
    return "dbt build"


# --- one size ------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    seconds: float | None
    rows: int
    cpu: float | None = None
    peak_tree: int | None = None
    peak_proc: int | None = None
    load: float | None = None
    note: str = ""

    def cells(self) -> list[str]:
        rate = f"{self.rows / self.seconds:,.0f}" if self.seconds and self.rows else ""
        return [
            self.label,
            f"{self.seconds:.2f}" if self.seconds is not None else "-",
            f"{self.cpu:.2f}" if self.cpu is not None else "",
            rate,
            _mb(self.peak_tree),
            _mb(self.peak_proc),
            f"{self.load:.2f}" if self.load is not None else "",
            self.note,
        ]


HEADER = ["measurement", "wall s", "CPU s", "figures/s", "peak tree MB", "peak proc MB"]
HEADER += ["load 1m", "note"]


def _mb(value: int | None) -> str:
    return f"{value / 2**20:,.0f}" if value else ""


def _table(rows: Iterable[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def _from(measured: Measured, label: str, rows: int, note: str = "") -> Row:
    failed = f"FAILED (exit {measured.returncode}); " if measured.returncode else ""
    if measured.returncode == -signal.SIGKILL:
        failed = "KILLED at the time limit; "
    return Row(
        label,
        measured.seconds,
        rows,
        measured.cpu,
        measured.peak_tree,
        measured.peak_proc,
        measured.load,
        failed + note,
    )


def _errors(log: Path) -> str:
    """The `error:` lines `make run` printed last (orchestration/run.py), for the table."""
    text = log.read_text(encoding="utf-8", errors="replace")
    last = text[text.rfind("\n$ ") :].splitlines()  # the output of the last command only
    found = [line.removeprefix("error: ")[:160] for line in last if line.startswith("error: ")]
    return "; ".join(found[-3:])


def _json_line(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


# The size of the new source in the row that adds one to a built warehouse.
NEW_SOURCE_FIGURES = 100
NEW_SOURCE_ROWS = (
    (f"one new {NEW_SOURCE_FIGURES}-figure source", "incremental: dbt and the published copy"),
    (
        f"one new {NEW_SOURCE_FIGURES}-figure source, a build retired",
        "incremental, three builds kept before it",
    ),
)


def step_rows(measured: Measured, env: dict, figures: int) -> list[Row]:
    """The latest run's time by stage (from its step events), and what was outside the steps."""
    record = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "steps"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    run_steps = _json_line(record.stdout)["steps"] if record.returncode == 0 else {}
    rows = []
    inside = 0.0
    for stage in STAGES:
        chosen = {k: s for k, s in run_steps.items() if stage_of(s) == stage and s["end"]}
        if not chosen:
            continue
        seconds = sum(s["end"] - s["start"] for s in chosen.values())
        inside += seconds
        peak = max(measured.sampler.peak(s["start"], s["end"]) for s in chosen.values())
        note = ", ".join(sorted(chosen))
        note += "".join(
            f"; the DuckDB copy {s['copy_written']}" for s in chosen.values() if "copy_written" in s
        )
        rows.append(Row(f"  {stage}", seconds, figures, None, peak, note=note))
    rows.append(
        Row(
            "  outside the steps",
            measured.seconds - inside,
            0,
            note="interpreter start, imports, instance, run records, summary",
        )
    )
    return rows


def bench_size(
    size: str, work: Path, env: dict, timeout: float, compiled: Path, rerun: bool = True
) -> list[Row]:
    """Every measurement of one size; the warehouse is left loaded and built."""
    log = work / "bench.log"
    folder, figures, sources = corpus(size, log)
    if size == "seed":  # a copy: the last row adds a source folder, never to the real raw/
        folder = Path(shutil.copytree(folder, work / "raw-seed"))
    home = work / f"dagster_home-{size}"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    env = {**env, "DAGSTER_HOME": str(home), "RAW_DIR": str(folder)}
    warehouse = Path(env["WAREHOUSE_PATH"])
    for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(warehouse.parent / f".{warehouse.name}.failed", ignore_errors=True)
    # and no published build of another size: the builds a run finds are its own size's
    # (an earlier size's would be the build a publish retires: orchestration/published_copy.py)
    snapshots.remove_tree(Path(env[PUBLISH_DIR_ENV]))
    what = "the seed article (real)" if size == "seed" else "synthetic"
    print(f"\n{figures:,} figures in {sources:,} source folders ({what})", flush=True)

    run = [sys.executable, "-m", "orchestration.run"]
    first = measure("make run", run, env, log, timeout)
    print(f"  make run: {first.seconds:.1f} s", flush=True)
    why = _errors(log) if first.returncode else ""
    rows = [_from(first, "make run, empty warehouse", figures, why)]
    rows += step_rows(first, env, figures)

    if rerun:
        again = measure("make run", run, env, log, timeout)
        print(f"  make run, raw/ unchanged: {again.seconds:.1f} s", flush=True)
        why = _errors(log) if again.returncode else ""
        rows.append(_from(again, "make run, raw/ unchanged", figures, why))

    # The daily case with a new article: one more source folder, then `make run` again. Then
    # the folder goes and an untimed run takes its rows out, so the baselines below build the
    # same data as the first run. Twice: the second time three builds are kept, and the
    # publish takes the DuckDB file of the one it retires (orchestration/published_copy.py),
    # as every daily run does from the fourth build on; the first time it copies the only
    # earlier build's file.
    added = NEW_SOURCE_FIGURES
    extra = folder / f"synthetic-new-{added}"
    for label, note in NEW_SOURCE_ROWS:
        try:
            generate.write_source(extra, added, seed=7)
            grown = measure("make run", run, env, log, timeout)
            print(f"  make run, {label}: {grown.seconds:.1f} s", flush=True)
            why = _errors(log) if grown.returncode else note
            rows.append(_from(grown, f"make run, {label}", figures + added, why))
            rows += step_rows(grown, env, figures + added)
        finally:
            shutil.rmtree(extra, ignore_errors=True)
        measure("make run", run, env, log, timeout)

    if not warehouse.exists():
        # A failed run keeps its build beside the warehouse (orchestration/run.py): the
        # baselines run on that, so they still compare with the same data.
        kept = warehouse.parent / f".{warehouse.name}.failed" / warehouse.name
        if kept.exists():
            warehouse = kept
            env = {**env, "WAREHOUSE_PATH": str(kept)}
    project = env["DBT_PROJECT_DIR"]
    # in full, as the first run above built: the build `make run` is compared with
    dbt = [str(BIN / "dbt"), *DBT_BUILD, "--full-refresh", "--project-dir", project]
    # started as a run's dbt is (orchestration/paths.py, dbt_process): the same profile
    folder, env_dbt = dbt_process(PROJECT_ROOT, {**env, "DBT_PROFILES_DIR": project})
    # Untimed: a parse, so that the timed build finds its partial parse valid whatever ran last
    # in the target folder (dbt keys its parse on the profile, which names the file).
    subprocess.run(
        [str(BIN / "dbt"), "parse", "--quiet", "--project-dir", project],
        env=env_dbt, cwd=folder, check=False, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    bare = measure("dbt build", dbt, env_dbt, log, timeout, cwd=folder)
    print(f"  bare dbt build: {bare.seconds:.1f} s", flush=True)
    rows.append(
        _from(bare, "bare `dbt build --full-refresh`", figures, "same project, loaded warehouse")
    )

    if not compiled.exists():
        subprocess.run(
            [str(BIN / "dbt"), "compile", "--quiet", "--full-refresh", "--project-dir", project,
             "--target-path", str(compiled.parent)],
            env=env_dbt,
            cwd=folder, check=False, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    if not compiled.exists():
        rows.append(Row("floor", None, figures, note="`dbt compile` failed: see the log"))
        return rows
    summary = work / f"floor-{size}.json"
    command = [sys.executable, "-m", "benchmarks.run", "floor", str(compiled), str(warehouse)]
    least = measure("floor", [*command, str(summary)], env, log, timeout)
    print(f"  floor (compiled SQL, one connection): {least.seconds:.1f} s", flush=True)
    note = ""
    if summary.exists():
        built = json.loads(summary.read_text(encoding="utf-8"))
        note = ", ".join(f"{n} {kind}s" for kind, n in built["built"].items())
        if built["failing_tests"]:
            note += f"; failing: {', '.join(built['failing_tests'])}"
        slowest = ", ".join(f"{name} {s:.2f} s" for name, s in built["slowest"].items())
        note += f"; slowest: {slowest}"
    rows.append(_from(least, "floor: compiled SQL, one DuckDB connection", figures, note))

    return rows


# --- the report ----------------------------------------------------------------------------


def machine() -> list[str]:
    """CPU, cores, memory and versions: what a reader needs to compare these numbers."""
    cpu = platform.processor() or "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as handle:
        total_kb = int(re.search(r"MemTotal:\s+(\d+)", handle.read()).group(1))
    versions = ", ".join(f"{p} {importlib.metadata.version(p)}" for p in PACKAGES)
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {total_kb / 2**20:.1f} GiB; "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; {versions}",
        f"- DBT_THREADS={os.environ.get('DBT_THREADS', '1')}",
    ]


def report(results: dict[str, tuple[list[Row], datetime, tuple]]) -> dict[str, str]:
    """The markdown blocks of a run: the machine, then one per size, each with its own markers."""
    blocks = {"machine": "\n".join(machine()) + "\n"}
    for size, (rows, started, loads) in results.items():
        title = "the seed article (real data)" if size == "seed" else f"{int(size):,} synthetic"
        blocks[size] = (
            f"#### {title}: {rows[0].rows:,} figures\n\n"
            f"Measured {started:%Y-%m-%d %H:%M} UTC; load average at the start "
            f"{' '.join(f'{x:.2f}' for x in loads)} (1, 5, 15 min).\n\n{_table(rows)}\n"
        )
    return blocks


def write_results(path: Path, blocks: dict[str, str]) -> None:
    """Replace each block between its markers in RESULTS.md (appending new ones at the end),
    keeping the text around them: a run of some sizes leaves the others' tables as they were.
    """
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    for name, text in blocks.items():
        start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
        block = f"{start}\n{text}{end}"
        if start in current and end in current:
            head, rest = current.split(start, 1)
            current = head + block + rest.split(end, 1)[1]
        else:
            current = f"{current.rstrip()}\n\n{block}\n"
    path.write_text(current, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    step_parser = sub.add_parser("steps", help="(internal) the latest run's steps, as JSON")
    step_parser.set_defaults(command="steps")
    floor_parser = sub.add_parser("floor", help="(internal) the compiled SQL, one connection")
    floor_parser.add_argument("manifest", type=Path)
    floor_parser.add_argument("database")
    floor_parser.add_argument("summary", type=Path)
    parser.add_argument(
        "--sizes",
        default=os.environ.get("SIZES") or DEFAULT_SIZES,
        help="comma-separated numbers of figures, `seed` for raw/ (default: $SIZES, else "
        f"{DEFAULT_SIZES})",
    )
    parser.add_argument("--results", type=Path, help="update the generated part of this file")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--no-rerun", action="store_true", help="skip the second run on unchanged raw/"
    )
    args = parser.parse_args(argv)
    if args.command == "steps":
        steps()
        return 0
    if args.command == "floor":
        floor(args.manifest, args.database, args.summary)
        return 0

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    started = datetime.now(UTC)
    BENCH_DIR.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=os.environ.get("TMPDIR")))
    # A snapshot of the dbt project: every size runs the same models, whatever is edited
    # meanwhile (orchestration/paths.py reads DBT_PROJECT_DIR).
    project = work / "dbt_project"
    shutil.copytree(
        DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "WAREHOUSE_PATH": str(work / "warehouse.duckdb"),
        PUBLISH_DIR_ENV: str(work / "published"),  # never the folder readers use
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(project),
        "DBT_TARGET_PATH": str(project / "target"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    print(f"Benchmark folder: {work} (log: {work / 'bench.log'})")
    # The manifest and dbt's partial parse, as `make run` prepares them (orchestration/prepare.py),
    # so the runs below need not parse (partial parsing keys on the profile, which names the path).
    subprocess.run(
        [sys.executable, "-m", "orchestration.prepare"], env=env, cwd=PROJECT_ROOT, check=True
    )
    compiled = work / "compiled" / "manifest.json"
    results: dict[str, tuple[list[Row], datetime, tuple]] = {}
    try:
        for size in sizes:
            at, loads = datetime.now(UTC), os.getloadavg()
            rows = bench_size(size, work, env, args.timeout, compiled, not args.no_rerun)
            results[size] = (rows, at, loads)
    finally:
        blocks = report(results)
        text = "\n".join(blocks.values())
        print("\n" + text)
        stamp = started.strftime("%Y%m%dT%H%M%S")
        (BENCH_DIR / f"results-{stamp}.md").write_text(text, encoding="utf-8")
        if args.results:
            write_results(args.results, blocks)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
