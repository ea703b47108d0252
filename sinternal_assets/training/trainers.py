"""The training methods a job can ask for, on TRL's trainers: `sft` (SFTTrainer: SInternal's verifier, the
refusal and AltTrain baselines, SOMF's downstream fine-tune), `grpo` (GRPOTrainer: SInternal's RL stage and
AlphaAlign) and `somf` (a downstream fine-tune, then safety-subspace fusion). Each takes the job (a
`TrainingJob`, see job.py), a reporter and the `.partial` folder to write into, and returns the run's history.

Runs on whatever accelerate gives it: float32 on CPU (bf16 is ~20x slower there), bf16 on a GPU that has it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, assert_never

import torch

from sinternal_assets.training.checkpoints import ADAPTER_DIR, MODEL_DIR, read_jsonl
from sinternal_assets.training.job import GRPOSpec, LoraSpec, TrainingJob, TrainSpec
from sinternal_assets.training.progress import MetricsCallback, Reporter, is_main_process


def _use_bf16() -> bool:
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def _tokenizer(path: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _model(path: str):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16 if _use_bf16() else torch.float32)


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


def _common_args(train: TrainSpec, out: Path) -> dict[str, Any]:
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
        use_cpu=not torch.cuda.is_available(),
        bf16=_use_bf16(),
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
    model = model.to(torch.float32) if not _use_bf16() else model
    model.save_pretrained(out / MODEL_DIR, safe_serialization=True)
    tokenizer.save_pretrained(out / MODEL_DIR)


def _prompt_ids(tokenizer, messages: list[dict]) -> list[int]:
    """The token ids of a prompt as the chat template renders it, with the assistant turn opened."""
    return tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=True)[
        "input_ids"
    ]


def sft_trainer(start_model: str, rows: list[dict], train: TrainSpec, reporter: Reporter, label: str, out: Path):
    """A TRL SFTTrainer on prompt-completion rows (loss on the completion only) and its metrics callback."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    if not rows:
        raise ValueError(f"{label}: no training examples")
    tokenizer = _tokenizer(start_model)
    too_long = sum(len(_prompt_ids(tokenizer, r["prompt"])) >= train.max_length for r in rows)
    if too_long == len(rows):
        raise ValueError(
            f"{label}: all {len(rows)} examples have a prompt of max_length={train.max_length} "
            "tokens or more, so no completion token is left to learn from: raise train.max_length"
        )
    if too_long:
        reporter.log(
            f"{label}: {too_long} of {len(rows)} examples have no completion token within "
            f"max_length={train.max_length} (they teach nothing)"
        )
    args = SFTConfig(
        **_common_args(train, out),
        per_device_train_batch_size=train.batch_size,
        max_length=train.max_length,
        packing=train.packing,
        padding_free=False,
        completion_only_loss=True,
        shuffle_dataset=True,
    )
    callback = MetricsCallback(reporter, label)
    trainer = SFTTrainer(
        model=_model(start_model),
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=_peft_config(train.lora),
        callbacks=[callback],
    )
    _quiet(trainer)
    reporter.log(
        f"{label}: {len(rows)} examples, {args.max_steps if args.max_steps > 0 else 'all'} steps planned, "
        f"LoRA {'on' if train.lora.enabled else 'off'}, packing {args.packing}"
    )
    return trainer, callback


def train_sft(start_model: str, rows: list[dict], train: TrainSpec, reporter: Reporter, label: str, out: Path):
    """SFT on prompt-completion rows; returns (trained model, tokenizer, history)."""
    trainer, callback = sft_trainer(start_model, rows, train, reporter, label, out)
    trainer.train()
    return trainer.accelerator.unwrap_model(trainer.model), trainer.processing_class, callback.history


def sft(job: TrainingJob, reporter: Reporter, out: Path) -> dict:
    model, tokenizer, history = train_sft(
        job.start_model, read_jsonl(Path(job.data)), job.train, reporter, job.asset, out
    )
    export(model, tokenizer, out)
    return {"history": history}


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
    args = GRPOConfig(
        **_common_args(train, out),
        per_device_train_batch_size=settings.prompts_per_step * generations,
        num_generations=generations,
        max_completion_length=settings.max_completion_length,
        temperature=settings.temperature,
        beta=settings.beta,
        reward_weights=weights,
        log_completions=False,
        shuffle_dataset=True,
    )
    tokenizer = _tokenizer(job.start_model)
    callback = MetricsCallback(reporter, job.asset)
    trainer = GRPOTrainer(
        model=_model(job.start_model),
        reward_funcs=functions,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=_peft_config(train.lora),
        callbacks=[callback],
    )
    _quiet(trainer)
    reporter.log(
        f"{job.asset}: {len(rows)} prompts, {settings.prompts_per_step} prompts x {generations} "
        f"rollouts per step, rewards {[getattr(f, '__name__', type(f).__name__) for f in functions]} "
        f"weighted {weights}, beta {settings.beta}"
    )
    trainer.train()
    export(trainer.accelerator.unwrap_model(trainer.model), tokenizer, out)
    return {"history": callback.history}


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
    downstream, tokenizer, history = train_sft(
        job.start_model, read_jsonl(Path(job.data)), job.train, reporter, f"{job.asset} (downstream fine-tune)", out
    )
    if hasattr(downstream, "merge_and_unload"):
        downstream = downstream.merge_and_unload()
    # .float() copies only when the weights are not float32 already; the dicts keep the tensors alive
    finetuned = {name: p.detach().float() for name, p in downstream.named_parameters()}
    if settings.keep_downstream and is_main_process():
        downstream.save_pretrained(out / "downstream", safe_serialization=True)
        tokenizer.save_pretrained(out / "downstream")
    del downstream
    aligned_model = _model(job.start_model)
    aligned = {name: p.detach().float() for name, p in aligned_model.named_parameters()}
    vector = fusion.task_vector(finetuned, aligned)
    safety_rows = read_jsonl(Path(job.safety_data))
    reporter.log(f"{job.asset}: safety gradients on {len(safety_rows)} safety examples")
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
    return {"history": history, "fusion": summary}


METHODS = {"sft": sft, "grpo": grpo, "somf": somf}
