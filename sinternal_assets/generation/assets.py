"""Dagster assets of the `generation` group: the policy's own answers and the expert's critiques."""

import contextlib
import json

from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset
from pydantic import Field, field_validator

from sinternal_assets.attacks.assets import attacked_prompts
from sinternal_assets.choices import only
from sinternal_assets.generation import critique as critique_logic
from sinternal_assets.generation import critique_work, incremental
from sinternal_assets.generation.reasoning import split_reasoning
from sinternal_assets.generation.resources import GenerationResource
from sinternal_assets.generation.sampling import SamplingParams, generation_key
from sinternal_assets.judging.assets import offline_expert
from sinternal_assets.judging.lookup import current_offline_expert
from sinternal_assets.models.assets import base_model
from sinternal_assets.models.lookup import base_model_row
from sinternal_assets.reporting import markdown_table
from sinternal_assets.sources.assets import reference_answers, safety_spec
from sinternal_assets.sources.lookup import current_spec_row
from sinternal_assets.storage.resources import WarehouseResource
from sinternal_assets.storage.warehouse import Warehouse, utc_now


class SamplingConfig(Config):
    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 64
    n: int = Field(default=2, description="answers per prompt (the papers use 8 on a GPU)")
    seed: int = 0
    stop: list[str] = Field(default_factory=list)

    def params(self) -> SamplingParams:
        return SamplingParams(self.temperature, self.top_p, self.max_new_tokens, self.n, self.seed, tuple(self.stop))


class PolicyAnswersConfig(Config):
    max_prompts: int = Field(
        default=4,
        description="attacked prompts in the slice (deterministic by attack_id); "
        "the embedded default is a small CPU slice",
    )
    splits: list[str] = Field(default_factory=lambda: ["train", "eval"], description="prompt splits to answer")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    chunk_size: int = Field(default=8, description="prompts per generate call and per DuckDB transaction")
    _splits_known = field_validator("splits")(only(("train", "eval")))


@asset(
    group_name="generation",
    deps=[attacked_prompts, base_model],
    compute_kind="transformers",
    description="N answers of the policy model per attacked prompt (chat template applied), reasoning split "
    "from the final answer; incremental: only prompts/samples not yet stored are generated.",
)
def policy_answers(
    context: AssetExecutionContext,
    config: PolicyAnswersConfig,
    warehouse: WarehouseResource,
    policy: GenerationResource,
) -> MaterializeResult:
    wh = warehouse.get()
    model_id, model_hash, model_path = policy.model_identity(base_model_row(wh))
    params = config.sampling.params()
    prompts = wh.query("policy_slice", splits=config.splits, max_prompts=config.max_prompts)
    items = [
        incremental.WorkItem(
            conversation=[{"role": "user", "content": row["text"]}],
            keys=tuple(
                generation_key(row["text"], row["template_id"], model_hash, params, i) for i in range(params.n)
            ),
            payload=row,
        )
        for row in prompts.iter_rows(named=True)
    ]
    existing = set(wh.query("policy_answer_ids")["answer_id"].to_list())
    todo, stats = incremental.plan(items, existing)
    context.log.info(
        f"policy_answers: {stats.planned} samples wanted for {len(items)} prompts, "
        f"{stats.skipped} already stored, {stats.planned - stats.skipped} to generate"
    )
    if todo:
        with policy.session(model_path) as backend:
            _generate_answers(context, wh, backend, todo, stats, params, model_id, model_hash, config.chunk_size)
    summary = wh.query("policy_answer_finish_reasons")
    return MaterializeResult(
        metadata={
            **stats.as_dict(),
            "rows_in_table": wh.count("policy_answers"),
            "model_id": model_id,
            "model_hash": model_hash,
            "sampling": MetadataValue.json(params.as_dict()),
            "finish_reasons": MetadataValue.md(markdown_table(summary)),
        }
    )


def _generate_answers(
    context,
    wh: Warehouse,
    backend,
    todo,
    stats,
    params: SamplingParams,
    model_id: str,
    model_hash: str,
    chunk_size: int,
) -> None:
    params_json = json.dumps(params.as_dict(), sort_keys=True)

    def build_row(item, sample_index, completion):
        split = split_reasoning(completion.text)
        return {
            "answer_id": item.keys[sample_index],
            "attack_id": item.payload["attack_id"],
            "prompt_id": item.payload["prompt_id"],
            "sample_index": sample_index,
            "model_id": model_id,
            "model_hash": model_hash,
            "backend": backend.name,
            "params_json": params_json,
            "raw_text": completion.text,
            "reasoning": split.reasoning,
            "final_answer": split.final_answer,
            "reasoning_closed": split.reasoning_closed,
            "finish_reason": completion.finish_reason,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "created_at": utc_now(),
        }

    incremental.run(
        todo,
        stats,
        backend,
        params,
        build_row,
        lambda rows: wh.write(append={"policy_answers": wh.frame(rows, "policy_answers")}),
        chunk_size=chunk_size,
        log=context.log.info,
    )


class ExpertCritiquesConfig(Config):
    judge_reasoning: bool = Field(default=True, description="also judge non-empty reasoning, separately")
    max_attempts: int = Field(default=2, ge=1, description="tries per item when the verdict does not parse")
    few_shot: bool = Field(default=True, description="show the teacher one worked example of the format")
    max_reference_answers: int = Field(
        default=4, ge=0, description="reference-labelled answers judged too, to measure the teacher's agreement"
    )
    sampling: SamplingConfig = Field(default_factory=lambda: SamplingConfig(temperature=0.0, max_new_tokens=96, n=1))
    chunk_size: int = 8


@asset(
    group_name="generation",
    deps=[policy_answers, safety_spec, reference_answers, offline_expert],
    compute_kind="transformers",
    description="The teacher's critique and strictly parsed SAFE/UNSAFE verdict for each answer's final answer "
    "(and, separately, its reasoning); unparseable outputs kept verbatim and counted. The teacher is the "
    "offline expert (embedded default) or a configured LLM.",
)
def expert_critiques(
    context: AssetExecutionContext,
    config: ExpertCritiquesConfig,
    warehouse: WarehouseResource,
    teacher: GenerationResource,
) -> MaterializeResult:
    wh = warehouse.get()
    spec = current_spec_row(wh)
    spec_hash, spec_text = spec["spec_hash"], spec["rendered_text"]
    expert = current_offline_expert(wh) if teacher.is_offline_expert else None
    if expert is not None:
        teacher_id, teacher_hash, teacher_path = expert.teacher_id, expert.expert_hash, ""
    else:
        teacher_id, teacher_hash, teacher_path = teacher.model_identity(base_model_row(wh))
    params = config.sampling.params()
    params_json = json.dumps(params.as_dict(), sort_keys=True)
    inputs = wh.query("critique_inputs", max_reference_answers=config.max_reference_answers)
    items = critique_work.work_items(
        inputs.iter_rows(named=True),
        spec_text,
        spec_hash,
        teacher_hash,
        params,
        config.few_shot,
        critique_logic.TARGETS if config.judge_reasoning else ("final_answer",),
    )
    todo, stats = incremental.plan(items, set(wh.query("expert_critique_ids")["critique_id"].to_list()))
    context.log.info(f"expert_critiques: {stats.planned} judgements wanted, {stats.skipped} already stored")
    if todo:
        session = contextlib.nullcontext(None) if expert is not None else teacher.session(teacher_path)
        with session as backend:
            if expert is not None:
                judge = critique_work.offline_teacher(expert)
                who = critique_work.Teacher(teacher_id, teacher_hash, "offline_expert")
            else:
                judge = critique_work.llm_teacher(backend, params, config.max_attempts)
                who = critique_work.Teacher(teacher_id, teacher_hash, backend.name)

            def compute(chunk):
                judgements = judge(chunk)
                rows = critique_work.critique_rows(chunk, judgements, who, params_json, spec_hash)
                return rows, sum(j.completion_tokens for j in judgements)

            incremental.run_chunks(
                [item for item, _ in todo],
                compute,
                lambda rows: wh.write(append={"expert_critiques": wh.frame(rows, "expert_critiques")}),
                stats,
                config.chunk_size,
                context.log.info,
                unit="judgements",
            )
    summary = wh.query("expert_critique_verdicts")
    unparseable = wh.query("expert_critiques_unparseable")["n"][0]
    agreement = wh.query("teacher_reference_agreement")
    return MaterializeResult(
        metadata={
            **stats.as_dict(),
            "rows_in_table": wh.count("expert_critiques"),
            "unparseable": int(unparseable),
            "teacher_id": teacher_id,
            "teacher_hash": teacher_hash,
            "spec_hash": spec_hash,
            "verdicts": MetadataValue.md(markdown_table(summary)),
            "agreement_with_reference": MetadataValue.md(markdown_table(agreement)),
        }
    )
