"""Jobs, and the run configurations they apply (`run_configs/<name>.yaml`, read by `load_run_config`).
`embedded_default` materializes every asset but the ablations (and runs every check) on the local default;
`study` materializes every asset at study scale."""

from pathlib import Path

import yaml
from dagster import AssetSelection, define_asset_job

from dagster_project.budgets import budget_settings_in, with_matched_budgets
from sinternal_assets.training.assets import ABLATION_GROUP

# Run configurations live in YAML files, one per profile: `ops` (Dagster run config) and `budgets` (the training
# budget every method shares, expanded here by with_matched_budgets).
RUN_CONFIG_DIR = Path(__file__).resolve().parent / "run_configs"
RUN_CONFIG_KEYS = ("ops", "budgets")
BUDGET_KEYS = ("sft", "grpo", "grpo_steps")


def run_config_path(name: str, directory: Path = RUN_CONFIG_DIR) -> Path:
    return directory / f"{name}.yaml"


def load_run_config(name: str, directory: Path = RUN_CONFIG_DIR) -> dict:
    """The run configuration `<directory>/<name>.yaml` as Dagster run config: its `ops`, with the `budgets`
    section expanded into the same training budget for every method (dagster_project/budgets.py). A problem in the
    file's layout is an error naming the file; the assets' config schemas are checked by
    `dagster_project.definitions.check_run_config` (when the code location loads)."""
    path = run_config_path(name, directory)
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.yaml"))
        raise FileNotFoundError(f"no run configuration {name!r}: {path} does not exist (known: {', '.join(known)})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a run configuration is a mapping with the keys {', '.join(RUN_CONFIG_KEYS)}")
    _known_keys(path, "", data, RUN_CONFIG_KEYS)
    ops = data.get("ops") or {}
    if not isinstance(ops, dict):
        raise ValueError(f"{path}: `ops` must be a mapping of asset names to their run config")
    budgets = data.get("budgets")
    if not isinstance(budgets, dict):
        raise ValueError(
            f"{path}: no `budgets` mapping ({', '.join(BUDGET_KEYS)}): every run configuration states the training "
            "budget all methods share"
        )
    _known_keys(path, "budgets.", budgets, BUDGET_KEYS)
    missing = [k for k in BUDGET_KEYS if k not in budgets]
    if missing:
        raise ValueError(f"{path}: budgets: missing {', '.join(missing)}")
    for key in ("sft", "grpo"):
        if not isinstance(budgets[key], dict):
            raise ValueError(f"{path}: budgets.{key} must be a mapping of budget settings")
    direct = budget_settings_in(ops)
    if direct:
        raise ValueError(
            f"{path}: ops set training budget settings directly ({', '.join(direct)}): set them under `budgets`, "
            "which gives every method the same"
        )
    try:
        return with_matched_budgets(
            {"ops": ops}, sft=budgets["sft"], grpo=budgets["grpo"], grpo_steps=budgets["grpo_steps"]
        )
    except ValueError as error:
        raise ValueError(f"{path}: budgets: {error}") from None


def _known_keys(path: Path, where: str, data: dict, known: tuple[str, ...]) -> None:
    unknown = [str(k) for k in data if k not in known]
    if unknown:
        raise ValueError(
            f"{path}: unknown key(s) {', '.join(where + k for k in unknown)} (expected: {', '.join(known)})"
        )


# The embedded default (run_configs/embedded.yaml): small real slices on CPU, a few real training steps per method.
EMBEDDED_RUN_CONFIG = load_run_config("embedded")
EMBEDDED_EVAL_FAMILIES = EMBEDDED_RUN_CONFIG["ops"]["eval_set"]["config"]["families"]

# Every asset but the paper's ablations (the study trains those).
EMBEDDED_SELECTION = AssetSelection.all() - AssetSelection.groups(ABLATION_GROUP)


def embedded_default_job(run_config: dict):
    """The smoke run, with the embedded run config restricted to its selection (definitions.config_for: the
    shared budgets also name the ablations, which this job does not run)."""
    return define_asset_job(
        "embedded_default",
        selection=EMBEDDED_SELECTION,
        config=run_config,
        description="Every asset of the pipeline but the paper's ablations, end to end, on the embedded default "
        "(CPU, small model, local DuckDB): a smoke run.",
    )


# The study (run_configs/study.yaml) in two configurations on one warehouse, both with that file's settings (the same
# recipe and budgets by construction), each restricted to its own selection (definitions.config_for):
# - `study`: the core: data, the base model, refusal SFT, SInternal SFT, SInternal + GRPO, and the evaluation;
# - `study_extra`: AltTrain, AlphaAlign, SOMF and the paper's ablations (verdict only, critique only, Other-Exp),
#   then the evaluation of every checkpoint. Run after `study` on the same warehouse: its inputs are the core's
#   stored tables, and generations and judgements are keyed by content, so it costs only its new checkpoints.
STUDY_RUN_CONFIG = load_run_config("study")
STUDY_EXTRA_TRAINING = ("alttrain_sft", "alphaalign_grpo", "somf_fusion")
STUDY_SELECTION = (
    AssetSelection.all() - AssetSelection.assets(*STUDY_EXTRA_TRAINING) - AssetSelection.groups(ABLATION_GROUP)
)
STUDY_EXTRA_SELECTION = (
    AssetSelection.assets(*STUDY_EXTRA_TRAINING)
    | AssetSelection.groups(ABLATION_GROUP)
    | AssetSelection.groups("evaluation")
)


def study_job(run_config: dict):
    return define_asset_job(
        "study",
        selection=STUDY_SELECTION,
        config=run_config,
        description="The SInternal study, core: self-sampled answers (N = 4), the offline expert's critiques, "
        "refusal SFT, SInternal SFT and SInternal + GRPO on one matched budget, evaluated on ~100 harmful prompts per "
        "side (train-side and held-out attack families), benign and math prompts, and held-out human labels. "
        "study_extra adds the other methods and the ablations on the same warehouse.",
    )


def study_extra_job(run_config: dict):
    return define_asset_job(
        "study_extra",
        selection=STUDY_EXTRA_SELECTION,
        config=run_config,
        description="The study's second configuration, after `study` on the same warehouse: AltTrain, AlphaAlign, "
        "SOMF and the paper's ablations (verdict only, critique only, Other-Exp) at the study's recipe and budget, "
        "then the evaluation of every checkpoint (the core's answers and judgements come from the caches).",
    )


# What the weekly retraining refreshes: everything after the prompts (generation is keyed by content hash, so
# only new prompts and samples are generated; critiques, curation, training and evaluation follow).
RETRAINING_GROUPS = ("generation", "annotation", "curation", "training", "evaluation")
RETRAINING_SELECTION = AssetSelection.groups(*RETRAINING_GROUPS)
# What a prompt file dropped into the inbox refreshes: the sources and the prompts built from them.
INGEST_SELECTION = AssetSelection.assets("prompt_sources", "prompt_pool", "attacked_prompts")


# What follows a new human review at once (the annotation sensor): the import of the responses, the reviewed
# verdicts and the re-curated verification examples. Training and the judges' human-label sets wait for retraining.
REVIEW_FOLLOWUP_SELECTION = AssetSelection.assets(
    "human_reviews", "reviewed_critiques", "disputed_review", "verification_examples"
)
# What follows a new checkpoint at once (the checkpoint sensor): the whole evaluation.
EVALUATION_SELECTION = AssetSelection.groups("evaluation")
# Jobs whose runs already evaluate what they train: the checkpoint sensor does not follow them.
EVALUATING_JOBS = ("embedded_default", "study", "study_extra", "retraining", "evaluation")


def review_followup_job(run_config: dict):
    """Re-curation after new human reviews, with the profile's run config (only the ops of its selection)."""
    return define_asset_job(
        "review_followup",
        selection=REVIEW_FOLLOWUP_SELECTION,
        config=run_config,
        description="Import new responses from Argilla (human_reviews), fold the human verdicts into "
        "reviewed_critiques, send disputed records back to review (disputed_review) and re-curate "
        "verification_examples, with the run profile's configuration (the "
        "annotation sensor runs it).",
    )


def evaluation_job(run_config: dict):
    """The evaluation of every checkpoint, with the profile's run config (only the ops of its selection)."""
    return define_asset_job(
        "evaluation",
        selection=EVALUATION_SELECTION,
        config=run_config,
        description="Evaluate every checkpoint (eval set, human-labelled sets, generations, judges, report) with "
        "the run profile's configuration (the checkpoint sensor runs it after a new checkpoint).",
    )


def retraining_job(run_config: dict):
    """The retraining job with the profile's run config (only the ops of its selection)."""
    return define_asset_job(
        "retraining",
        selection=RETRAINING_SELECTION,
        config=run_config,
        description="Regenerate what is new, re-curate, retrain every checkpoint and re-evaluate (the weekly "
        "schedule runs it when there are new prompts or new human reviews).",
    )


ingest_prompts = define_asset_job(
    "ingest_prompts",
    selection=INGEST_SELECTION,
    description="Re-read the prompt sources (the built-in artifacts and every file in the inbox) and rebuild the "
    "prompt pool and the attacked prompts.",
)
