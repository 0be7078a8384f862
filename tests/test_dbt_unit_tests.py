"""dbt's unit tests: each mart's SQL on fixed rows (the `unit_tests:` of each `models/marts/<mart>.yml`).

A run leaves them out (orchestration/paths.py, DBT_BUILD): they check code, not data, so they
run here, where the code changes.
"""

import json
import shutil

from tests.helpers import dbt


def test_every_dbt_unit_test_passes(built_warehouse, tmp_path):
    # dbt types the given rows from the upstream relations, so it needs a built warehouse: a copy.
    warehouse = shutil.copy(built_warehouse, tmp_path / "warehouse.duckdb")
    target = tmp_path / "target"
    result = dbt(["test", "--select", "test_type:unit"], warehouse, target, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    assert {r["status"] for r in results} == {"pass"}
    assert len(results) >= 8, [r["unique_id"] for r in results]
