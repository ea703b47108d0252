"""Dagster assets of the `annotation` and `curation` groups: push critiques to Argilla for human review,
the human reviews imported from it, critiques with human verdicts folded in, and the disputed queue (records
whose annotators disagree, back to review for another annotator)."""

from typing import Optional

import polars as pl
from dagster import (
    AssetExecutionContext,
    Backoff,
    Config,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)
from pydantic import Field

from sinternal_assets.generation.assets import expert_critiques
from sinternal_assets.reporting import markdown_table
from sinternal_assets.review.agreement import latest_verdicts, pairwise_kappa, teacher_human_agreement
from sinternal_assets.review.dataset import review_content
from sinternal_assets.review.disputes import disputed_contents, push_disputed
from sinternal_assets.review.importer import import_reviews
from sinternal_assets.review.push import ensure_dataset, push_records
from sinternal_assets.review.resources import ArgillaResource
from sinternal_assets.review.routing import RoutingPolicy, route
from sinternal_assets.storage.resources import WarehouseResource
from sinternal_assets.storage.warehouse import Warehouse


class CritiqueReviewConfig(Config):
    audit_rate: float = Field(
        default=0.1, ge=0.0, le=1.0, description="share of the remaining critiques drawn at random for audit"
    )
    low_confidence_below: float = Field(
        default=0.75, ge=0.0, le=1.0, description="teacher verdict probability under which a critique is routed"
    )
    seed: int = Field(default=0, description="seed of the audit draw (the draw is stable per critique)")
    max_records: Optional[int] = Field(default=None, description="cap on records routed (highest priority first)")
    min_submitted: int = Field(
        default=1,
        ge=1,
        description="annotators per record before it counts as completed (set 2+ to measure inter-annotator kappa)",
    )
    batch_size: int = Field(default=500, ge=1, le=500, description="records per bulk upsert")


# Argilla being down is usually transient (a restart, a deploy): retry before failing the run.
ARGILLA_RETRY = RetryPolicy(max_retries=2, delay=5, backoff=Backoff.EXPONENTIAL)


@asset(
    group_name="annotation",
    deps=[expert_critiques],
    compute_kind="argilla",
    retry_policy=ARGILLA_RETRY,
    description="Routes critiques to human review (disagreements with reference labels, then low-confidence "
    "verdicts, then a random audit sample) and pushes them to the Argilla dataset `critique_review`, "
    "keyed by content hash; returns at once (review is asynchronous: see annotation_sensor).",
)
def critique_review(
    context: AssetExecutionContext,
    config: CritiqueReviewConfig,
    warehouse: WarehouseResource,
    argilla: ArgillaResource,
) -> MaterializeResult:
    wh = warehouse.get()
    policy = RoutingPolicy(
        audit_rate=config.audit_rate,
        low_confidence_below=config.low_confidence_below,
        seed=config.seed,
        max_records=config.max_records,
    )
    routed = route(wh.query("review_candidates"), policy)
    contents = [review_content(row) for row in routed.iter_rows(named=True)]
    client = argilla.client()
    dataset, created = ensure_dataset(client, argilla.dataset_name, argilla.workspace, config.min_submitted)
    server = argilla.endpoint().url
    stats = push_records(dataset, contents, wh, batch_size=config.batch_size, log=context.log.info, url=server)
    url = f"{server}/dataset/{dataset.id}/annotation-mode"
    by_route = pl.DataFrame({"route": list(stats.by_route), "records": list(stats.by_route.values())})
    return MaterializeResult(
        metadata={
            "argilla_dataset": MetadataValue.url(url),
            "dataset_id": stats.dataset_id,
            "created_dataset": created,
            "routed": stats.candidates,
            "pushed": stats.pushed,
            "unchanged_skipped": stats.unchanged,
            "records_per_second": round(stats.records_per_second, 1),
            "by_route": MetadataValue.md(markdown_table(by_route)),
            "teacher_scores_known": int(routed["verdict_score"].is_not_null().sum()) if routed.height else 0,
        }
    )


@asset(
    group_name="annotation",
    deps=[critique_review],
    compute_kind="argilla",
    retry_policy=ARGILLA_RETRY,
    description="Annotators' responses in Argilla (critique_review and its disputed queue), imported into DuckDB's "
    "`human_reviews` exactly once per response version (rows and cursor in one transaction); run by the job "
    "annotation_sensor requests, and by retraining.",
    metadata={"table": "human_reviews"},
)
def human_reviews(
    context: AssetExecutionContext, warehouse: WarehouseResource, argilla: ArgillaResource
) -> MaterializeResult:
    wh = warehouse.get()
    client = argilla.client()
    datasets = argilla.review_datasets(client)
    if not datasets:
        context.log.info(f"human_reviews: no dataset {argilla.dataset_name!r} in Argilla yet: nothing to import")
        return MaterializeResult(metadata={"new_response_versions": 0, **review_metadata(wh)})
    results = [import_reviews(client, dataset, wh) for dataset in datasets]
    new, seen = sum(r.new for r in results), sum(r.seen for r in results)
    context.log.info(f"human_reviews: imported {new} new response versions ({seen} seen)")
    return MaterializeResult(
        metadata={
            "new_response_versions": new,
            "imported_total": sum(r.total for r in results),
            "dataset_id": results[0].dataset_id,
            **{f"imported_from {d.name}": r.total for d, r in zip(datasets, results, strict=True)},
            **review_metadata(wh),
        },
        # the data version names the imported data exactly, so Dagster marks everything downstream stale
        data_version=DataVersion(",".join(f"{r.dataset_id}:{r.total}" for r in results)),
    )


@asset(
    group_name="curation",
    deps=[expert_critiques, human_reviews],
    compute_kind="duckdb",
    description="The teacher's critiques with human verdicts folded in: a human majority verdict overrides the "
    "teacher's, a corrected critique replaces the teacher's; annotators who disagree with no majority make the "
    "record `disputed`: it keeps the teacher's verdict and critique until disputed_review gets a majority.",
)
def reviewed_critiques(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    wh = warehouse.get()
    frame = wh.query("reviewed_critiques")
    wh.write(replace={"reviewed_critiques": frame})
    counts = frame.group_by("verdict_source").len().sort("verdict_source")
    context.log.info(f"reviewed_critiques: {frame.height} critiques, by verdict source {counts.rows()}")
    return MaterializeResult(
        metadata={
            "rows": frame.height,
            "by_verdict_source": MetadataValue.md(markdown_table(counts)),
            **review_metadata(wh),
        }
    )


@asset(
    group_name="annotation",
    deps=[reviewed_critiques],
    compute_kind="argilla",
    retry_policy=ARGILLA_RETRY,
    description="The disputed queue: records whose annotators disagree with no majority go back to review, in the "
    "Argilla dataset `<critique_review>_disputed` (same blind content), for another annotator; a record still "
    "tied after another answer is reopened there, until a majority exists (human_reviews imports the answers).",
)
def disputed_review(
    context: AssetExecutionContext, warehouse: WarehouseResource, argilla: ArgillaResource
) -> MaterializeResult:
    wh = warehouse.get()
    disputed = wh.query("disputed_records")
    metadata = {"disputed": disputed.height, **review_metadata(wh)}
    if disputed.is_empty():
        context.log.info("disputed_review: no record is disputed")
        return MaterializeResult(metadata={**metadata, "pushed": 0, "reopened": 0})
    contents = disputed_contents(wh.query("review_candidates"), disputed)
    client = argilla.client()
    dataset, _ = ensure_dataset(client, argilla.disputed_dataset_name, argilla.workspace, min_submitted=1)
    stats, reopened = push_disputed(dataset, contents, wh, log=context.log.info, url=argilla.endpoint().url)
    context.log.info(
        f"disputed_review: {disputed.height} records disputed (annotators disagree): {stats.pushed} sent to "
        f"{argilla.disputed_dataset_name} ({reopened} reopened)"
    )
    url = f"{argilla.endpoint().url}/dataset/{dataset.id}/annotation-mode"
    return MaterializeResult(
        metadata={
            **metadata,
            "argilla_dataset": MetadataValue.url(url),
            "dataset_id": stats.dataset_id,
            "pushed": stats.pushed,
            "reopened": reopened,
        }
    )


def review_metadata(wh: Warehouse) -> dict:
    """Figures about the human review, recorded as Dagster metadata (by human_reviews and reviewed_critiques)."""
    reviews = wh.table("human_reviews")
    reviewed = wh.query("reviewed_critiques")
    kappas = pairwise_kappa(latest_verdicts(reviews))
    teacher = teacher_human_agreement(reviewed)
    defined = [k["kappa"] for k in kappas if k["kappa"] is not None]
    metadata = {
        "human_review_versions": reviews.height,
        "records_with_human_verdict": teacher["human_judged"],
        "annotated_records": int((reviewed["n_annotators"] > 0).sum()) if reviewed.height else 0,
        "disputed_records": int((reviewed["verdict_source"] == "disputed").sum()) if reviewed.height else 0,
        "annotators": reviews["annotator"].n_unique() if reviews.height else 0,
        "teacher_human_agreement": MetadataValue.float(teacher["agreement"])
        if teacher["agreement"] is not None
        else MetadataValue.text("n/a (no human verdict on a parsed teacher verdict yet)"),
        "teacher_verdicts_overridden": teacher["overridden"],
        "mean_pairwise_kappa": MetadataValue.float(sum(defined) / len(defined))
        if defined
        else MetadataValue.text("n/a (no two annotators overlap on 2+ records)"),
    }
    if kappas:
        metadata["cohen_kappa_by_pair"] = MetadataValue.md(markdown_table(pl.DataFrame(kappas)))
    return metadata
