"""One numeric policy for training, generation and forced-choice judging, chosen at run time from what the
hardware supports.

- CUDA: bf16 where the GPU supports it (autocast in training, bf16 weights for inference), fp32 otherwise.
- CPU with native bf16 (the `avx512_bf16` or `amx_bf16` instructions): bf16 autocast over fp32 weights. On
  such a CPU (AMD EPYC Zen 5) a LoRA SFT step of SmolLM2-135M took 6.9 s under bf16 autocast against 12.5 s
  in fp32 (FIELD-NOTES).
- CPU without them (AVX2 only, or AVX-512 without its bf16 extension): fp32. There bf16 is emulated and was
  ~20x slower than fp32.

The setting (`auto` | `fp32` | `bf16`) overrides the choice; `auto` is the default. Every run records the
policy it used (`NumericPolicy.record`): the checkpoint's manifest and metadata, each judging run's metadata.

Gradient checkpointing trades a second forward pass for activation memory. At `auto` it is off when the
estimated activations of the run's largest micro-batch (`activation_bytes`: its tokens x layers x hidden size x
a measured constant) fit in three quarters of the memory available when the run starts (`CHECKPOINTING_SHARE`),
on otherwise; `on` / `off` force it.

Plain logic (no Dagster).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
from pathlib import Path
from typing import Literal, get_args

Precision = Literal["auto", "fp32", "bf16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
Checkpointing = Literal["auto", "on", "off"]
CHECKPOINTINGS: tuple[str, ...] = get_args(Checkpointing)

PRECISION_ENV = "SINTERNAL_PRECISION"  # the deployment's default when a setting says `auto`
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags (Linux's /proc/cpuinfo; empty where there is none)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def native_bf16(flags: set[str] | None = None) -> bool:
    """Whether the CPU computes bf16 natively (not emulated through fp32)."""
    return bool(set(NATIVE_BF16_FLAGS) & (cpu_flags() if flags is None else flags))


@dataclasses.dataclass(frozen=True)
class NumericPolicy:
    """What a run computes in, and why."""

    device: Literal["cpu", "cuda"]
    dtype: Literal["fp32", "bf16"]
    setting: str  # the setting it was chosen from (auto | fp32 | bf16)
    reason: str
    cpu: str
    cpu_bf16: bool  # the CPU has native bf16
    torch_capability: str  # torch.backends.cpu.get_cpu_capability(): the kernels torch dispatches to

    @property
    def bf16(self) -> bool:
        return self.dtype == "bf16"

    def record(self) -> dict:
        """The policy as metadata (JSON-ready)."""
        return dataclasses.asdict(self)

    def autocast(self):
        """The context inference runs in: bf16 autocast on a CPU with native bf16, nothing otherwise (CUDA
        inference loads bf16 weights instead, see `inference_dtype`)."""
        if self.bf16 and self.device == "cpu":
            import torch

            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def inference_dtype(self):
        """The dtype the weights load in, for inference and training alike: bf16 on CUDA with bf16, fp32 everywhere
        else (a CPU's bf16 path is autocast over fp32 master weights)."""
        import torch

        return torch.bfloat16 if self.bf16 and self.device == "cuda" else torch.float32


def choose(
    setting: str = "auto", *, cuda: bool | None = None, cuda_bf16: bool | None = None, cpu_bf16: bool | None = None
) -> NumericPolicy:
    """The numeric policy for this machine. `setting` auto | fp32 | bf16; `auto` reads $SINTERNAL_PRECISION first
    (when set), then the hardware. The capability arguments are read from the machine when None (tests pass
    them to simulate another machine)."""
    import torch

    if setting not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {setting!r}")
    origin = setting
    if setting == "auto" and os.environ.get(PRECISION_ENV, "auto") != "auto":
        setting = os.environ[PRECISION_ENV]
        origin = f"{PRECISION_ENV}={setting}"
        if setting not in PRECISIONS:
            raise ValueError(f"${PRECISION_ENV} must be one of {PRECISIONS}, got {setting!r}")
    cuda = torch.cuda.is_available() if cuda is None else cuda
    cpu_bf16 = native_bf16() if cpu_bf16 is None else cpu_bf16
    device = "cuda" if cuda else "cpu"
    if setting != "auto":
        dtype, reason = setting, f"set by {origin}"
    elif cuda:
        cuda_bf16 = torch.cuda.is_bf16_supported() if cuda_bf16 is None else cuda_bf16
        dtype, reason = ("bf16", "GPU supports bf16") if cuda_bf16 else ("fp32", "GPU without bf16")
    elif cpu_bf16:
        dtype, reason = "bf16", "CPU has native bf16 (avx512_bf16/amx_bf16): bf16 autocast over fp32 weights"
    else:
        dtype, reason = "fp32", "CPU without native bf16: bf16 would be emulated (~20x slower here)"
    return NumericPolicy(
        device=device,
        dtype=dtype,
        setting=origin,
        reason=reason,
        cpu=cpu_name(),
        cpu_bf16=cpu_bf16,
        torch_capability=torch.backends.cpu.get_cpu_capability(),
    )


# Bytes of saved activations per token, per layer, per hidden unit, for a llama-style decoder block in fp32
# during a LoRA backward pass with LoRA dropout (each adapted projection keeps its dropped input and mask, the MLP
# its 2.7x-wide products). Measured on SmolLM2-135M (576 hidden, 30 layers), LoRA r16 all-linear, dropout 0.05,
# fp32, without checkpointing: one step of 1,264 tokens (4 examples, padding-free) added 6.07 GB to the
# process's peak RSS, one of 2,174 tokens (packed) 8.09 GB, i.e. 280 and 215 bytes per token-layer-unit
# (/tmp measurement with benchmarks' examples, 2026-12-04; BENCHMARKS.md). The larger figure is used.
ACTIVATION_BYTES_PER_UNIT = 280


def activation_bytes(tokens: int, layers: int, hidden: int) -> int:
    """Estimated activation memory of one micro-batch of `tokens` tokens (all its sequences together)."""
    return ACTIVATION_BYTES_PER_UNIT * tokens * layers * hidden


def available_memory() -> int:
    """Bytes of memory available now (Linux's MemAvailable; total physical memory elsewhere)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


# `auto` checkpoints when one micro-batch's estimated activations exceed this share of the memory available when
# training starts (other processes already counted). Measured on the study's verifier batches (4 examples, ~1,960
# tokens; benchmarks/results/sft_settings.json): the whole training process peaked at 10.0 GiB without
# checkpointing, 5.6 GiB with it, where the estimate (280 B per token x layer x hidden unit) says 8.8 GiB of
# activations alone; checkpointing cost 15% of the step time. Half the memory (the rule until 2026-12-05) turned it
# on for every study step on this 24 GiB machine; three quarters keeps a quarter of the memory as headroom over an
# estimate that already exceeds the measured peak.
CHECKPOINTING_SHARE = 0.75


def use_gradient_checkpointing(setting: str, estimated_bytes: int, available: int | None = None) -> tuple[bool, str]:
    """Whether to checkpoint gradients, and why: `on` / `off` as set; `auto` checkpoints only when one
    micro-batch's estimated activations exceed `CHECKPOINTING_SHARE` of the memory available."""
    if setting not in CHECKPOINTINGS:
        raise ValueError(f"gradient_checkpointing must be one of {CHECKPOINTINGS}, got {setting!r}")
    if setting != "auto":
        return setting == "on", f"set to {setting}"
    available = available_memory() if available is None else available
    gib = 1024**3
    share = f"{CHECKPOINTING_SHARE:.0%} of {available / gib:.1f} GiB free"
    if estimated_bytes <= CHECKPOINTING_SHARE * available:
        return False, f"activations ~{estimated_bytes / gib:.1f} GiB fit in {share}"
    return True, f"activations ~{estimated_bytes / gib:.1f} GiB exceed {share}"
