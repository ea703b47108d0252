"""Run profiles, switched by one setting: SINTERNAL_PROFILE = local (default) | gpu.

- `local`: the embedded default. In-process executor, CPU, the small model through transformers, local Argilla,
  and the small slices of `run_configs/embedded.yaml`.
- `gpu`: the same assets on a GPU node or cluster. vLLM generates (bf16, tensor parallel over SINTERNAL_GPUS),
  `accelerate launch` trains on SINTERNAL_GPUS processes in bf16, steps run in parallel processes
  (SINTERNAL_EXECUTOR=multiprocess, default) or each in its own Kubernetes job (SINTERNAL_EXECUTOR=k8s,
  dagster-k8s; a step's training subprocess then runs inside that GPU pod and still reports through Pipes),
  and the run config uses the papers' scale (`run_configs/gpu.yaml`).

Everything else stays an environment variable of its own (models, teacher endpoint, keys): see README.
"""

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from dagster import ExecutorDefinition, in_process_executor, multiprocess_executor

from dagster_project.jobs import EMBEDDED_RUN_CONFIG, load_run_config, run_config_path
from dagster_project.resources import GenerationResource, TrainingLauncherResource, default_resources

PROFILES = ("local", "gpu")
EXECUTORS = ("multiprocess", "k8s")

# The papers' scale (SInternal: N = 8 answers per prompt, GRPO 64 prompts x 8 rollouts), with the same budget
# for every method of the comparison (dagster_project/budgets.py): see run_configs/gpu.yaml.
GPU_RUN_CONFIG = load_run_config("gpu")
# the file each profile's run configuration comes from (errors in it name the file)
RUN_CONFIG_FILES = {"local": run_config_path("embedded"), "gpu": run_config_path("gpu")}


@dataclass(frozen=True)
class Profile:
    name: str
    executor: ExecutorDefinition
    resources: dict
    run_config: dict = field(default_factory=dict)
    run_config_file: str = ""  # where run_config comes from ('' = not from a file)


def profile_name(env: Mapping[str, str] = os.environ) -> str:
    name = env.get("SINTERNAL_PROFILE", "local").strip().lower() or "local"
    if name not in PROFILES:
        raise ValueError(f"SINTERNAL_PROFILE={name!r} is not a profile; choose one of {', '.join(PROFILES)}")
    return name


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def local_profile(env: Mapping[str, str] = os.environ) -> Profile:
    # One process: steps here are short and the multiprocess executor costs ~3 s per step on 2 cores.
    return Profile(
        "local", in_process_executor, default_resources(), EMBEDDED_RUN_CONFIG, str(RUN_CONFIG_FILES["local"])
    )


def _gpu_generation(env: Mapping[str, str], role: str, gpus: int) -> GenerationResource:
    def get(name: str, default: str = "") -> str:
        return env.get(f"SINTERNAL_{role}_{name}", default)

    return GenerationResource(
        backend=get("BACKEND", "vllm"),
        model=get("MODEL"),
        base_url=get("BASE_URL"),
        api_key_env=get("API_KEY_ENV", "OPENAI_API_KEY"),
        batch_size=256,
        concurrency=256,
        vllm_python=env.get("SINTERNAL_VLLM_PYTHON", sys.executable),
        vllm_dtype="bfloat16",
        vllm_max_model_len=_int(env, "SINTERNAL_VLLM_MAX_MODEL_LEN", 16384),
        vllm_tensor_parallel_size=gpus,
        vllm_args=["--gpu-memory-utilization", env.get("SINTERNAL_VLLM_GPU_MEMORY", "0.85")],
        vllm_env={},
    )


def _gpu_executor(env: Mapping[str, str], gpus: int) -> ExecutorDefinition:
    kind = env.get("SINTERNAL_EXECUTOR", "multiprocess")
    if kind not in EXECUTORS:
        raise ValueError(f"SINTERNAL_EXECUTOR={kind!r} is not an executor; choose one of {', '.join(EXECUTORS)}")
    concurrency = _int(env, "SINTERNAL_MAX_CONCURRENT", 2)
    if kind == "multiprocess":
        return multiprocess_executor.configured({"max_concurrent": concurrency}, name="gpu_multiprocess")
    from dagster_k8s import k8s_job_executor

    image = env.get("SINTERNAL_K8S_IMAGE", "")
    if not image:
        raise ValueError(
            "SINTERNAL_EXECUTOR=k8s needs SINTERNAL_K8S_IMAGE: the container image holding this "
            "project, its environment and vLLM"
        )
    forwarded = sorted(k for k in env if k.startswith("SINTERNAL_") or k in {"HF_HUB_OFFLINE", "DAGSTER_HOME"})
    return k8s_job_executor.configured(
        {
            "job_image": image,
            "job_namespace": env.get("SINTERNAL_K8S_NAMESPACE", "sinternal"),
            "image_pull_policy": env.get("SINTERNAL_K8S_PULL_POLICY", "IfNotPresent"),
            "max_concurrent": concurrency,
            # names only: values (and secrets) are taken from the launching pod's environment, never logged here
            "env_vars": forwarded,
            "step_k8s_config": {
                "container_config": {
                    "resources": {"limits": {"nvidia.com/gpu": str(gpus)}, "requests": {"nvidia.com/gpu": str(gpus)}}
                }
            },
        },
        name="gpu_k8s",
    )


def gpu_profile(env: Mapping[str, str] = os.environ) -> Profile:
    gpus = _int(env, "SINTERNAL_GPUS", 1)
    resources = {
        **default_resources(),
        "policy": _gpu_generation(env, "POLICY", gpus),
        "teacher": _gpu_generation(env, "TEACHER", gpus),
        "evaluator": _gpu_generation(env, "EVALUATOR", gpus),
        "trainer": TrainingLauncherResource(
            num_processes=gpus,
            mixed_precision="bf16",
            use_cpu=False,
            accelerate_config=env.get("SINTERNAL_ACCELERATE_CONFIG", ""),
        ),
    }
    return Profile("gpu", _gpu_executor(env, gpus), resources, GPU_RUN_CONFIG, str(RUN_CONFIG_FILES["gpu"]))


def load_profile(env: Mapping[str, str] = os.environ) -> Profile:
    return {"local": local_profile, "gpu": gpu_profile}[profile_name(env)](env)
