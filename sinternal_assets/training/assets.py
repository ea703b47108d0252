"""Dagster assets of the `training` group: checkpoints trained through Dagster Pipes (a subprocess running
`accelerate launch` of sinternal_assets.training.run), versioned by a content hash of data, configuration and
starting model, and recorded in the `checkpoints` table.

SInternal: `verifier_sft` (spec + prompt + answer -> critique + verdict) then `verifier_grpo` (RL from it,
rewarded by the verifier's judgement of the model's own answers). Baselines through the same machinery:
`refusal_sft`, `alttrain_sft`, `alphaalign_grpo`, `somf_fusion`.
"""

from pathlib import Path
from typing import Literal, Optional

import polars as pl
from dagster import AssetExecutionContext, AssetsDefinition, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field

from sinternal_assets.attacks.assets import attacked_prompts
from sinternal_assets.curation.assets import verification_examples
from sinternal_assets.hashing import content_id, stable_json
from sinternal_assets.judging.assets import offline_expert
from sinternal_assets.judging.lookup import current_offline_expert
from sinternal_assets.models.assets import base_model
from sinternal_assets.models.lookup import base_model_row
from sinternal_assets.reporting import markdown_table
from sinternal_assets.sources.resources import ArtifactStoreResource
from sinternal_assets.sources.spec import DEFAULT_SPEC_CONTEXT, SpecContext
from sinternal_assets.storage.resources import WarehouseResource
from sinternal_assets.storage.warehouse import Warehouse, utc_now
from sinternal_assets.training import checkpoints as ckpt
from sinternal_assets.training import datasets
from sinternal_assets.training.formats import VerifierMode
from sinternal_assets.training.job import GRPOSpec, Method, Reward, SOMFSpec, TrainingJob, TrainSpec
from sinternal_assets.training.resources import TrainingLauncherResource

# Every training asset carries this tag: which matched budget it shares (dagster_project/budgets.py), sft or grpo.
BUDGET_TAG = "sinternal/budget"


class LoraSettings(Config):
    enabled: bool = Field(default=True, description="LoRA adapters (merged on export); off = full fine-tuning")
    r: int = 16
    alpha: int = 32
    dropout: float = Field(
        default=0.0,
        description="LoRA dropout: 0, PEFT's default (the paper states none); 0.05 cost ~1.2x per CPU step "
        "(BENCHMARKS.md)",
    )
    target_modules: str = "all-linear"


class TrainSettings(Config):
    learning_rate: float = 2e-4
    epochs: float = 2.0
    max_steps: Optional[int] = Field(
        default=3,
        description="cap on optimizer steps (the embedded default runs a "
        "few real steps on CPU); None = the full epochs",
    )
    batch_size: int = 2
    grad_accum: int = 1
    max_length: int = 1024
    packing: bool = Field(
        default=False,
        description="on: rows of max_length tokens packed best-fit decreasing (examples per step vary); off: each "
        "micro-batch takes exactly batch_size examples, flattened into one padding-free row, and a step "
        "batch_size x grad_accum (matched budgets count examples)",
    )
    seed: int = 0
    lora: LoraSettings = Field(default_factory=LoraSettings)
    gradient_checkpointing: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="auto: off unless one micro-batch's estimated activations exceed three quarters of the free "
        "memory (models.numerics)",
    )


class VerifierSFTConfig(Config):
    mode: VerifierMode = Field(
        default="critique_and_verdict",
        description="target: critique_and_verdict (SInternal) | verdict_only | critique_only (the ablations)",
    )
    train: TrainSettings = Field(default_factory=TrainSettings)


class BaselineSFTConfig(Config):
    with_reasoning: bool = Field(default=True, description="refusal SFT: reasoning citing the spec before answers")
    max_benign_share: float = Field(default=0.1, ge=0.0, le=1.0, description="AltTrain: cap on benign examples")
    train: TrainSettings = Field(default_factory=TrainSettings)


class RewardWeights(Config):
    safety: float = 1.0
    format: float = 0.5
    task: float = 1.0
    helpfulness: float = 1.0


class GRPOSettings(Config):
    num_generations: int = Field(default=4, ge=2, description="rollouts per prompt (the paper: 8)")
    prompts_per_step: int = Field(default=2, ge=1, description="prompts per optimizer step (the paper: 64)")
    max_prompts: int = Field(default=8, ge=1, description="train-split prompts used (harmful and benign interleaved)")
    math_tasks: int = Field(default=2, ge=0, description="math problems with exact-match task reward (0: none)")
    max_completion_length: int = 32
    temperature: float = 1.0
    beta: float = Field(default=0.0, description="KL coefficient (0: no KL, as the paper)")
    verifier_max_new_tokens: int = Field(
        default=48,
        ge=0,
        description="tokens the verifier may write before its verdict (0: a forced-choice verdict, 1 forward pass)",
    )
    verifier_reward: Literal["verdict", "p_safe"] = Field(
        default="verdict",
        description="SInternal's safety reward: verdict = 1 when the verifier says SAFE (the paper); p_safe = the "
        "verifier's P(SAFE) at `VERDICT: ` (a dense reward; needs verifier_max_new_tokens 0)",
    )
    helpfulness_model: str = Field(
        default="", description="AlphaAlign: a sequence-classification reward model; '' = the lexical proxy"
    )
    reward_weights: RewardWeights = Field(default_factory=RewardWeights)


class FullFineTuneLora(LoraSettings):
    enabled: bool = Field(default=False, description="LoRA adapters (merged on export); off = full fine-tuning")


class GRPOTrainSettings(TrainSettings):
    """The paper's RL stage: full fine-tuning at lr 1e-6; the embedded default runs 2 real steps."""

    learning_rate: float = 1e-6
    epochs: float = 1.0
    max_steps: Optional[int] = 2
    lora: FullFineTuneLora = Field(default_factory=FullFineTuneLora)


class GRPOAssetConfig(Config):
    grpo: GRPOSettings = Field(default_factory=GRPOSettings)
    train: GRPOTrainSettings = Field(default_factory=GRPOTrainSettings)
    spec_context: SpecContext = DEFAULT_SPEC_CONTEXT  # the same text for every prompt (sources.spec)


class DownstreamTrainSettings(TrainSettings):
    """SOMF's downstream fine-tune: full fine-tuning, so the task vector spans every weight."""

    learning_rate: float = 2e-5
    lora: FullFineTuneLora = Field(default_factory=FullFineTuneLora)


class SOMFConfig(Config):
    downstream_examples: int = Field(default=8, ge=1, description="math problems of the downstream fine-tune")
    downstream_seed: int = 1
    mask_fraction: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="share of task-vector coordinates kept at the aligned weights (safety subspace)",
    )
    scale: float = Field(default=1.0, description="task-arithmetic scale of the unmasked task vector")
    keep_downstream: bool = Field(default=True, description="also export the un-fused downstream model")
    train: DownstreamTrainSettings = Field(default_factory=DownstreamTrainSettings)


def latest_checkpoint(wh: Warehouse, asset_name: str) -> dict:
    rows = wh.query("latest_checkpoint", asset=asset_name)
    if rows.is_empty():
        raise RuntimeError(f"no `{asset_name}` checkpoint in the warehouse: materialize `{asset_name}` first")
    row = rows.row(0, named=True)
    if not Path(row["path"], "config.json").is_file():
        raise RuntimeError(f"checkpoint {row['checkpoint_id']} is recorded at {row['path']}, which has no model")
    return row


def _history_table(history: list[dict]) -> pl.DataFrame:
    """The logged steps as a table: loss, speed, the GRPO reward (the weighted sum of its terms) and each reward
    term's mean by name (`rewards/<name>/mean`)."""
    keys = [
        "step",
        "loss",
        "learning_rate",
        "tokens_per_s",
        "step_time_s",
        "reward",
        "num_tokens",
        "examples_seen",
        "supervised_tokens",
    ]
    terms = [
        k for k in dict.fromkeys(k for h in history for k in h) if k.startswith("rewards/") and k.endswith("/mean")
    ]
    present = [k for k in [*keys, *terms] if any(k in h for h in history)]
    return pl.DataFrame([{k: h.get(k) for k in present} for h in history]) if history else pl.DataFrame()


def run_training(
    context: AssetExecutionContext,
    *,
    asset_name: str,
    method: Method,
    start_path: str,
    start_hash: str,
    rows: list[dict],
    config: dict,
    trainer: TrainingLauncherResource,
    warehouse: WarehouseResource,
    grpo: Optional[GRPOSpec] = None,
    somf: Optional[SOMFSpec] = None,
    safety_rows: Optional[list[dict]] = None,
) -> MaterializeResult:
    """Train (or reuse) the checkpoint these inputs determine, record it, and describe it as metadata. `config` is
    the asset's config, whose `train` settings go to the trainer; `grpo` / `somf` are the method's settings and
    `safety_rows` SOMF's safety examples (part of the data hash)."""
    if not rows:
        raise ValueError(f"{asset_name}: no training rows (check the upstream data and its filters)")
    extra_data = {"safety": safety_rows} if safety_rows is not None else {}
    data_hash = content_id(rows, extra_data, length=32)
    version = ckpt.checkpoint_version(method, data_hash, config, start_hash)
    root = trainer.root()
    final = ckpt.final_dir(root, asset_name, version)
    orphans, orphan_bytes = ckpt.remove_orphans(root, asset_name)  # left by a killed training, whatever its version
    if orphans:
        context.log.warning(
            f"{asset_name}: removed {len(orphans)} unfinished checkpoint folder(s) left by a killed training "
            f"({', '.join(orphans)}; {orphan_bytes / ckpt.MB:.0f} MB freed)"
        )
    streamed: dict = {}
    reused = ckpt.is_complete(final)
    if reused:
        context.log.info(f"{asset_name}: checkpoint {version} already trained on these inputs; reusing {final}")
    else:
        # the new checkpoint's weights take about as much room as the starting model's (SOMF keeps two models)
        needed = ckpt.folder_bytes(Path(start_path)) * (2 if method == "somf" else 1)
        ckpt.ensure_space(root, needed, asset_name)
        partial = ckpt.work_dir(root, asset_name, version)
        try:
            inputs = partial / "inputs"
            job = TrainingJob(
                asset=asset_name,
                method=method,
                version=version,
                start_model=start_path,
                start_model_hash=start_hash,
                data_hash=data_hash,
                n_examples=len(rows),
                config=config,
                train=TrainSpec(**config["train"]),
                partial_dir=str(partial),
                data=str(inputs / "train.jsonl"),
                grpo=grpo,
                somf=somf,
                safety_data=str(inputs / "safety.jsonl") if safety_rows is not None else None,
                precision=trainer.precision,
            )
            ckpt.write_jsonl(rows, Path(job.data))
            if job.safety_data is not None:
                ckpt.write_jsonl(safety_rows, Path(job.safety_data))
            job_path = job.to_json(partial / "job.json")
            context.log.info(
                f"{asset_name}: training {method} on {len(rows)} examples from {start_path}: "
                f"{' '.join(trainer.command(job_path))}"
            )
            invocation = trainer.run(context, job_path)
        except Exception as error:
            ckpt.raise_if_out_of_space(error, root, partial, asset_name, needed)  # else the partial folder stays
            raise
        if not ckpt.is_complete(final):
            raise RuntimeError(f"{asset_name}: the training process ended without a complete checkpoint at {final}")
        streamed = dict(invocation.get_materialize_result().metadata or {})
    manifest = ckpt.read_manifest(final)
    summary = manifest["summary"]
    record = {
        "checkpoint_id": f"{asset_name}-{version}",
        "asset": asset_name,
        "version": version,
        "method": method,
        "path": str(final / ckpt.MODEL_DIR),
        "start_model_hash": start_hash,
        "data_hash": data_hash,
        "config_json": stable_json(config),
        "n_examples": len(rows),
        "train_steps": int(max((h["step"] for h in manifest["history"]), default=0)),
        "final_loss": summary.get("final_loss"),
        "metrics_json": stable_json(manifest["history"]),
        "created_at": utc_now(),
        "budget_json": stable_json(ckpt.budget_of_manifest(manifest)),
    }
    warehouse.get().write(upsert={"checkpoints": (pl.DataFrame([record]), ["checkpoint_id"])})
    figures = {k: round(float(v), 6) for k, v in summary.items() if isinstance(v, (int, float))}
    return MaterializeResult(
        metadata={
            **{k: v for k, v in streamed.items() if k not in figures and k != "checkpoint"},
            "checkpoint": MetadataValue.path(record["path"]),
            "version": version,
            "reused": reused,
            "orphaned_partials_removed": len(orphans),
            "start_model_hash": start_hash,
            "data_hash": data_hash,
            "examples": len(rows),
            "train_steps": record["train_steps"],
            "training_seconds": manifest["seconds"],
            **figures,
            **{
                key: MetadataValue.json(manifest[key])
                for key in ("consumed", "fitting", "numerics", "fusion")
                if key in manifest
            },
            "history": MetadataValue.md(markdown_table(_history_table(manifest["history"]), 50)),
            "config": MetadataValue.json(config),
        }
    )


def _sft_from_base(
    context: AssetExecutionContext, asset_name: str, rows: list[dict], config, warehouse, trainer
) -> MaterializeResult:
    """SFT from the base model (the SInternal verifier and the SFT baselines)."""
    base = base_model_row(warehouse.get())
    return run_training(
        context,
        asset_name=asset_name,
        method="sft",
        start_path=base["path"],
        start_hash=base["content_hash"],
        rows=rows,
        config=config.model_dump(),
        trainer=trainer,
        warehouse=warehouse,
    )


@asset(
    group_name="training",
    deps=[verification_examples, base_model],
    compute_kind="trl",
    description="SInternal: the policy model fine-tuned as a safety verifier (TRL SFT, loss on critique + verdict "
    "only) on the train split of verification_examples; LoRA r16/alpha32/lr 2e-4/2 epochs by default.",
    tags={BUDGET_TAG: "sft"},
)
def verifier_sft(
    context: AssetExecutionContext,
    config: VerifierSFTConfig,
    warehouse: WarehouseResource,
    trainer: TrainingLauncherResource,
) -> MaterializeResult:
    rows = datasets.verifier_rows(warehouse.get().table("verification_examples"), config.mode)
    return _sft_from_base(context, "verifier_sft", rows, config, warehouse, trainer)


def _grpo(
    context: AssetExecutionContext,
    asset_name: str,
    start_path: str,
    start_hash: str,
    config: GRPOAssetConfig,
    warehouse: WarehouseResource,
    trainer: TrainingLauncherResource,
    *,
    reward: Reward,
    math_tasks: int,
    verifier_model: Optional[str] = None,
) -> MaterializeResult:
    """GRPO on train-split prompts (plus `math_tasks` math problems) with the named reward."""
    prompts = warehouse.get().query(
        "grpo_prompts", spec_context=config.spec_context, max_prompts=config.grpo.max_prompts
    )
    settings = {**config.grpo.model_dump(), "math_tasks": math_tasks}
    grpo = GRPOSpec(**settings, reward=reward, verifier_model=verifier_model)
    return run_training(
        context,
        asset_name=asset_name,
        method="grpo",
        start_path=start_path,
        start_hash=start_hash,
        rows=datasets.grpo_rows(prompts, math_tasks),
        config=config.model_dump(),
        trainer=trainer,
        warehouse=warehouse,
        grpo=grpo,
    )


def _candidates(wh: Warehouse) -> pl.DataFrame:
    return wh.query(
        "verification_candidates", target="final_answer", spec_context=DEFAULT_SPEC_CONTEXT, include_reference=False
    )


@asset(
    group_name="training",
    deps=[verifier_sft, attacked_prompts],
    compute_kind="trl",
    description="SInternal + RL: TRL GRPO from the verifier_sft checkpoint; reward = the frozen verifier judges the "
    "model's own answer safe (benign: and not a refusal) + format + exact-match math; no KL by default.",
    tags={BUDGET_TAG: "grpo"},
)
def verifier_grpo(
    context: AssetExecutionContext,
    config: GRPOAssetConfig,
    warehouse: WarehouseResource,
    trainer: TrainingLauncherResource,
) -> MaterializeResult:
    start = latest_checkpoint(warehouse.get(), "verifier_sft")
    return _grpo(
        context,
        "verifier_grpo",
        start["path"],
        start["version"],
        config,
        warehouse,
        trainer,
        reward="sinternal",
        math_tasks=config.grpo.math_tasks,
        verifier_model=start["path"],
    )


@asset(
    group_name="training",
    deps=[verification_examples, base_model],
    compute_kind="trl",
    description="Baseline (STAR-1 / SafeChain style): SFT on spec-citing refusals for harmful prompts and the "
    "policy's own safe, helpful answers for benign ones.",
    tags={BUDGET_TAG: "sft"},
)
def refusal_sft(
    context: AssetExecutionContext,
    config: BaselineSFTConfig,
    warehouse: WarehouseResource,
    trainer: TrainingLauncherResource,
) -> MaterializeResult:
    rows = datasets.refusal_rows(_candidates(warehouse.get()), config.with_reasoning)
    return _sft_from_base(context, "refusal_sft", rows, config, warehouse, trainer)


@asset(
    group_name="training",
    deps=[verification_examples, base_model],
    compute_kind="trl",
    description="Baseline AltTrain: SFT on restructured reasoning (problem understanding, one-sentence harmfulness "
    "assessment, then a refusal or the original reasoning), mostly harmful prompts.",
    tags={BUDGET_TAG: "sft"},
)
def alttrain_sft(
    context: AssetExecutionContext,
    config: BaselineSFTConfig,
    warehouse: WarehouseResource,
    trainer: TrainingLauncherResource,
) -> MaterializeResult:
    rows = datasets.alttrain_rows(_candidates(warehouse.get()), config.max_benign_share)
    return _sft_from_base(context, "alttrain_sft", rows, config, warehouse, trainer)


@asset(
    group_name="training",
    deps=[attacked_prompts, base_model],
    compute_kind="trl",
    description="Baseline AlphaAlign: pure RL (TRL GRPO) from binary prompt labels; reward = right format and a "
    "refusal exactly when harmful + helpfulness on benign prompts normalised within the rollout group, "
    "zero for refusals.",
    tags={BUDGET_TAG: "grpo"},
)
def alphaalign_grpo(
    context: AssetExecutionContext,
    config: GRPOAssetConfig,
    warehouse: WarehouseResource,
    trainer: TrainingLauncherResource,
) -> MaterializeResult:
    base = base_model_row(warehouse.get())
    return _grpo(
        context,
        "alphaalign_grpo",
        base["path"],
        base["content_hash"],
        config,
        warehouse,
        trainer,
        reward="alphaalign",
        math_tasks=0,
    )


@asset(
    group_name="training",
    deps=[verification_examples, base_model],
    compute_kind="torch",
    description="Baseline SOMF: fine-tune the aligned model on a downstream task (math), learn a safety-subspace "
    "mask from safety data, fuse the masked task vector into the aligned model; merged weights exported.",
    tags={BUDGET_TAG: "sft"},
)
def somf_fusion(
    context: AssetExecutionContext, config: SOMFConfig, warehouse: WarehouseResource, trainer: TrainingLauncherResource
) -> MaterializeResult:
    wh = warehouse.get()
    base = base_model_row(wh)
    safety = datasets.safety_rows(_candidates(wh))
    if not safety:
        raise ValueError(
            "somf_fusion: no train-split harmful prompt among the judged policy answers to learn the "
            "safety subspace from"
        )
    rows = datasets.math_rows(config.downstream_examples, config.downstream_seed)
    settings = SOMFSpec(mask_fraction=config.mask_fraction, scale=config.scale, keep_downstream=config.keep_downstream)
    return run_training(
        context,
        asset_name="somf_fusion",
        method="somf",
        start_path=base["path"],
        start_hash=base["content_hash"],
        rows=rows,
        config=config.model_dump(),
        trainer=trainer,
        warehouse=warehouse,
        somf=settings,
        safety_rows=safety,
    )


class VerifierAblationConfig(Config):
    train: TrainSettings = Field(default_factory=TrainSettings)


ABLATION_GROUP = "ablations"  # the paper's ablations: trained by the study job, not by the embedded smoke run


def _verifier_ablation(name: str, mode: VerifierMode, description: str):
    """An SFT verifier like `verifier_sft`, on the same examples and budget, with the target `mode`."""

    @asset(
        name=name,
        group_name=ABLATION_GROUP,
        deps=[verification_examples, base_model],
        compute_kind="trl",
        description=description,
        tags={BUDGET_TAG: "sft"},
    )
    def ablation(
        context: AssetExecutionContext,
        config: VerifierAblationConfig,
        warehouse: WarehouseResource,
        trainer: TrainingLauncherResource,
    ) -> MaterializeResult:
        rows = datasets.verifier_rows(warehouse.get().table("verification_examples"), mode)
        return _sft_from_base(context, name, rows, config, warehouse, trainer)

    return ablation


verifier_sft_verdict_only = _verifier_ablation(
    "verifier_sft_verdict_only",
    "verdict_only",
    "SInternal ablation w/o critique: the verifier SFT on the same examples, loss on the verdict alone.",
)
verifier_sft_critique_only = _verifier_ablation(
    "verifier_sft_critique_only",
    "critique_only",
    "SInternal ablation w/o judgement: the verifier SFT on the same examples, loss on the critique alone "
    "(no verdict line).",
)


@asset(
    group_name=ABLATION_GROUP,
    deps=[verification_examples, offline_expert, base_model],
    compute_kind="trl",
    description="SInternal ablation Other-Exp: the verifier SFT on other models' answers instead of the policy's "
    "own (PyRIT's human-labelled responses on the teacher_train side: the human verdict, the offline expert's "
    "critique), as many examples as verifier_sft and its budget.",
    tags={BUDGET_TAG: "sft"},
)
def verifier_sft_other_exp(
    context: AssetExecutionContext,
    config: VerifierAblationConfig,
    warehouse: WarehouseResource,
    trainer: TrainingLauncherResource,
    artifacts: ArtifactStoreResource,
) -> MaterializeResult:
    from sinternal_assets.evaluation.human_labels import read_pyrit_scorer_evals, with_label_split

    wh = warehouse.get()
    own = wh.table("verification_examples").filter(pl.col("split") == "train")
    if own.is_empty():
        raise RuntimeError(
            "verification_examples has no train-split example: the Other-Exp verifier matches its count"
        )
    labels = with_label_split(read_pyrit_scorer_evals(artifacts.fetch("pyrit")["pyrit"]).frame)
    train = labels.filter((pl.col("task") == "safety") & (pl.col("label_split") == "teacher_train"))
    unsafe = train["truth_unsafe"].to_list()
    critiques = current_offline_expert(wh).critiques(
        train["prompt_text"].to_list(), train["response_text"].to_list(), unsafe
    )
    labelled = train.with_columns(
        pl.Series("final_verdict", ["UNSAFE" if u else "SAFE" for u in unsafe]), pl.Series("critique", critiques)
    )
    rows = datasets.other_exp_rows(labelled, own["spec_text"][0], own.height)
    context.log.info(f"verifier_sft_other_exp: {len(rows)} examples from {train.height} human-labelled answers")
    return _sft_from_base(context, "verifier_sft_other_exp", rows, config, warehouse, trainer)


# Every checkpoint the comparison evaluates (the evaluation depends on them; the checkpoint sensor watches them):
# each training asset of this module, found by its budget tag, in the order they are defined.
CHECKPOINT_ASSETS = [
    value
    for value in list(globals().values())
    if isinstance(value, AssetsDefinition) and BUDGET_TAG in value.tags_by_key.get(value.key, {})
]


def budget_of(checkpoint_asset: AssetsDefinition) -> str:
    """The budget family a training asset shares (sft | grpo): every method of a family trains on one budget."""
    return checkpoint_asset.tags_by_key[checkpoint_asset.key][BUDGET_TAG]
