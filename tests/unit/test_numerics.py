"""The numeric policy (what training, generation and judging compute in), the gradient-checkpointing decision
and the trainer's own count of what it consumed."""

from pathlib import Path

import pytest
import torch

from sinternal_assets.models import numerics
from sinternal_assets.training.progress import Consumption


def test_a_cpu_without_native_bf16_computes_in_fp32(monkeypatch):
    monkeypatch.delenv(numerics.PRECISION_ENV, raising=False)
    policy = numerics.choose("auto", cuda=False, cpu_bf16=False)
    assert (policy.device, policy.dtype, policy.bf16) == ("cpu", "fp32", False)
    assert "without native bf16" in policy.reason
    assert policy.inference_dtype() == torch.float32
    with policy.autocast():
        assert not torch.is_autocast_enabled("cpu")


def test_a_cpu_with_native_bf16_autocasts_over_fp32_weights(monkeypatch):
    monkeypatch.delenv(numerics.PRECISION_ENV, raising=False)
    policy = numerics.choose("auto", cuda=False, cpu_bf16=True)
    assert (policy.device, policy.dtype) == ("cpu", "bf16")
    assert policy.inference_dtype() == torch.float32  # master weights stay fp32; the matmuls run in bf16
    with policy.autocast():
        assert torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16


def test_a_gpu_uses_bf16_weights_where_it_has_bf16(monkeypatch):
    monkeypatch.delenv(numerics.PRECISION_ENV, raising=False)
    assert numerics.choose("auto", cuda=True, cuda_bf16=True, cpu_bf16=False).inference_dtype() == torch.bfloat16
    assert numerics.choose("auto", cuda=True, cuda_bf16=False, cpu_bf16=True).dtype == "fp32"


def test_the_setting_and_the_environment_override_the_hardware(monkeypatch):
    monkeypatch.delenv(numerics.PRECISION_ENV, raising=False)
    assert numerics.choose("fp32", cuda=False, cpu_bf16=True).dtype == "fp32"
    forced = numerics.choose("bf16", cuda=False, cpu_bf16=False)
    assert forced.dtype == "bf16" and forced.reason == "set by bf16"
    monkeypatch.setenv(numerics.PRECISION_ENV, "fp32")
    from_env = numerics.choose("auto", cuda=False, cpu_bf16=True)
    assert from_env.dtype == "fp32" and from_env.setting == "SINTERNAL_PRECISION=fp32"
    assert numerics.choose("bf16", cuda=False, cpu_bf16=False).dtype == "bf16"  # an explicit setting wins
    monkeypatch.setenv(numerics.PRECISION_ENV, "fp16")
    with pytest.raises(ValueError, match=r"\$SINTERNAL_PRECISION must be one of"):
        numerics.choose("auto")
    with pytest.raises(ValueError, match="precision must be one of"):
        numerics.choose("half")


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path):
    avx2 = tmp_path / "avx2"
    avx2.write_text("model name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma\n")
    zen5 = tmp_path / "zen5"
    zen5.write_text("model name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert not numerics.native_bf16(numerics.cpu_flags(avx2))
    assert numerics.native_bf16(numerics.cpu_flags(zen5))
    assert numerics.native_bf16({"amx_bf16"}) and not numerics.native_bf16({"avx512f", "avx512bw"})
    assert numerics.cpu_name(avx2) == "AMD EPYC"
    assert numerics.cpu_flags(Path(tmp_path / "missing")) == set()


def test_the_record_says_what_ran():
    record = numerics.choose("fp32", cuda=False, cpu_bf16=False).record()
    assert {"device", "dtype", "setting", "reason", "cpu", "cpu_bf16", "torch_capability"} <= set(record)
    assert record["dtype"] == "fp32"


def test_gradient_checkpointing_only_when_activations_would_not_fit():
    gib = 1024**3
    assert numerics.use_gradient_checkpointing("auto", 2 * gib, available=16 * gib)[0] is False
    on, why = numerics.use_gradient_checkpointing("auto", 13 * gib, available=16 * gib)
    assert on and "exceed 75% of 16.0 GiB free" in why
    assert numerics.use_gradient_checkpointing("on", 1, available=16 * gib) == (True, "set to on")
    assert numerics.use_gradient_checkpointing("off", 100 * gib, available=gib) == (False, "set to off")
    with pytest.raises(ValueError, match="gradient_checkpointing must be one of"):
        numerics.use_gradient_checkpointing("sometimes", 1)
    # SmolLM2-135M, 4 verification examples of ~450 tokens: ~9 GiB estimated, off on a machine with 19 GiB free;
    # 4 full rows of 1,024 tokens: on
    assert numerics.use_gradient_checkpointing("auto", numerics.activation_bytes(1800, 30, 576), 19 * gib)[0] is False
    assert numerics.use_gradient_checkpointing("auto", numerics.activation_bytes(4096, 30, 576), 19 * gib)[0] is True
    # the study's longest verifier batch (4 x ~640 tokens, ~11.5 GiB estimated) with 21.5 GiB free: off (it
    # was on under the old half-the-memory rule; measured peak without checkpointing ~10 GiB, sft_settings.json)
    off, why = numerics.use_gradient_checkpointing("auto", numerics.activation_bytes(2552, 30, 576), int(21.5 * gib))
    assert off is False and "fit in 75% of 21.5 GiB free" in why


def test_consumption_counts_examples_and_supervised_tokens_from_the_batches():
    consumed = Consumption()
    # a padded batch: 2 examples, the second shorter (padding has attention 0 and label -100)
    consumed.add(
        {
            "input_ids": torch.tensor([[1, 2, 3, 4, 5], [1, 2, 3, 0, 0]]),
            "attention_mask": torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]),
            "labels": torch.tensor([[-100, -100, 3, 4, 5], [-100, -100, 3, -100, -100]]),
        }
    )
    # a padding-free row holding 3 packed examples (position ids restart at 0 for each)
    consumed.add(
        {
            "input_ids": torch.tensor([[1, 2, 3, 1, 2, 1, 2, 3, 4]]),
            "position_ids": torch.tensor([[0, 1, 2, 0, 1, 0, 1, 2, 3]]),
            "labels": torch.tensor([[-100, 2, 3, -100, 2, -100, -100, 3, 4]]),
        }
    )
    consumed.add([{"prompt": "p"}] * 8)  # GRPO: one row per rollout
    assert consumed.record() == {"examples_seen": 2 + 3 + 8, "supervised_tokens": 4 + 5, "real_tokens": 8 + 9}


def test_a_grpo_step_records_the_prompts_its_rewards_are_over():
    from types import SimpleNamespace

    from sinternal_assets.training.progress import MetricsCallback, Reporter

    consumed = Consumption()
    callback = MetricsCallback(Reporter(enabled=False), "verifier_grpo", consumed)
    state = SimpleNamespace(global_step=1, max_steps=2)
    consumed.add([{"prompt": "p", "group": "g1"}] * 4)  # one prompt x 4 rollouts
    callback.on_log(None, state, None, logs={"loss": 0.0, "rewards/verifier_safety/mean": 0.4})
    consumed.add([{"prompt": "q", "group": "g2"}] * 2 + [{"prompt": "p", "group": "g1"}] * 2)
    state.global_step = 2
    callback.on_log(None, state, None, logs={"loss": 0.0, "rewards/verifier_safety/mean": 0.5})
    callback.on_log(None, state, None, logs={"train_runtime": 3.0})  # the closing summary: no step
    assert [h["prompt_groups"] for h in callback.history] == [["g1"], ["g2", "g1"]]
    assert consumed.take_groups() == []
