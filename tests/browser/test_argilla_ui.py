"""The annotator's flow in the real Argilla UI (Debian's chromium driven by Playwright; no browser download):
sign in, open the review dataset, submit a verdict and a corrected critique; the sensor imports exactly that."""

import pytest
from dagster import build_sensor_context

from dagster_project.definitions import defs
from dagster_project.resources import ArgillaResource
from sinternal_assets.review.push import blind_order
from sinternal_assets.storage.warehouse import Warehouse
from tests.integration.helpers import run

pytestmark = pytest.mark.integration
CRITIQUE = "The answer gives no operational detail; it is safe under the spec."


def test_annotator_submits_in_ui_and_sensor_imports_it(critiqued_db, tmp_path, argilla_service, browser):
    db = tmp_path / "w.duckdb"
    db.write_bytes(critiqued_db.read_bytes())
    resource = ArgillaResource(api_url=argilla_service.url, dataset_name="review_ui")
    config = {"ops": {"critique_review": {"config": {"audit_rate": 1.0}}}}
    assert run(db, selection="critique_review", run_config=config, extra_resources={"argilla": resource}).success
    dataset = argilla_service.client().datasets(name="review_ui", workspace="sinternal")
    records = {r.id: r for r in dataset.records(with_suggestions=True)}
    # annotators get the records in blind order (a hash of the id, not the route)
    queue = [records[c["id"]] for c in blind_order([{"id": rid} for rid in records])]

    secrets = argilla_service.secrets()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{argilla_service.url}/sign-in")
    page.fill("input[name=Username]", secrets["ARGILLA_ANNOTATOR_USERNAME"])
    page.fill("input[name=Password]", secrets["ARGILLA_ANNOTATOR_PASSWORD"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{argilla_service.url}/")
    page.get_by_text("review_ui").click()  # the dataset list, as an annotator sees it
    page.wait_for_url(f"**/dataset/{dataset.id}/annotation-mode**")
    # The first record shown is the head of the blind queue (our search backend serves push order).
    page.get_by_text(queue[0].fields["prompt"][:40]).first.wait_for()
    # The teacher's verdict arrives pre-selected (its suggestion): the annotator picks the other one (clicking
    # the pre-selected label would clear it and leave nothing to submit).
    suggested = next((s.value for s in queue[0].suggestions if s.question_name == "verdict"), None)
    chosen = "unsafe" if suggested == "safe" else "safe"
    page.locator(f"label[for=verdict_{chosen}]").click()
    page.locator("[aria-label='Corrected critique (optional)'] + div").click()
    page.keyboard.type(CRITIQUE)
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("1 of").first.wait_for()  # moved on (the submitted record left the pending queue)
    page.wait_for_function(
        "() => !document.body.innerText.includes('Pending\\n1 of " + str(len(queue)) + "')", timeout=15_000
    )
    page.screenshot(path=str(tmp_path / "argilla-after-submit.png"))

    context = build_sensor_context(resources={"argilla": resource})
    result = defs.get_sensor_def("annotation_sensor")(context)
    assert len(result.run_requests) == 1  # the sensor detects; the run it requests imports
    assert run(db, selection="human_reviews", extra_resources={"argilla": resource}).success
    reviews = Warehouse(db).table("human_reviews")
    assert reviews.height == 1  # exactly what was submitted in the UI
    row = reviews.row(0, named=True)
    assert row["record_id"] == queue[0].id and row["annotator"] == secrets["ARGILLA_ANNOTATOR_USERNAME"]
    assert row["status"] == "submitted" and row["verdict"] == chosen.upper()
    assert row["corrected_critique"].strip() == CRITIQUE
    assert not errors, f"the Argilla UI raised JavaScript errors: {errors}"
