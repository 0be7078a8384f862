"""The warehouse's Dagster code: load raw/, check it, build the dbt project, publish the marts.

dbt runs in a process of its own (orchestration/bin/dbt), never in Dagster's. dagster-dbt still
imports dbt-core into Dagster's process when it finds it (dagster_dbt/compat.py), to evaluate
dbt selection strings; with dbt-core absent it reads the same selection, every node, from the
manifest. This project selects every node, so dbt-core stays out: the asset graph is the same
(tests/test_definitions.py) and each process that loads the definitions (`make run`, every run
from the UI, the code server) starts without importing it (benchmarks/RESULTS.md).
"""

import sys

sys.modules.setdefault("dbt.version", None)
