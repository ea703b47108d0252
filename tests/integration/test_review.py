"""Human review against the real Argilla server (started by scripts/argilla.sh) and the real small model:
push, annotate through the SDK as annotators, sensor import, idempotency, overrides, Argilla down."""

import json

import polars as pl
import pytest
from argilla._models._record._response import UserResponseModel
from dagster import DagsterInstance, SensorResult, build_sensor_context

from dagster_project.definitions import defs
from dagster_project.resources import ArgillaResource, WarehouseResource
from sinternal_assets.review.connection import ArgillaUnavailable
from sinternal_assets.review.dataset import HIDDEN_FROM_ANNOTATORS, suggestion_agent
from sinternal_assets.storage.warehouse import Warehouse
from tests.integration.helpers import run
from tests.services import free_port

pytestmark = pytest.mark.integration


def fresh_db(critiqued_db, tmp_path):
    db = tmp_path / "w.duckdb"
    db.write_bytes(critiqued_db.read_bytes())
    return db


def review_config(**config):
    return {"ops": {"critique_review": {"config": {"audit_rate": 1.0, **config}}}}


def argilla(service, name):
    return ArgillaResource(api_url=service.url, dataset_name=name)


def file_hash(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def evaluate_sensor(resource, db, cursor=None, instance=None):
    """One annotation-sensor tick. It only reads Argilla: the warehouse file is byte for byte the same after it."""
    before = file_hash(db) if db.exists() else None
    context = build_sensor_context(cursor=cursor, instance=instance, resources={"argilla": resource})
    try:
        return defs.get_sensor_def("annotation_sensor")(context), context
    finally:
        assert (file_hash(db) if db.exists() else None) == before, "the sensor wrote to the warehouse"


def import_run(db, resource, run_config=None, instance=None, selection="human_reviews"):
    """The run the sensor requests (or its import step alone): the import happens here, never in the sensor."""
    return run(
        db, selection=selection, run_config=run_config, extra_resources={"argilla": resource}, instance=instance
    )


def respond(client, dataset, record_id, verdict, critique=None, status="submitted", tags=()):
    """Submit (or change) a response the way the UI does, as the client's user (an annotator)."""
    server_id = {r.id: r._server_id for r in dataset.records}[record_id]
    values = {"verdict": {"value": verdict}}
    if critique is not None:
        values["corrected_critique"] = {"value": critique}
    if tags:
        values["issues"] = {"value": list(tags)}
    me = client.me.id
    record = client.api.http_client.get(f"/api/v1/records/{server_id}", params={"include": ["responses"]})
    record.raise_for_status()
    mine = [r for r in record.json().get("responses") or [] if r["user_id"] == str(me)]
    if mine:  # the UI updates an existing response in place
        client.api.http_client.put(
            f"/api/v1/responses/{mine[0]['id']}", json={"values": values, "status": status}
        ).raise_for_status()
    else:
        client.api.records.create_record_response(
            server_id, UserResponseModel(values=values, status=status, user_id=me)
        )


def test_push_annotate_import_override(critiqued_db, tmp_path, argilla_service):
    import argilla as rg

    from dagster_project.definitions import ASSETS  # noqa: F401  (code location loads with the review assets)

    db = fresh_db(critiqued_db, tmp_path)
    resource = argilla(argilla_service, "review_loop")
    resources = {"argilla": resource}
    result = run(db, selection="critique_review", run_config=review_config(), extra_resources=resources)
    assert result.success
    wh = Warehouse(db)
    critiques = wh.table("expert_critiques")
    meta = result.asset_materializations_for_node("critique_review")[0].metadata
    assert meta["pushed"].value == critiques.height == meta["routed"].value  # audit_rate 1.0: everything
    owner = argilla_service.client()
    dataset = owner.datasets(name="review_loop", workspace="sinternal")
    records = list(dataset.records(with_suggestions=True))
    assert sorted(r.id for r in records) == sorted(critiques["critique_id"])
    by_id = {r.id: r for r in records}
    for row in critiques.iter_rows(named=True):
        record = by_id[row["critique_id"]]
        assert record.fields["prompt"] and record.fields["final_answer"]
        assert record.metadata["route"] in {"disagreement", "low_confidence", "audit"}
        if row["parse_ok"]:
            assert record.suggestions["verdict"].value == row["verdict"].lower()
            assert record.suggestions["verdict"].agent == suggestion_agent(row["teacher_id"])
        else:
            assert record.metadata["route"] == "low_confidence" and record.metadata["teacher_verdict"] == "unparsed"
    # Priority order: disagreements, then low confidence, then audit.
    queue = sorted(records, key=lambda r: r.metadata["queue_position"])
    priorities = [r.metadata["priority"] for r in queue]
    assert priorities == sorted(priorities)
    assert all(HIDDEN_FROM_ANNOTATORS <= set(r.metadata) for r in records)  # the owner sees (and filters on) all

    # Blind review: through the annotator's own key and the endpoint the annotation UI reads records from,
    # nothing that gives the answer away is visible.
    annotator_http = argilla_service.client("ANNOTATOR").api.http_client
    response = annotator_http.post(f"/api/v1/me/datasets/{dataset.id}/records/search", json={}, params={"limit": 1000})
    response.raise_for_status()
    seen = [item["record"] for item in response.json()["items"]]
    assert sorted(r["external_id"] for r in seen) == sorted(critiques["critique_id"])
    for record in seen:
        assert not set(record["metadata"]) & HIDDEN_FROM_ANNOTATORS, record["metadata"]
        assert record["metadata"]["source"] and record["metadata"]["target"]  # the harmless metadata arrives
    owner_view = owner.api.http_client.post(
        f"/api/v1/me/datasets/{dataset.id}/records/search", json={}, params={"limit": 1000}
    ).json()["items"]
    assert all(HIDDEN_FROM_ANNOTATORS <= set(item["record"]["metadata"]) for item in owner_view)

    # Pushing again sends nothing and duplicates nothing.
    again = run(db, selection="critique_review", run_config=review_config(), extra_resources=resources)
    meta = again.asset_materializations_for_node("critique_review")[0].metadata
    assert meta["pushed"].value == 0 and meta["unchanged_skipped"].value == critiques.height
    assert len(list(dataset.records)) == critiques.height

    # Nothing submitted yet: the sensor skips.
    first, _ = evaluate_sensor(resource, db)
    assert isinstance(first, SensorResult) and not first.run_requests

    # Two annotators; they overlap on two records and disagree on one of them.
    annotator = argilla_service.client("ANNOTATOR")
    second_user = rg.User(username="annotator2", password="annotator2-pass", role="annotator", client=owner).create()
    owner.workspaces("sinternal").add_user(second_user)
    # The SDK's user model hides API keys; the server's user resource (owner only) carries it.
    second_key = owner.api.http_client.get(f"/api/v1/users/{second_user.id}").json()["api_key"]
    annotator2 = rg.Argilla(api_url=argilla_service.url, api_key=second_key)
    parsed = critiques.filter(pl.col("parse_ok")).sort("critique_id")
    target = parsed.row(0, named=True)
    flipped = "safe" if target["verdict"] == "UNSAFE" else "unsafe"
    other = critiques.filter(pl.col("critique_id") != target["critique_id"]).sort("critique_id").row(0, named=True)
    respond(
        annotator,
        dataset,
        target["critique_id"],
        flipped,
        critique="The teacher missed the spec rule.",
        tags=["wrong_verdict"],
    )
    respond(annotator2, dataset, target["critique_id"], flipped)
    respond(annotator, dataset, other["critique_id"], "safe")
    respond(annotator2, dataset, other["critique_id"], "unsafe")

    result, context = evaluate_sensor(resource, db, cursor=first.cursor)
    # the re-curation runs with the run profile's settings (the embedded default's), not the assets' defaults
    [request] = result.run_requests
    assert request.run_config == {
        "ops": {"verification_examples": {"config": {"contrastive": False, "include_reference_answers": True}}}
    }
    assert wh.count("human_reviews") == 0  # the sensor only detected them
    imported = import_run(db, resource)
    event = imported.asset_materializations_for_node("human_reviews")[0]
    assert event.metadata["new_response_versions"].value == 4 and event.metadata["annotators"].value == 2
    assert "cohen_kappa_by_pair" in event.metadata
    reviews = wh.table("human_reviews")
    assert reviews.height == 4 and reviews["review_id"].n_unique() == 4
    mine = reviews.filter((pl.col("record_id") == target["critique_id"]) & (pl.col("annotator") == "annotator"))
    assert mine["verdict"].to_list() == [flipped.upper()]
    assert mine["corrected_critique"].to_list() == ["The teacher missed the spec rule."]
    assert json.loads(mine["issue_tags"][0]) == ["wrong_verdict"]

    # Twice: nothing new, nothing doubled; the import run again imports nothing.
    twice, _ = evaluate_sensor(resource, db, cursor=result.cursor)
    assert not twice.run_requests
    again = import_run(db, resource).asset_materializations_for_node("human_reviews")[0]
    assert again.metadata["new_response_versions"].value == 0 and wh.count("human_reviews") == 4
    # A tick whose cursor was not saved: the old cursor is presented again, and the run is requested again with
    # the same run key (Dagster dedups it); the import run is keyed by response version, so nothing is doubled.
    replay, _ = evaluate_sensor(resource, db, cursor=first.cursor)
    assert [r.run_key for r in replay.run_requests] == [r.run_key for r in result.run_requests]

    # Human verdicts override the teacher's downstream; a tie is left undecided, not guessed. The requested
    # run (the review_followup job's selection, with its configuration) re-curates and every gate passes.
    followup = run(
        db, selection="reviewed_critiques,verification_examples", run_config=request.run_config, raise_on_error=False
    )
    failed = [
        (e.asset_key.to_user_string(), e.check_name) for e in followup.get_asset_check_evaluations() if not e.passed
    ]
    assert followup.success and failed == []
    reviewed = {r["critique_id"]: r for r in wh.table("reviewed_critiques").iter_rows(named=True)}
    assert reviewed[target["critique_id"]]["final_verdict"] == flipped.upper()
    assert reviewed[target["critique_id"]]["verdict_source"] == "human"
    assert reviewed[target["critique_id"]]["critique"] == "The teacher missed the spec rule."
    assert reviewed[other["critique_id"]]["verdict_source"] == "disputed"  # back in review: test_disputed_...
    assert reviewed[other["critique_id"]]["final_verdict"] == other["verdict"]  # the teacher's, until a majority
    untouched = [r for k, r in reviewed.items() if k not in (target["critique_id"], other["critique_id"])]
    assert all(r["verdict_source"] in ("teacher", "none") for r in untouched)

    # An annotator changes their mind: a new version is imported and the latest one counts.
    respond(annotator2, dataset, other["critique_id"], "safe")
    later, _ = evaluate_sensor(resource, db, cursor=result.cursor)
    assert len(later.run_requests) == 1
    assert (
        import_run(db, resource)
        .asset_materializations_for_node("human_reviews")[0]
        .metadata["new_response_versions"]
        .value
        == 1
    )
    assert run(db, selection="reviewed_critiques").success
    row = wh.sql("SELECT * FROM reviewed_critiques WHERE critique_id = $c", c=other["critique_id"]).row(0, named=True)
    assert row["final_verdict"] == "SAFE" and row["n_annotators"] == 2


def new_annotator(service, owner, name):
    """A further annotator of the workspace, as an SDK client logged in with their own key."""
    import argilla as rg

    user = rg.User(username=name, password=f"{name}-pass", role="annotator", client=owner).create()
    owner.workspaces("sinternal").add_user(user)
    # The SDK's user model hides API keys; the server's user resource (owner only) carries it.
    key = owner.api.http_client.get(f"/api/v1/users/{user.id}").json()["api_key"]
    return rg.Argilla(api_url=service.url, api_key=key)


def test_disputed_record_goes_back_to_review_until_a_majority(critiqued_db, tmp_path, argilla_service):
    """Two annotators disagree: the record stays in the data (the teacher's verdict and critique, never one side's
    critique without a verdict), goes to the disputed queue, is reopened when the answer there leaves it tied,
    and a third annotator's verdict there makes the majority."""
    db = fresh_db(critiqued_db, tmp_path)
    wh = Warehouse(db)
    resource = argilla(argilla_service, "review_dispute")
    assert run(
        db, selection="critique_review", run_config=review_config(), extra_resources={"argilla": resource}
    ).success
    owner = argilla_service.client()
    dataset = owner.datasets(name="review_dispute", workspace="sinternal")
    critiques = {r["critique_id"]: r for r in wh.table("expert_critiques").iter_rows(named=True)}
    target = critiques[next(r.id for r in dataset.records if critiques[r.id]["parse_ok"])]
    teacher = target["verdict"]
    flipped = "safe" if teacher == "UNSAFE" else "unsafe"
    first, second = argilla_service.client("ANNOTATOR"), new_annotator(argilla_service, owner, "dispute2")
    respond(first, dataset, target["critique_id"], flipped, critique="One side's corrected critique.")
    respond(second, dataset, target["critique_id"], teacher.lower())
    followup = "human_reviews,reviewed_critiques,disputed_review"  # the review_followup job, less re-curation

    def curated():
        return wh.sql("SELECT * FROM reviewed_critiques WHERE critique_id = $c", c=target["critique_id"]).row(
            0, named=True
        )

    tick, _ = evaluate_sensor(resource, db)
    assert len(tick.run_requests) == 1
    result = import_run(db, resource, selection=followup)
    meta = result.asset_materializations_for_node("disputed_review")[0].metadata
    assert meta["disputed"].value == 1 and meta["pushed"].value == 1 and meta["reopened"].value == 0
    row = curated()
    assert row["verdict_source"] == "disputed" and row["human_verdict"] is None and row["n_annotators"] == 2
    assert row["final_verdict"] == teacher and row["critique"] == target["critique"]  # nothing silently dropped
    queue = owner.datasets(name="review_dispute_disputed", workspace="sinternal")
    assert queue is not None and [r.id for r in queue.records] == [target["critique_id"]]
    # blind there too: the annotators' view of the queue shows no route, teacher verdict or priority
    seen = first.api.http_client.post(f"/api/v1/me/datasets/{queue.id}/records/search", json={}).json()["items"]
    assert len(seen) == 1 and not set(seen[0]["record"]["metadata"]) & HIDDEN_FROM_ANNOTATORS

    # The same annotator answers again in the queue: still no majority, so the record is reopened (pending).
    respond(second, queue, target["critique_id"], teacher.lower())
    tick, _ = evaluate_sensor(resource, db, cursor=tick.cursor)
    assert len(tick.run_requests) == 1  # the sensor watches the queue too
    meta = import_run(db, resource, selection=followup).asset_materializations_for_node("disputed_review")[0].metadata
    assert meta["disputed"].value == 1 and meta["reopened"].value == 1
    [record] = owner.api.http_client.post(
        f"/api/v1/datasets/{queue.id}/records/search", json={}, params={"include": ["responses"]}
    ).json()["items"]
    assert record["record"]["status"] == "pending" and not record["record"]["responses"]
    assert curated()["verdict_source"] == "disputed"

    # A third annotator answers in the queue: a majority, the human verdict and its corrected critique.
    third = new_annotator(argilla_service, owner, "dispute3")
    respond(third, queue, target["critique_id"], flipped)
    tick, _ = evaluate_sensor(resource, db, cursor=tick.cursor)
    assert len(tick.run_requests) == 1
    meta = import_run(db, resource, selection=followup).asset_materializations_for_node("disputed_review")[0].metadata
    assert meta["disputed"].value == 0
    row = curated()
    assert row["verdict_source"] == "human" and row["final_verdict"] == flipped.upper() and row["n_annotators"] == 3
    assert row["critique"] == "One side's corrected critique."
    assert wh.query("check_reviewed_critiques_integrity").is_empty()


def test_argilla_down_fails_clearly_then_retry_succeeds(critiqued_db, tmp_path, argilla_service):
    db = fresh_db(critiqued_db, tmp_path)
    wh = Warehouse(db)
    dead = ArgillaResource(api_url=f"http://127.0.0.1:{free_port()}", dataset_name="review_down")
    before = {t: wh.table(t) for t in ("expert_critiques", "review_pushes", "human_reviews")}
    result = run(
        db,
        selection="critique_review",
        run_config=review_config(),
        extra_resources={"argilla": dead},
        raise_on_error=False,
    )
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 2  # the asset's retry policy ran before giving up
    error, messages = failures[0].event_specific_data.error, []
    while error is not None:  # "Exceeded max_retries" wraps the asset's own error
        messages.append(error.message)
        error = error.cause
    message = "\n".join(messages)
    assert dead.api_url in message and "not reachable" in message and "scripts/argilla.sh start" in message
    assert all(wh.table(t).equals(frame) for t, frame in before.items())
    with pytest.raises(ArgillaUnavailable, match="not reachable"):
        evaluate_sensor(dead, db)
    assert wh.count("human_reviews") == 0

    # A wrong key is its own clear error, and the key never appears in it.
    import os

    os.environ["ARGILLA_API_KEY"] = "wrong-key-123456"
    try:
        with pytest.raises(ArgillaUnavailable, match="refused the API key from ARGILLA_API_KEY") as error:
            argilla(argilla_service, "review_down").client()
        assert "wrong-key-123456" not in str(error.value)
    finally:
        del os.environ["ARGILLA_API_KEY"]

    # Argilla is back: the same asset succeeds and pushes everything once.
    ok = run(
        db,
        selection="critique_review",
        run_config=review_config(),
        extra_resources={"argilla": argilla(argilla_service, "review_down")},
    )
    assert ok.success and wh.count("review_pushes") == wh.count("expert_critiques")


def test_argilla_lost_mid_push_names_the_server_at_the_first_failure(critiqued_db, tmp_path, argilla_service):
    """Drill: the real server is stopped after the first batch of a push. The very first failure (no retry in
    between) names the server's URL and `scripts/argilla.sh start`; the batch Argilla got is recorded, and the push
    after a restart sends only the rest."""
    from sinternal_assets.review.dataset import review_content
    from sinternal_assets.review.push import ensure_dataset, push_records
    from sinternal_assets.review.routing import RoutingPolicy, route

    db = fresh_db(critiqued_db, tmp_path)
    wh = Warehouse(db)
    contents = [
        review_content(r)
        for r in route(wh.query("review_candidates"), RoutingPolicy(audit_rate=1.0)).head(3).iter_rows(named=True)
    ]
    assert len(contents) == 3
    client = argilla_service.client()
    dataset, _ = ensure_dataset(client, "review_lost", "sinternal")
    stopped = []

    def stop_after_first_batch(line):
        if not stopped:
            stopped.append(argilla_service.script("stop"))

    try:
        with pytest.raises(ArgillaUnavailable) as lost:
            push_records(dataset, contents, wh, batch_size=1, log=stop_after_first_batch, url=argilla_service.url)
        assert stopped and stopped[0].returncode == 0
        message = str(lost.value)
        assert f"Argilla at {argilla_service.url} was lost mid-push" in message, message
        assert "after 1 of 3 records" in message and "scripts/argilla.sh start" in message
        assert wh.count("review_pushes") == 1
    finally:
        assert argilla_service.script("start").returncode == 0
    again = push_records(
        argilla_service.client().datasets(name="review_lost", workspace="sinternal"),
        contents,
        wh,
        url=argilla_service.url,
    )
    assert (again.pushed, again.unchanged) == (2, 1) and wh.count("review_pushes") == 3


def test_sensor_marks_curation_stale(critiqued_db, tmp_path, argilla_service):
    """The human_reviews materialization (in the run the sensor requests) makes reviewed_critiques stale."""
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._core.loader import LoadingContextForTest

    from dagster_project.definitions import defs

    def status(instance, graph, key):  # what the Dagster UI shows (a fresh resolver: it caches)
        return CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance)).get_status(key)

    db = fresh_db(critiqued_db, tmp_path)
    instance = DagsterInstance.ephemeral()
    resource = argilla(argilla_service, "review_stale")
    assert run(
        db,
        selection="critique_review,reviewed_critiques",
        run_config=review_config(max_records=2),
        extra_resources={"argilla": resource},
        instance=instance,
    ).success
    graph = defs.resolve_asset_graph()
    key = next(k for k in graph.get_all_asset_keys() if k.to_user_string() == "reviewed_critiques")
    assert status(instance, graph, key) != StaleStatus.STALE
    owner = argilla_service.client()
    dataset = owner.datasets(name="review_stale", workspace="sinternal")
    record_id = next(iter(dataset.records)).id
    respond(argilla_service.client("ANNOTATOR"), dataset, record_id, "unsafe")
    result, _ = evaluate_sensor(resource, db, instance=instance)
    assert len(result.run_requests) == 1
    assert import_run(db, resource, instance=instance).success  # what the requested run materializes first
    assert status(instance, graph, key) == StaleStatus.STALE


WRITER = """
import os, sys, time, duckdb
conn = duckdb.connect(sys.argv[1])  # a run writing the warehouse: it holds DuckDB's lock the whole time
conn.execute("CREATE TABLE IF NOT EXISTS drill_writes (i INTEGER)")
print("writing", flush=True)
deadline = time.monotonic() + 120
i = 0
while time.monotonic() < deadline and not os.path.exists(sys.argv[2]):  # until the test says stop
    conn.execute("INSERT INTO drill_writes VALUES (?)", [i])
    i += 1
    time.sleep(0.1)
conn.execute("DROP TABLE drill_writes")
conn.close()
print("done", i, flush=True)
"""


def test_sensor_ticks_every_few_seconds_never_fail_while_a_run_writes(critiqued_db, tmp_path, argilla_service):
    """Drill: a process holds the warehouse for writing (as a training run does for an hour) while the annotation
    sensor ticks every 2 s and the weekly schedule ticks too. No tick fails, the sensor requests the import once,
    the writer finishes, and the requested run then imports the response."""
    import subprocess
    import sys
    import time

    from dagster import build_schedule_context

    db = fresh_db(critiqued_db, tmp_path)
    resource = argilla(argilla_service, "review_drill")
    assert run(
        db, selection="critique_review", run_config=review_config(max_records=2), extra_resources={"argilla": resource}
    ).success
    dataset = argilla_service.client().datasets(name="review_drill", workspace="sinternal")
    respond(argilla_service.client("ANNOTATOR"), dataset, next(iter(dataset.records)).id, "unsafe")
    stop = tmp_path / "stop-writing"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(stop)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "writing"
        requests, cursor, ticks = [], None, 0
        schedule = defs.get_schedule_def("weekly_retraining")
        while writer.poll() is None and ticks < 4:
            context = build_sensor_context(cursor=cursor, resources={"argilla": resource})
            result = defs.get_sensor_def("annotation_sensor")(context)  # raises if the tick fails
            requests += result.run_requests
            cursor = result.cursor
            with build_schedule_context(
                instance=DagsterInstance.ephemeral(), resources={"warehouse": WarehouseResource(path=str(db))}
            ) as schedule_context:
                schedule.evaluate_tick(schedule_context)  # raises if the tick fails
            ticks += 1
            time.sleep(2)
        assert ticks == 4 and writer.poll() is None, "the writer stopped before the ticks were done"
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0 and out.startswith("done"), err  # the writer was never disturbed either
    assert len(requests) == 1  # one new response: one import requested
    assert import_run(db, resource).success and Warehouse(db).count("human_reviews") == 1
