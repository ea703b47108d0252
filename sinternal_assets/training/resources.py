"""How training jobs run (a Pipes subprocess of `accelerate launch`), as a Dagster resource."""

import os
import sys
from pathlib import Path
from typing import Optional

from dagster import ConfigurableResource, PipesSubprocessClient

from sinternal_assets.models.numerics import Precision
from sinternal_assets.paths import PROJECT_ROOT, data_dir
from sinternal_assets.training.launch import Launcher, MixedPrecision


class TrainingLauncherResource(ConfigurableResource):
    """How training jobs run: a subprocess (`accelerate launch` of sinternal_assets.training.run) driven through
    Dagster Pipes, so metrics stream back into the run. On a cluster: `num_processes` GPUs, or an accelerate
    config file (multi-GPU, FSDP, DeepSpeed); a Kubernetes Pipes client can replace the subprocess."""

    # auto: the entry point directly for one process (no config file, no mixed precision), else accelerate launch
    launcher: Launcher = "auto"
    num_processes: int = 1
    accelerate_config: str = ""
    mixed_precision: MixedPrecision = "no"
    # what the training process computes in (models.numerics): auto = native bf16 where the hardware has it
    precision: Precision = "auto"
    use_cpu: Optional[bool] = None  # None: CPU exactly when no GPU is visible
    python: str = sys.executable
    checkpoint_root: str = ""  # '' = <data dir>/checkpoints
    env: dict[str, str] = {}

    def root(self) -> Path:
        return Path(self.checkpoint_root) if self.checkpoint_root else data_dir() / "checkpoints"

    def command(self, job_path: Path) -> list[str]:
        from sinternal_assets.training.launch import training_command

        use_cpu = self.cpu()
        return training_command(
            self.python,
            job_path,
            self.launcher,
            self.num_processes,
            self.accelerate_config,
            use_cpu,
            self.mixed_precision,
        )

    def cpu(self) -> bool:
        if self.use_cpu is not None:
            return self.use_cpu
        import torch

        return not torch.cuda.is_available()

    def environment(self) -> dict[str, str]:
        """The training process's environment: offline hub, unbuffered output, and, for a CPU job run without
        accelerate (which would hide the GPUs itself), no visible GPU; `env` last."""
        from sinternal_assets.training.launch import runs_directly

        direct = runs_directly(self.launcher, self.num_processes, self.accelerate_config, self.mixed_precision)
        return {
            "TOKENIZERS_PARALLELISM": "false",
            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
            "PYTHONUNBUFFERED": "1",
            **({"CUDA_VISIBLE_DEVICES": ""} if direct and self.cpu() else {}),
            **self.env,
        }

    def run(self, context, job_path: Path):
        env = self.environment()
        client = PipesSubprocessClient(env=env, cwd=str(PROJECT_ROOT))
        return client.run(command=self.command(job_path), context=context)
