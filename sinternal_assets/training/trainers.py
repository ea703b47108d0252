"""The training methods a job can ask for, on TRL's trainers: `sft` (SFTTrainer: SInternal's verifier, the
refusal and AltTrain baselines, SOMF's downstream fine-tune), `grpo` (GRPOTrainer: SInternal's RL stage and
AlphaAlign) and `somf` (a downstream fine-tune, then safety-subspace fusion). Each takes the job (a
`TrainingJob`, see job.py), a reporter and the `.partial` folder to write into, and returns the run's history,
what the trainer consumed (`progress.Consumption`), how the examples were fitted (`fitting.FitReport`) and the
numeric policy it ran under (`models.numerics`).

Numerics: the job's precision setting resolved on the machine that trains (`numerics.choose`): bf16 autocast
over fp32 master weights on a CPU with native bf16, fp32 on a CPU without, bf16 on a GPU that has it. Gradient
checkpointing only where one micro-batch's activations would not fit in memory (`numerics`). The loss is TRL's
fused LM head: log-probabilities of the supervised positions only, computed in tiles, so the full-vocabulary
logits are never built for prompt tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, assert_never

import torch

from sinternal_assets.models.numerics import NumericPolicy, activation_bytes, choose, use_gradient_checkpointing
from sinternal_assets.training.checkpoints import ADAPTER_DIR, MODEL_DIR, read_jsonl
from sinternal_assets.training.fitting import fit_rows
from sinternal_assets.training.job import GRPOSpec, LoraSpec, TrainingJob, TrainSpec
from sinternal_assets.training.progress import Consumption, MetricsCallback, Reporter, is_main_process


def _tokenizer(path: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _model(path: str, policy: NumericPolicy):
    """The weights in the policy's dtype: bf16 on a GPU with bf16, fp32 master weights everywhere else (a CPU's
    bf16 path is autocast)."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=policy.inference_dtype())


def _counting(trainer_class):
    """`trainer_class` counting every micro-batch it trains on into `self.consumed` (a `Consumption`)."""

    class Counting(trainer_class):
        consumed: Consumption

        def training_step(self, model, inputs, num_items_in_batch=None):
            self.consumed.add(inputs)
            return super().training_step(model, inputs, num_items_in_batch)

    Counting.__name__ = f"Counting{trainer_class.__name__}"
    return Counting


def _peft_config(lora: LoraSpec):
    if not lora.enabled:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        task_type="CAUSAL_LM",
    )


def _checkpointing(train: TrainSpec, model_path: str, batch_tokens: int) -> tuple[bool, str]:
    """Gradient checkpointing for a run whose largest micro-batch holds `batch_tokens` tokens (numerics)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_path)
    estimate = activation_bytes(batch_tokens, config.num_hidden_layers, config.hidden_size)
    return use_gradient_checkpointing(train.gradient_checkpointing, estimate)


def _common_args(train: TrainSpec, out: Path, policy: NumericPolicy, checkpointing: bool) -> dict[str, Any]:
    return dict(
        output_dir=str(out / "trainer"),
        learning_rate=train.learning_rate,
        num_train_epochs=train.epochs,
        max_steps=train.max_steps or -1,
        gradient_accumulation_steps=train.grad_accum,
        lr_scheduler_type="linear",
        warmup_steps=0,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        seed=train.seed,
        data_seed=train.seed,
        use_cpu=policy.device == "cpu",
        bf16=policy.bf16,
        gradient_checkpointing=checkpointing,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )


def _quiet(trainer) -> None:
    """MetricsCallback reports each step; the trainer's own printer would say it twice."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def export(model, tokenizer, out: Path) -> None:
    """Save the adapter (when LoRA) and the merged model: `model/` loads in transformers and vLLM alike."""
    if not is_main_process():
        return
    if hasattr(model, "merge_and_unload"):  # a peft model
        model.save_pretrained(out / ADAPTER_DIR)
        model = model.merge_and_unload()
    model = model.to(torch.float32) if model.dtype != torch.bfloat16 else model
    model.save_pretrained(out / MODEL_DIR, safe_serialization=True)
    tokenizer.save_pretrained(out / MODEL_DIR)


def _prompt_ids(tokenizer, messages: list[dict]) -> list[int]:
    """The token ids of a prompt as the chat template renders it, with the assistant turn opened."""
    return tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=True)[
        "input_ids"
    ]


def sft_trainer(
    start_model: str,
    rows: list[dict],
    train: TrainSpec,
    reporter: Reporter,
    label: str,
    out: Path,
    policy: NumericPolicy | None = None,
):
    """A TRL SFTTrainer on prompt-completion rows (loss on the completion only), counting what it consumes, and
    its metrics callback. The rows are fitted into `max_length` first (`fitting`): an example too long is
    shortened in its request or answer, never in its completion, or dropped; the trainer's `fit_report` says
    how many. Without packing, a batch is exactly `batch_size` examples, flattened into one padding-free row
    (no compute spent on padding); with packing (best-fit decreasing), a batch is `batch_size` rows of up to
    `max_length` tokens, each holding as many examples as fit."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    if not rows:
        raise ValueError(f"{label}: no training examples")
    policy = policy or choose()
    tokenizer = _tokenizer(start_model)
    fitted, report = fit_rows(tokenizer, rows, train.max_length)
    if not fitted:
        raise ValueError(
            f"{label}: none of the {len(rows)} examples fits in max_length={train.max_length} tokens, even with "
            "its request and answer shortened (the completion is never cut): raise train.max_length"
        )
    if report.shortened or report.dropped:
        reporter.log(
            f"{label}: {report.shortened} of {len(rows)} examples shortened in their request or answer to fit "
            f"max_length={train.max_length} ({report.tokens_cut} input tokens cut, no completion token), "
            f"{report.dropped} dropped (too long even shortened)"
        )
    # the largest micro-batch: the batch_size longest examples together (packing: batch_size full rows)
    batch_tokens = train.batch_size * train.max_length if train.packing else report.longest_batch(train.batch_size)
    checkpointing, why = _checkpointing(train, start_model, batch_tokens)
    args = SFTConfig(
        **_common_args(train, out, policy, checkpointing),
        per_device_train_batch_size=train.batch_size,
        # every example already fits (fit_rows): TRL never truncates. Without packing, a batch is `batch_size`
        # whole examples flattened into one padding-free row (TRL requires max_length None for that)
        max_length=train.max_length if train.packing else None,
        packing=train.packing,
        padding_free=True,
        completion_only_loss=True,
        shuffle_dataset=True,
    )
    consumed = Consumption()
    callback = MetricsCallback(reporter, label, consumed)
    trainer = _counting(SFTTrainer)(
        model=_model(start_model, policy),
        args=args,
        train_dataset=Dataset.from_list(fitted),
        processing_class=tokenizer,
        peft_config=_peft_config(train.lora),
        callbacks=[callback],
    )
    trainer.consumed = consumed
    trainer.fit_report = report
    _quiet(trainer)
    reporter.log(
        f"{label}: {len(fitted)} examples, {args.max_steps if args.max_steps > 0 else 'all'} steps planned, "
        f"LoRA {'on' if train.lora.enabled else 'off'}, packing {args.packing}, {policy.dtype} on {policy.device} "
        f"({policy.reason}), gradient checkpointing {'on' if checkpointing else 'off'} ({why})"
    )
    return trainer, callback


def _outcome(trainer, callback: MetricsCallback, policy: NumericPolicy, n_examples: int) -> dict:
    """What a run reports besides its history: what the trainer consumed, how the data was fitted, numerics."""
    consumed = trainer.consumed.record()
    fit = getattr(trainer, "fit_report", None)
    in_data = fit.kept if fit is not None else n_examples
    consumed["examples_in_data"] = in_data
    consumed["epochs"] = consumed["examples_seen"] / in_data if in_data else None
    consumed["optimizer_steps"] = trainer.state.global_step
    return {
        "history": callback.history,
        "consumed": consumed,
        **({"fitting": fit.record()} if fit is not None else {}),
        "numerics": {**policy.record(), "gradient_checkpointing": bool(trainer.args.gradient_checkpointing)},
    }


def train_sft(
    start_model: str,
    rows: list[dict],
    train: TrainSpec,
    reporter: Reporter,
    label: str,
    out: Path,
    policy: NumericPolicy | None = None,
):
    """SFT on prompt-completion rows; returns (trained model, tokenizer, outcome: history, consumed, fitting,
    numerics)."""
    policy = policy or choose()
    trainer, callback = sft_trainer(start_model, rows, train, reporter, label, out, policy)
    trainer.train()
    model = trainer.accelerator.unwrap_model(trainer.model)
    return model, trainer.processing_class, _outcome(trainer, callback, policy, len(rows))


def sft(job: TrainingJob, reporter: Reporter, out: Path) -> dict:
    model, tokenizer, outcome = train_sft(
        job.start_model, read_jsonl(Path(job.data)), job.train, reporter, job.asset, out, choose(job.precision)
    )
    export(model, tokenizer, out)
    return outcome


def _reward_functions(grpo: GRPOSpec) -> tuple[list, list[float]]:
    from sinternal_assets.training import reward_functions as rf

    weights = grpo.reward_weights
    if grpo.reward == "sinternal":
        safety = rf.VerifierSafetyReward(
            grpo.verifier_model, grpo.verifier_max_new_tokens, reward=grpo.verifier_reward
        )
        functions = [safety, rf.format_reward]
        chosen = [weights.safety, weights.format]
        if grpo.math_tasks > 0:
            functions.append(rf.task_reward)
            chosen.append(weights.task)
        return functions, chosen
    if grpo.reward == "alphaalign":
        return (
            [rf.alphaalign_safety_reward, rf.HelpfulnessReward(grpo.helpfulness_model or None)],
            [weights.safety, weights.helpfulness],
        )
    assert_never(grpo.reward)  # GRPOSpec.reward admits no other name


def grpo(job: TrainingJob, reporter: Reporter, out: Path) -> dict:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    rows = read_jsonl(Path(job.data))
    if not rows:
        raise ValueError(f"{job.asset}: no prompts")
    settings, train = job.grpo, job.train
    functions, weights = _reward_functions(settings)
    generations = settings.num_generations
    policy = choose(job.precision)
    # a GRPO micro-batch is prompts_per_step x rollouts sequences of prompt + completion (at most)
    tokenizer = _tokenizer(job.start_model)
    longest_prompt = max(len(_prompt_ids(tokenizer, row["prompt"])) for row in rows)
    batch_tokens = settings.prompts_per_step * generations * (longest_prompt + settings.max_completion_length)
    checkpointing, why = _checkpointing(train, job.start_model, batch_tokens)
    args = GRPOConfig(
        **_common_args(train, out, policy, checkpointing),
        per_device_train_batch_size=settings.prompts_per_step * generations,
        num_generations=generations,
        max_completion_length=settings.max_completion_length,
        temperature=settings.temperature,
        beta=settings.beta,
        reward_weights=weights,
        log_completions=False,
        shuffle_dataset=True,
    )
    consumed = Consumption()
    callback = MetricsCallback(reporter, job.asset, consumed)
    trainer = _counting(GRPOTrainer)(
        model=_model(job.start_model, policy),
        reward_funcs=functions,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=_peft_config(train.lora),
        callbacks=[callback],
    )
    trainer.consumed = consumed
    _quiet(trainer)
    reporter.log(
        f"{job.asset}: {len(rows)} prompts, {settings.prompts_per_step} prompts x {generations} "
        f"rollouts per step, rewards {[getattr(f, '__name__', type(f).__name__) for f in functions]} "
        f"weighted {weights}, beta {settings.beta}, {policy.dtype} on {policy.device} ({policy.reason}), "
        f"gradient checkpointing {'on' if checkpointing else 'off'} ({why})"
    )
    trainer.train()
    export(trainer.accelerator.unwrap_model(trainer.model), tokenizer, out)
    return _outcome(trainer, callback, policy, len(rows) * generations)


def safety_gradients(model, tokenizer, rows: list[dict], max_length: int) -> dict[str, torch.Tensor]:
    """Gradient of the mean completion loss on safety examples, at the model's current weights."""
    model.zero_grad(set_to_none=True)
    model.train(False)
    for row in rows:
        prompt = tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
        if not full.startswith(prompt):
            raise ValueError("the chat template renders the prompt differently inside the full conversation")
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        ids = tokenizer(full, add_special_tokens=False)["input_ids"][:max_length]
        labels = [-100] * len(prompt_ids) + ids[len(prompt_ids) :]
        inputs = torch.tensor([ids], device=model.device)
        loss = model(input_ids=inputs, labels=torch.tensor([labels[: len(ids)]], device=model.device)).loss
        (loss / len(rows)).backward()
    grads = {name: p.grad.detach().float().clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return grads


def somf(job: TrainingJob, reporter: Reporter, out: Path) -> dict:
    from sinternal_assets.training import fusion

    settings = job.somf
    policy = choose(job.precision)
    downstream, tokenizer, outcome = train_sft(
        job.start_model,
        read_jsonl(Path(job.data)),
        job.train,
        reporter,
        f"{job.asset} (downstream fine-tune)",
        out,
        policy,
    )
    if hasattr(downstream, "merge_and_unload"):
        downstream = downstream.merge_and_unload()
    # .float() copies only when the weights are not float32 already; the dicts keep the tensors alive
    finetuned = {name: p.detach().float() for name, p in downstream.named_parameters()}
    if settings.keep_downstream and is_main_process():
        downstream.save_pretrained(out / "downstream", safe_serialization=True)
        tokenizer.save_pretrained(out / "downstream")
    del downstream
    aligned_model = _model(job.start_model, policy)
    aligned = {name: p.detach().float() for name, p in aligned_model.named_parameters()}
    vector = fusion.task_vector(finetuned, aligned)
    safety_rows, fit = fit_rows(tokenizer, read_jsonl(Path(job.safety_data)), job.train.max_length)
    reporter.log(
        f"{job.asset}: safety gradients on {len(safety_rows)} safety examples ({fit.shortened} shortened, "
        f"{fit.dropped} dropped to fit max_length={job.train.max_length})"
    )
    grads = safety_gradients(aligned_model, tokenizer, safety_rows, job.train.max_length)
    masks = fusion.safety_mask(vector, grads, settings.mask_fraction)
    fused = fusion.fuse(aligned, vector, masks, settings.scale)
    with torch.no_grad():
        for name, param in aligned_model.named_parameters():
            param.copy_(fused[name].to(param.dtype))
    summary = fusion.mask_summary(masks)
    reporter.log(
        f"{job.asset}: masked {summary['masked_coordinates']} of {summary['total_coordinates']} "
        f"task-vector coordinates in {summary['tensors_touched']} tensors"
    )
    export(aligned_model, tokenizer, out)
    return {**outcome, "fusion": summary, "safety_fitting": fit.record()}


METHODS = {"sft": sft, "grpo": grpo, "somf": somf}
