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


def _code_files() -> list[tuple[str, Path]]:
    """(name, path) of every file of the dbt project and of the code a build runs."""
    dbt = dbt_project_files()
    code = [*(PROJECT_ROOT / "orchestration").rglob("*.py"), PROJECT_ROOT / "uv.lock"]
    named = [(f"dbt/{p.relative_to(DBT_PROJECT_DIR)}", p) for p in dbt]
    named += [(str(p.relative_to(PROJECT_ROOT)), p) for p in code]
    return sorted((name, path) for name, path in named if path.is_file())


def source_hashes(raw: Path) -> dict[str, str]:
    """{source_id: hash of its files, its article text and the contract} for raw/ now."""
    from orchestration.ingestion.raw_files import discover, folder_hash

    return {folder.name: folder_hash(folder) for folder in discover(raw)}


def inputs_hash(sources: dict[str, str]) -> str:
    """sha256 over every source folder's hash, the dbt project and the code."""
    digest = hashlib.sha256()
    for source_id, folder_hash in sorted(sources.items()):
        digest.update(f"source {source_id} {folder_hash}\n".encode())
    for name, path in _code_files():
        digest.update(f"file {name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
