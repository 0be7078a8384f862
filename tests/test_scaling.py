"""The MotherDuck target, without a network: dbt's profile and Dagster's resource agree on `md:`.

Nothing here connects: dbt's own profile loader renders profiles.yml as `dbt build` would, and
the DuckDB resource's config is resolved, not opened.
"""

from __future__ import annotations

import inspect
import os
import sys
from argparse import Namespace
from importlib.metadata import version

import pytest
from dagster_dbt import DbtCliResource

from orchestration.paths import (
    DBT_PROJECT_DIR,
    WAREHOUSE_ENV,
    is_motherduck,
    warehouse_location,
    warehouse_path,
)
from orchestration.resources import (
    DUCKDB_TOKEN_ENV,
    WarehouseDbtCliResource,
    build_resources,
    configure_environment,
)

ENVIRONMENT = (
    "DBT_TARGET", "MOTHERDUCK_DATABASE", "MOTHERDUCK_TOKEN", DUCKDB_TOKEN_ENV, WAREHOUSE_ENV,
)  # fmt: skip


@pytest.fixture
def env(monkeypatch):
    """A clean slate of the variables that pick the warehouse; restored after the test."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def dbt_profile():
    """profiles.yml rendered by dbt itself, for the target DBT_TARGET picks."""
    # orchestration/__init__.py keeps dbt-core out of Dagster's process; this test loads it.
    if "dbt.version" in sys.modules and sys.modules["dbt.version"] is None:
        del sys.modules["dbt.version"]
    from dbt.config.runtime import load_profile
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    set_invocation_context(os.environ.copy())
    set_from_args(Namespace(profiles_dir=str(DBT_PROJECT_DIR)), None)
    return load_profile(str(DBT_PROJECT_DIR), {}, None, None)


def test_motherduck_target_reads_database_and_token_from_the_environment(env):
    env(DBT_TARGET="motherduck", MOTHERDUCK_DATABASE="giants_prod", MOTHERDUCK_TOKEN="t0ken")
    profile = dbt_profile()
    assert profile.target_name == "motherduck"
    assert profile.credentials.path == "md:giants_prod"
    assert profile.credentials.database == "giants_prod"
    assert profile.credentials.settings["motherduck_token"] == "t0ken"
    assert warehouse_location() == "md:giants_prod"


def test_motherduck_target_defaults_to_the_giants_database(env):
    env(DBT_TARGET="motherduck", MOTHERDUCK_TOKEN="t0ken")
    assert dbt_profile().credentials.path == "md:giants"
    assert warehouse_location() == "md:giants"


def test_an_md_warehouse_path_wins_on_both_sides(env):
    env(DBT_TARGET="motherduck", MOTHERDUCK_TOKEN="t0ken", WAREHOUSE_PATH="md:shared")
    assert dbt_profile().credentials.path == "md:shared"
    assert warehouse_location() == "md:shared"


def test_motherduck_target_without_a_token_fails_naming_the_variable(env):
    env(DBT_TARGET="motherduck")
    with pytest.raises(Exception, match="MOTHERDUCK_TOKEN"):
        dbt_profile()


def test_local_target_needs_no_token_and_uses_the_warehouse_file(env, tmp_path):
    env(WAREHOUSE_PATH=str(tmp_path / "warehouse.duckdb"))
    profile = dbt_profile()
    assert profile.target_name == "local"
    assert profile.credentials.path == str(tmp_path / "warehouse.duckdb")


def test_dagster_resource_opens_what_dbt_writes(env):
    env(DBT_TARGET="motherduck", MOTHERDUCK_DATABASE="giants_prod", MOTHERDUCK_TOKEN="t0ken")
    assert configure_environment() == "md:giants_prod"
    assert os.environ[WAREHOUSE_ENV] == "md:giants_prod"
    assert os.environ[DUCKDB_TOKEN_ENV] == "t0ken"  # the name DuckDB's extension reads
    duckdb = build_resources()["duckdb"].process_config_and_initialize()
    assert duckdb.database == dbt_profile().credentials.path == "md:giants_prod"


def test_an_md_warehouse_path_survives_path_handling(env):
    env(WAREHOUSE_PATH="md:giants")
    path = warehouse_path()
    assert is_motherduck(path)
    assert str(path) == "md:giants"  # what duckdb.connect() receives
    assert not path.exists()


def test_a_relative_warehouse_path_is_made_absolute_for_dagster_and_dbt(env, tmp_path, monkeypatch):
    # dbt runs in dbt_project/, Dagster where it was started: a relative path would be two files.
    monkeypatch.chdir(tmp_path)
    env(WAREHOUSE_PATH="some/warehouse.duckdb")
    assert configure_environment() == str(tmp_path.resolve() / "some" / "warehouse.duckdb")


def test_dbt_start_up_shortcuts_still_fit_dagster_dbt():
    """The two private hooks WarehouseDbtCliResource replaces are still the ones cli() calls."""
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source
    assert "self._initialize_dbt_core_adapter(" in source
    dbt = build_resources()["dbt"]
    assert isinstance(dbt, WarehouseDbtCliResource)
    assert str(dbt._cli_version) == version("dbt-core")
    assert dbt._initialize_dbt_core_adapter(["build"]) is None
