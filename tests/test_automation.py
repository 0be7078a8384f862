"""The raw/ sensor, tick by tick on a private raw folder, and the marts' freshness policy."""

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from orchestration.automation import MART_FRESHNESS, raw_folder_sensor
from orchestration.definitions import defs
from orchestration.ingestion.raw_files import folder_hash
from orchestration.paths import PROJECT_ROOT, RAW_DIR_ENV
from tests.conftest import copy_raw, query

SEED = "hedgehog-2025-03-27"
SYNTHETIC = PROJECT_ROOT / "tests" / "fixtures" / "synthetic-2025-01-01"


@pytest.fixture
def raw(tmp_path, monkeypatch) -> Path:
    """A copy of raw/ that RAW_DIR points at, for this test only."""
    folder = copy_raw(tmp_path / "raw")
    monkeypatch.setenv(RAW_DIR_ENV, str(folder))
    return folder


def tick(cursor: str | None) -> dg.SensorResult:
    return raw_folder_sensor(dg.build_sensor_context(cursor=cursor))


def baseline() -> str:
    """The cursor after a first tick on `raw`."""
    return tick(None).cursor


def test_the_sensor_is_registered_on_and_targets_the_warehouse_job():
    sensor = defs.resolve_sensor_def("raw_folder_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "warehouse"


def test_first_tick_records_the_hashes_and_requests_nothing(raw):
    result = tick(None)
    assert not result.run_requests
    assert json.loads(result.cursor) == {SEED: folder_hash(raw / SEED)}
    assert result.skip_reason.skip_message.startswith("Watching 1 source folder(s)")


def test_nothing_changed_requests_nothing(raw):
    cursor = baseline()
    result = tick(cursor)
    assert not result.run_requests
    assert result.skip_reason.skip_message == "No source folder in raw/ changed."
    assert result.cursor is None  # the cursor stays where it was


def test_an_added_folder_requests_a_run_tagged_with_it(raw):
    cursor = baseline()
    shutil.copytree(SYNTHETIC, raw / "synthetic-2025-01-01")
    result = tick(cursor)
    [request] = result.run_requests
    assert request.tags == {"raw/added": "synthetic-2025-01-01"}
    assert request.run_key.startswith("raw-")
    assert json.loads(result.cursor) == {
        SEED: folder_hash(raw / SEED),
        "synthetic-2025-01-01": folder_hash(raw / "synthetic-2025-01-01"),
    }
    assert not tick(result.cursor).run_requests  # handled once, not again


def test_a_changed_folder_requests_a_run_tagged_with_it(raw):
    cursor = baseline()
    figures = raw / SEED / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    result = tick(cursor)
    [request] = result.run_requests
    assert request.tags == {"raw/changed": SEED}
    assert json.loads(result.cursor) == {SEED: folder_hash(raw / SEED)}
    assert json.loads(result.cursor) != json.loads(cursor)


def test_a_removed_folder_requests_a_run_so_its_rows_are_dropped(raw):
    shutil.copytree(SYNTHETIC, raw / "synthetic-2025-01-01")
    cursor = baseline()
    shutil.rmtree(raw / "synthetic-2025-01-01")
    result = tick(cursor)
    [request] = result.run_requests
    assert request.tags == {"raw/removed": "synthetic-2025-01-01"}
    assert json.loads(result.cursor) == {SEED: folder_hash(raw / SEED)}


def test_several_changes_in_one_tick_make_one_run_naming_each(raw):
    shutil.copytree(SYNTHETIC, raw / "old-source")
    cursor = baseline()
    shutil.rmtree(raw / "old-source")
    shutil.copytree(SYNTHETIC, raw / "synthetic-2025-01-01")
    (raw / SEED / "source.yaml").write_text("changed: true\n", encoding="utf-8")
    [request] = tick(cursor).run_requests
    assert request.tags == {
        "raw/added": "synthetic-2025-01-01",
        "raw/changed": SEED,
        "raw/removed": "old-source",
    }


def test_the_run_key_is_the_change_so_a_retried_tick_is_not_run_twice(raw):
    cursor = baseline()
    figures = raw / SEED / "figures.csv"
    original = figures.read_text(encoding="utf-8")
    figures.write_text(original + "\n", encoding="utf-8")
    first, retried = tick(cursor), tick(cursor)
    assert first.run_requests[0].run_key == retried.run_requests[0].run_key
    figures.write_text(original + "\n\n", encoding="utf-8")
    other = tick(cursor)
    assert other.run_requests[0].run_key != first.run_requests[0].run_key
    figures.write_text(original, encoding="utf-8")
    reverted = tick(first.cursor)
    assert reverted.run_requests[0].tags == {"raw/changed": SEED}
    assert reverted.run_requests[0].run_key != first.run_requests[0].run_key


def test_a_missing_raw_folder_fails_the_tick_saying_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv(RAW_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(Exception, match="set RAW_DIR or create raw/"):
        tick(None)


def test_every_mart_and_only_the_marts_carry_the_freshness_policy():
    graph = defs.resolve_asset_graph()
    policies = {key: graph.get(key).freshness_policy for key in graph.get_all_asset_keys()}
    marts = {key for key in policies if key.path[0] == "marts"}
    assert {dg.AssetKey(["marts", "company_segments"]), dg.AssetKey(["marts", "figures"])} <= marts
    assert {key for key, policy in policies.items() if policy is not None} == marts
    assert all(policies[key] == MART_FRESHNESS for key in marts)
    assert MART_FRESHNESS.fail_window.to_timedelta().days == 2


def test_freshness_adds_no_step_to_the_warehouse_job():
    """Policies are evaluated by the freshness daemon, not by runs: the job's checks are unchanged."""
    job = defs.resolve_job_def("warehouse")
    checks = {key.name for key in job.asset_layer.asset_graph.asset_check_keys}
    assert not any("fresh" in name for name in checks)


def test_the_warehouse_job_still_builds_with_the_policies_attached(built_warehouse):
    # built_warehouse (conftest) asserts the run succeeded with every check passing.
    sql = (
        "select revenue_cny_bn from marts.company_segments "
        "where company_segment_id = 'tencent|games||2024'"
    )
    assert query(built_warehouse, sql) == [(197.7,)]


def test_an_edited_article_text_is_a_change(raw):
    """The text decides which quotes pass: editing it must reload the source, as a file would."""
    shutil.copytree(SYNTHETIC, raw / SYNTHETIC.name)
    first = tick(None)
    (raw / SYNTHETIC.name / "article.txt").write_text(
        (SYNTHETIC / "article.txt").read_text(encoding="utf-8") + "\n补充一句。\n", "utf-8"
    )
    result = tick(first.cursor)
    (request,) = result.run_requests
    assert request.tags["raw/changed"] == SYNTHETIC.name
