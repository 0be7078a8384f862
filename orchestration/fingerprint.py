"""What a build was made from: each source folder's hash, the dbt project and the code.

The job records it when it publishes a build (`build.json` and the copy's `meta.build`:
orchestration/publish.py), whatever started the run. `make run` compares raw/ and the code now
with what the current published build was made from, and stops at once when they are the same;
`FORCE=1` rebuilds anyway. The raw/ sensor compares each folder's hash with the build's.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from orchestration.paths import DBT_PROJECT_DIR, PROJECT_ROOT, dbt_project_files

FORCE_ENV = "FORCE"


def _code_files(project_dir: Path = DBT_PROJECT_DIR, python: bool = True) -> list[tuple[str, Path]]:
    """(name, path) of every file of the dbt project, uv.lock and (with `python`) the code."""
    dbt = dbt_project_files(project_dir)
    code = [*(PROJECT_ROOT / "orchestration").rglob("*.py")] if python else []
    named = [(f"dbt/{p.relative_to(project_dir)}", p) for p in dbt]
    named += [(str(p.relative_to(PROJECT_ROOT)), p) for p in [*code, PROJECT_ROOT / "uv.lock"]]
    return sorted((name, path) for name, path in named if path.is_file())


def _update(digest, files: list[tuple[str, Path]]) -> None:
    for name, path in files:
        digest.update(f"file {name}\n".encode())
        digest.update(path.read_bytes())


def dbt_project_hash(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """sha256 over the files dbt parses and uv.lock (the dbt and adapter versions): what a dbt
    build's result depends on besides the data (orchestration/build_state.py)."""
    digest = hashlib.sha256()
    _update(digest, _code_files(project_dir, python=False))
    return digest.hexdigest()


def source_hashes(raw: Path) -> dict[str, str]:
    """{source_id: hash of its files, its article text and the contract} for raw/ now."""
    from orchestration.confine import printable
    from orchestration.ingestion.folder_files import discover
    from orchestration.ingestion.folder_hashes import FolderHashes

    kept = FolderHashes.of_instance()
    # keyed as the loader records a source (a name that is not UTF-8 written as \xff)
    hashes = {printable(folder.name): kept.hash(folder) for folder in discover(raw)}
    kept.save()
    return hashes


def inputs_hash(sources: dict[str, str]) -> str:
    """sha256 over every source folder's hash, the dbt project and the code."""
    digest = hashlib.sha256()
    for source_id, folder_hash in sorted(sources.items()):
        digest.update(f"source {source_id} {folder_hash}\n".encode())
    _update(digest, _code_files())
    return digest.hexdigest()
