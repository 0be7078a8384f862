"""The raw/ sensor, tick by tick on a private raw folder, and the marts' freshness policy."""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration import fingerprint, snapshots
from orchestration.automation import (
    DEFAULT_INTERVAL_SECONDS,
    INTERVAL_ENV,
    MART_FRESHNESS,
    SETTLE_ENV,
    dead_run_sensor,
    raw_folder_sensor,
    sensor_interval_seconds,
    settle_seconds,
    settled_view,
)
from orchestration.definitions import defs
from orchestration.ingestion.folder_files import folder_hash
from orchestration.ingestion.load import load_raw
from orchestration.locking import PID_TAG
from orchestration.paths import PROJECT_ROOT, PUBLISH_DIR_ENV, RAW_DIR_ENV
from tests.conftest import copy_raw, query

SEED = "hedgehog-2025-03-27"
SYNTHETIC = PROJECT_ROOT / "tests" / "fixtures" / "synthetic-2025-01-01"


SETTLED = 0  # RAW_SETTLE_SECONDS for the tests that do not test settling


@pytest.fixture
def raw(tmp_path, monkeypatch) -> Path:
    """A copy of the seed folder that RAW_DIR points at, published as if a run had built it."""
    folder = copy_raw(tmp_path / "raw")
    monkeypatch.setenv(RAW_DIR_ENV, str(folder))
    monkeypatch.setenv(PUBLISH_DIR_ENV, str(tmp_path / "published"))
    monkeypatch.setenv(SETTLE_ENV, str(SETTLED))
    publish(tmp_path / "published", {SEED: folder_hash(folder / SEED)})
    return folder


def publish(folder: Path, sources: dict[str, str]) -> str:
    """A published build made from `sources` (the record the sensor compares raw/ with), with
    an id of its own as a run's (two in one second differ)."""
    build_id = snapshots.new_build_id(uuid.uuid4().hex)
    partial = snapshots.partial_folder(folder, build_id)
    partial.mkdir(parents=True)
    (partial / "giants.duckdb").write_bytes(b"")
    info = {"build_id": build_id, "run_id": "r", "inputs_hash": "h", "sources": sources}
    snapshots.write_build_info(partial, {**info, "built_at": "now"})
    snapshots.switch(folder, partial, build_id)
    return build_id


def stand_in_job(name: str = "warehouse") -> dg.JobDefinition:
    """A job named as the warehouse job (or `name`), with one step. The sensors look at a run's
    job name, status and tags only; a run of the real job records a planned event for each of
    its assets and checks first, which is all these tests would time."""

    @dg.asset
    def placeholder() -> None: ...

    job = dg.define_asset_job(name, selection=[placeholder])
    return dg.Definitions(assets=[placeholder], jobs=[job]).resolve_job_def(name)


def tick(cursor: str | None = None, instance=None) -> dg.SensorResult:
    # An in-memory instance: the sensor reads runs from it, and it costs nothing to set up.
    instance = instance or dg.DagsterInstance.ephemeral()
    return raw_folder_sensor(dg.build_sensor_context(cursor=cursor, instance=instance))


def test_the_sensors_are_registered_on_and_target_the_warehouse_job():
    sensor = defs.resolve_sensor_def("raw_folder_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "warehouse"
    dead = defs.resolve_sensor_def("dead_run_sensor")
    assert dead.default_status == dg.DefaultSensorStatus.RUNNING
    # as often as the daemon looks at all: a dead run holds the queue until it is marked
    assert dead.minimum_interval_seconds == 5


@pytest.mark.parametrize("value", ["0", "-5", "2.5", "soon"])
def test_a_sensor_interval_that_is_not_whole_seconds_is_refused_naming_the_variable(
    value, monkeypatch
):
    monkeypatch.setenv(INTERVAL_ENV, value)
    with pytest.raises(ValueError, match=f"^{INTERVAL_ENV}='{value}': give a whole number"):
        sensor_interval_seconds()


@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf"])
def test_a_settle_time_that_is_not_seconds_is_refused_naming_the_variable(value, monkeypatch):
    monkeypatch.setenv(SETTLE_ENV, value)
    with pytest.raises(ValueError, match=f"^{SETTLE_ENV}='{value}': give a number of seconds"):
        settle_seconds()


def test_the_sensor_interval_comes_from_the_environment_when_the_definitions_load(monkeypatch):
    monkeypatch.delenv(INTERVAL_ENV, raising=False)
    assert sensor_interval_seconds() == DEFAULT_INTERVAL_SECONDS == 30
    code = "from orchestration.automation import raw_folder_sensor as s; print(s.minimum_interval_seconds)"
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={**os.environ, INTERVAL_ENV: "7"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "7"


def test_raw_as_published_requests_nothing(raw):
    result = tick()
    assert not result.run_requests
    assert result.skip_reason.skip_message.startswith("raw/ is what build ")


def test_a_build_from_another_launcher_counts(raw, tmp_path):
    """Whoever published last (make run, the UI), the sensor compares raw/ with that build."""
    shutil.copytree(SYNTHETIC, raw / SYNTHETIC.name)
    assert tick().run_requests
    publish(tmp_path / "published", fingerprint.source_hashes(raw))
    assert not tick().run_requests


def test_nothing_published_yet_requests_a_first_build(raw, tmp_path):
    snapshots.remove_tree(tmp_path / "published")
    (request,) = tick().run_requests
    assert request.tags == {"raw/added": SEED}


def test_an_added_folder_requests_a_run_tagged_with_it(raw):
    shutil.copytree(SYNTHETIC, raw / "synthetic-2025-01-01")
    result = tick()
    (request,) = result.run_requests
    assert request.tags == {"raw/added": "synthetic-2025-01-01"}
    assert json.loads(result.cursor)["synthetic-2025-01-01"] == folder_hash(
        raw / "synthetic-2025-01-01"
    )


def test_a_changed_folder_requests_a_run_tagged_with_it(raw):
    figures = raw / SEED / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    (request,) = tick().run_requests
    assert request.tags == {"raw/changed": SEED}


def test_a_removed_folder_requests_a_run_so_its_rows_are_dropped(raw, tmp_path):
    shutil.copytree(SYNTHETIC, raw / SYNTHETIC.name)
    publish(tmp_path / "published", fingerprint.source_hashes(raw))
    shutil.rmtree(raw / SYNTHETIC.name)
    (request,) = tick().run_requests
    assert request.tags == {"raw/removed": SYNTHETIC.name}


def test_several_changes_in_one_tick_make_one_run_naming_each(raw):
    shutil.copytree(SYNTHETIC, raw / "synthetic-2025-01-01")
    figures = raw / SEED / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    (request,) = tick().run_requests
    assert request.tags == {"raw/added": "synthetic-2025-01-01", "raw/changed": SEED}


def test_the_run_key_is_the_change_so_the_same_change_is_not_run_twice(raw):
    figures = raw / SEED / "figures.csv"
    original = figures.read_text(encoding="utf-8")
    figures.write_text(original + "\n", encoding="utf-8")
    first, again = tick(), tick()
    assert first.run_requests[0].run_key == again.run_requests[0].run_key
    figures.write_text(original + "\n\n", encoding="utf-8")
    assert tick().run_requests[0].run_key != first.run_requests[0].run_key
    figures.write_text(original, encoding="utf-8")
    assert not tick().run_requests  # back to what was built


def test_a_state_built_before_is_built_again_once_another_was_published(raw, tmp_path):
    """raw/ edited, built, then put back: the sensor requests the old state under a new key,
    since Dagster would skip a run key it has seen (the state alone was its key before)."""
    figures = raw / SEED / "figures.csv"
    original = figures.read_text(encoding="utf-8")
    figures.write_text(original + "\n", encoding="utf-8")
    (edited,) = tick().run_requests
    publish(tmp_path / "published", fingerprint.source_hashes(raw))  # the run built it
    figures.write_text(original, encoding="utf-8")
    (put_back,) = tick().run_requests
    publish(tmp_path / "published", fingerprint.source_hashes(raw))
    figures.write_text(original + "\n", encoding="utf-8")
    (edited_again,) = tick().run_requests
    assert edited_again.tags == edited.tags == {"raw/changed": SEED}
    assert len({edited.run_key, put_back.run_key, edited_again.run_key}) == 3


def test_a_folder_name_that_is_not_utf8_is_keyed_as_the_loader_records_it(raw, tmp_path):
    """A folder named in another encoding (unzipped from GBK): refused by the loader, and
    recorded under its name with the bytes written as \\xff. The sensor and `make run` key it
    the same way, so its run can be stored and, once built, nothing is requested again."""
    shutil.copytree(SYNTHETIC, raw / os.fsdecode(b"gbk-\xb9\xfa"))
    result = tick()
    (request,) = result.run_requests
    assert request.tags == {"raw/added": "gbk-\\xb9\\xfa"}
    json.dumps(request.tags).encode("utf-8")  # a run's tags and the cursor can be stored
    result.cursor.encode("utf-8")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        loaded = load_raw(conn, raw).file_hashes
    assert fingerprint.source_hashes(raw) == loaded
    fingerprint.inputs_hash(loaded)
    publish(tmp_path / "published", loaded)
    assert not tick().run_requests


def test_drafts_are_never_read(raw):
    shutil.copytree(SYNTHETIC, raw / "_draft" / SYNTHETIC.name)
    shutil.copytree(SYNTHETIC, raw / ".hidden")
    assert not tick().run_requests


def test_a_folder_counts_only_once_it_has_settled(raw, monkeypatch):
    monkeypatch.setenv(SETTLE_ENV, "60")
    shutil.copytree(SYNTHETIC, raw / SYNTHETIC.name)
    result = tick()
    assert not result.run_requests
    assert "still being edited: " in result.skip_reason.skip_message
    assert SYNTHETIC.name in result.skip_reason.skip_message
    # a changed seed being edited keeps the hash it was built with
    figures = raw / SEED / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert not tick(result.cursor).run_requests
    later = time.time() + 61
    view, unsettled = settled_view(raw, {}, now=later)
    assert unsettled == [] and set(view) == {SEED, SYNTHETIC.name}
    monkeypatch.setenv(SETTLE_ENV, "0")
    (request,) = tick(result.cursor).run_requests
    assert request.tags == {"raw/added": SYNTHETIC.name, "raw/changed": SEED}


# The `warehouse` job (Launch run, the schedule, the sensor), and the job *Materialize all*
# runs: each builds the warehouse.
@pytest.mark.parametrize("job_name", ["warehouse", "__ASSET_JOB"])
def test_no_run_is_requested_while_one_is_queued_or_in_progress(raw, job_name):
    shutil.copytree(SYNTHETIC, raw / SYNTHETIC.name)
    with dg.DagsterInstance.ephemeral() as instance:
        job = stand_in_job(job_name)
        instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
        result = tick(instance=instance)
    assert not result.run_requests
    assert "is queued or in progress" in result.skip_reason.skip_message


def test_a_missing_raw_folder_fails_the_tick_saying_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv(RAW_DIR_ENV, str(tmp_path / "nowhere"))
    monkeypatch.setenv(PUBLISH_DIR_ENV, str(tmp_path / "published"))
    with pytest.raises(Exception, match="set RAW_DIR or create raw/"):
        tick()


def test_a_run_whose_process_died_is_marked_failed(raw):
    with dg.DagsterInstance.ephemeral() as instance:
        job = stand_in_job()
        dead = subprocess.Popen(["true"])
        dead.wait()
        run = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
        instance.add_run_tags(run.run_id, {PID_TAG: f"{dead.pid}:{run.run_id}"})
        alive = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
        instance.add_run_tags(alive.run_id, {PID_TAG: f"{os.getpid()}:{alive.run_id}"})
        # a retry starts with its parent's tags: the parent's dead pid is not its own
        retry = instance.create_run_for_job(
            job, status=dg.DagsterRunStatus.STARTING, tags={PID_TAG: f"{dead.pid}:{run.run_id}"}
        )
        result = dead_run_sensor(dg.build_sensor_context(instance=instance))
        assert run.run_id in result.skip_message
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(retry.run_id).status == dg.DagsterRunStatus.STARTING


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


def test_an_edited_article_text_is_a_change(raw, tmp_path):
    """The text decides which quotes pass: editing it must reload the source, as a file would."""
    shutil.copytree(SYNTHETIC, raw / SYNTHETIC.name)
    publish(tmp_path / "published", fingerprint.source_hashes(raw))
    (raw / SYNTHETIC.name / "article.txt").write_text(
        (SYNTHETIC / "article.txt").read_text(encoding="utf-8") + "\n补充一句。\n", "utf-8"
    )
    (request,) = tick().run_requests
    assert request.tags["raw/changed"] == SYNTHETIC.name
