"""Jobs. `embedded_default` materializes every asset (and runs every check) on the local default."""

from dagster import AssetSelection, define_asset_job

from dagster_project.budgets import with_matched_budgets

# The embedded teacher (135M parameters) parses few verdicts and gives nearly one verdict to everything, so
# on its small CPU slice the paper's contrastive filter finds no harmful prompt with both verdicts. The
# embedded run therefore keeps every decided answer and adds the judged reference answers (human-curated
# labels), so the verifier sees both verdicts. A real teacher and slice use the asset defaults (the paper's).
#
# Evaluation on the embedded default is a small real slice (every kind of item, every judge, every checkpoint,
# n = 1 or 2 per cell): it shows the report filled end to end on CPU; the asset defaults are larger.
EMBEDDED_EVAL_FAMILIES = ["none", "refusal_suppression", "prefix_injection", "past_tense", "encoding"]
_EMBEDDED_OPS = {
    "ops": {
        "verification_examples": {"config": {"contrastive": False, "include_reference_answers": True}},
        "eval_set": {
            "config": {"families": EMBEDDED_EVAL_FAMILIES, "harmful_per_family": 1, "max_benign": 2, "n_math": 2}
        },
        "judge_benchmarks": {"config": {"max_per_benchmark": 2}},
        "eval_generations": {"config": {"sampling": {"temperature": 0.0, "max_new_tokens": 64, "n": 1}}},
        "judged_results": {"config": {"max_new_tokens": 48}},
        # the embedded teacher (135M) almost never writes a verdict: the keyword judge heads the comparison
        "evaluation_report": {"config": {"headline_judge": "keyword"}},
    }
}
# A few real steps per method on CPU, the same for every method (dagster_project/budgets.py).
EMBEDDED_RUN_CONFIG = with_matched_budgets(
    _EMBEDDED_OPS,
    sft={"max_steps": 3, "batch_size": 2, "grad_accum": 1, "max_length": 1024},
    grpo={"num_generations": 4, "prompts_per_step": 2, "max_prompts": 8, "max_completion_length": 32},
    grpo_steps=2,
)

embedded_default = define_asset_job(
    "embedded_default",
    selection=AssetSelection.all(),
    config=EMBEDDED_RUN_CONFIG,
    description="Every asset of the pipeline, end to end, on the embedded default (CPU, small model, local DuckDB).",
)

# What the weekly retraining refreshes: everything after the prompts (generation is keyed by content hash, so
# only new prompts and samples are generated; critiques, curation, training and evaluation follow).
RETRAINING_GROUPS = ("generation", "annotation", "curation", "training", "evaluation")
RETRAINING_SELECTION = AssetSelection.groups(*RETRAINING_GROUPS)
# What a prompt file dropped into the inbox refreshes: the sources and the prompts built from them.
INGEST_SELECTION = AssetSelection.assets("prompt_sources", "prompt_pool", "attacked_prompts")


# What follows a new human review at once (the annotation sensor): the reviewed verdicts and the re-curated
# verification examples. Training and the judges' human-label sets wait for the retraining job.
REVIEW_FOLLOWUP_SELECTION = AssetSelection.assets("reviewed_critiques", "verification_examples")
# What follows a new checkpoint at once (the checkpoint sensor): the whole evaluation.
EVALUATION_SELECTION = AssetSelection.groups("evaluation")
# Jobs whose runs already evaluate what they train: the checkpoint sensor does not follow them.
EVALUATING_JOBS = ("embedded_default", "retraining", "evaluation")


def review_followup_job(run_config: dict):
    """Re-curation after new human reviews, with the profile's run config (only the ops of its selection)."""
    return define_asset_job(
        "review_followup",
        selection=REVIEW_FOLLOWUP_SELECTION,
        config=run_config,
        description="Fold new human verdicts into reviewed_critiques and re-curate verification_examples, with "
        "the run profile's configuration (the annotation sensor runs it).",
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
