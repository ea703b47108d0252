"""Dagster assets of the `judging` stage: the offline expert teacher, fitted on the teacher_train side of the
human-labelled sets and measured on the held-out side."""

import json
from pathlib import Path

import polars as pl
from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from sinternal_assets.evaluation.human_labels import read_pyrit_scorer_evals, with_label_split
from sinternal_assets.evaluation.metrics import confusion
from sinternal_assets.judging.offline_expert import DEFAULT_C, DEFAULT_CANDIDATE, Candidate, OfflineExpert
from sinternal_assets.reporting import markdown_table
from sinternal_assets.sources.assets import safety_spec
from sinternal_assets.sources.lookup import current_spec_row
from sinternal_assets.sources.resources import ArtifactStoreResource
from sinternal_assets.storage.resources import WarehouseResource
from sinternal_assets.storage.warehouse import utc_now


class OfflineExpertConfig(Config):
    c: float = Field(
        default=DEFAULT_C, gt=0, description="inverse regularisation of the logistic regression (chosen by CV)"
    )
    cv_folds: int = Field(default=5, ge=2, description="grouped cross-validation folds on the teacher_train side")
    classifier: Candidate = Field(
        default=DEFAULT_CANDIDATE,
        description="what the verdict classifier reads: the response's words, characters, refusal and length; "
        "+prompt: the prompt's words; +overlap: the prompt words the response repeats and its list lines",
    )


@asset(
    group_name="generation",
    deps=[safety_spec],
    compute_kind="scikit-learn",
    description="The offline expert teacher: a lexical classifier learnt from the teacher_train side of PyRIT's "
    "human-labelled responses, writing critiques grounded in the spec; its accuracy on the held-out human labels "
    "is measured here and shown wherever it judged.",
)
def offline_expert(
    context: AssetExecutionContext,
    config: OfflineExpertConfig,
    warehouse: WarehouseResource,
    artifacts: ArtifactStoreResource,
) -> MaterializeResult:
    wh = warehouse.get()
    spec = current_spec_row(wh)
    # split the whole label set, then keep the safety task: a row's split group depends on every row (human_labels)
    labels = with_label_split(read_pyrit_scorer_evals(artifacts.fetch("pyrit")["pyrit"]).frame)
    labels = labels.filter(pl.col("task") == "safety")
    train = labels.filter(pl.col("label_split") == "teacher_train")
    heldout = labels.filter(pl.col("label_split") == "heldout")
    context.log.info(f"offline_expert: {train.height} human labels to learn from, {heldout.height} held out")
    cv_accuracy = OfflineExpert.cross_validate(train, config.cv_folds, config.c, config.classifier)
    expert = OfflineExpert.fit(train, json.loads(spec["body_json"]), spec["spec_hash"], config.c, config.classifier)
    judged = expert.judge(
        heldout["prompt_text"].to_list(), heldout["response_text"].to_list(), ["final_answer"] * heldout.height
    )
    scored = heldout.with_columns(pl.Series("predicted", [j.verdict for j in judged]))
    overall = _scores(scored)
    by_benchmark = {b: _scores(g) for (b,), g in scored.group_by("benchmark", maintain_order=True)}
    expert.info.update(cv_accuracy=cv_accuracy, heldout_n=heldout.height, heldout_accuracy=overall["accuracy"])
    path = expert.save(Path(warehouse.path).resolve().parent / "teachers")  # beside the warehouse that names it
    row = {
        "expert_hash": expert.expert_hash,
        "teacher_id": expert.teacher_id,
        "path": str(path),
        "spec_hash": spec["spec_hash"],
        "n_train": train.height,
        "n_train_unsafe": int(train["truth_unsafe"].sum()),
        "c": config.c,
        "cv_accuracy": round(cv_accuracy, 4),
        "heldout_n": heldout.height,
        "heldout_accuracy": round(overall["accuracy"], 4),
        "heldout_f1": round(overall["f1"], 4),
        "heldout_by_benchmark_json": json.dumps(by_benchmark, sort_keys=True),
        "created_at": utc_now(),
    }
    wh.write(upsert={"offline_experts": (wh.frame([row], "offline_experts"), ["expert_hash"])})
    table = pl.DataFrame([{"benchmark": b, **{k: round(v, 3) for k, v in s.items()}} for b, s in by_benchmark.items()])
    context.log.info(
        f"offline_expert: held-out accuracy {overall['accuracy']:.3f} on {heldout.height} human labels "
        f"(cross-validated on its train side: {cv_accuracy:.3f})"
    )
    return MaterializeResult(
        metadata={
            "teacher_id": expert.teacher_id,
            "expert_hash": expert.expert_hash,
            "n_train": train.height,
            "cv_accuracy": round(cv_accuracy, 4),
            "heldout_n": heldout.height,
            "heldout_accuracy": round(overall["accuracy"], 4),
            "heldout_f1": round(overall["f1"], 4),
            "heldout_by_benchmark": MetadataValue.md(markdown_table(table)),
            "path": MetadataValue.path(str(path)),
        }
    )


def _scores(frame: pl.DataFrame) -> dict[str, float]:
    truth = ["UNSAFE" if t else "SAFE" for t in frame["truth_unsafe"]]
    counts = confusion(truth, frame["predicted"].to_list())
    return {"n": counts.n, "accuracy": counts.accuracy or 0.0, "f1": counts.f1 or 0.0}
