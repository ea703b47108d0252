"""The command that runs a training job: `accelerate launch` of the training entry point. A cluster swaps
the launcher (its own accelerate config file for multi-GPU / FSDP, or a Pipes client for Kubernetes), not
the entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

ENTRY_POINT = "sinternal_assets.training.run"

Launcher = Literal["accelerate", "python"]  # python: the entry point without accelerate
MixedPrecision = Literal["no", "fp16", "bf16", "fp8"]  # accelerate launch --mixed_precision
LAUNCHERS: tuple[str, ...] = get_args(Launcher)


def training_command(
    python: str,
    job_path: Path,
    launcher: Launcher = "accelerate",
    num_processes: int = 1,
    accelerate_config: str = "",
    use_cpu: bool = False,
    mixed_precision: MixedPrecision = "no",
) -> list[str]:
    if launcher == "python":
        return [python, "-m", ENTRY_POINT, str(job_path)]
    if launcher != "accelerate":
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
