"""The command that runs a training job: `accelerate launch` of the training entry point. A cluster swaps
the launcher (its own accelerate config file for multi-GPU / FSDP, or a Pipes client for Kubernetes), not
the entry point.

`auto` (the default) runs the entry point directly when the job is one process with no accelerate config file:
`accelerate launch` of one process only sets environment variables the trainer's own Accelerator reads the same
way from the job (CPU or the one GPU, no mixed precision: the numeric policy decides), at the cost of one more
Python process that imports torch (measured in benchmarks/main_job.py's training breakdown). Its `--cpu` becomes
an empty CUDA_VISIBLE_DEVICES in the job's environment (TrainingLauncherResource). Anything else
(several processes, a config file, a mixed-precision setting) goes through `accelerate launch`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

ENTRY_POINT = "sinternal_assets.training.run"

# auto: python for one process without a config file or mixed precision, else accelerate
Launcher = Literal["auto", "accelerate", "python"]
MixedPrecision = Literal["no", "fp16", "bf16", "fp8"]  # accelerate launch --mixed_precision
LAUNCHERS: tuple[str, ...] = get_args(Launcher)


def runs_directly(
    launcher: Launcher, num_processes: int = 1, accelerate_config: str = "", mixed_precision: MixedPrecision = "no"
) -> bool:
    """Whether the entry point runs without `accelerate launch` (`python`, or `auto` for one plain process)."""
    if launcher == "auto":
        return num_processes == 1 and not accelerate_config and mixed_precision == "no"
    return launcher == "python"


def training_command(
    python: str,
    job_path: Path,
    launcher: Launcher = "auto",
    num_processes: int = 1,
    accelerate_config: str = "",
    use_cpu: bool = False,
    mixed_precision: MixedPrecision = "no",
) -> list[str]:
    if runs_directly(launcher, num_processes, accelerate_config, mixed_precision):
        return [python, "-m", ENTRY_POINT, str(job_path)]
    if launcher not in LAUNCHERS:
        raise ValueError(f"unknown launcher {launcher!r}: {' | '.join(LAUNCHERS)}")
    command = [python, "-m", "accelerate.commands.launch"]
    if accelerate_config:
        if not Path(accelerate_config).is_file():
            raise FileNotFoundError(f"accelerate config file {accelerate_config} does not exist")
        command += ["--config_file", accelerate_config]
    else:
        if num_processes < 1:
            raise ValueError(f"num_processes must be >= 1, got {num_processes}")
        command += [
            "--num_processes",
            str(num_processes),
            "--num_machines",
            "1",
            "--mixed_precision",
            mixed_precision,
            "--dynamo_backend",
            "no",
        ]
        if num_processes > 1:
            command.append("--multi_gpu")
    if use_cpu:
        command.append("--cpu")
    return command + ["-m", ENTRY_POINT, str(job_path)]
