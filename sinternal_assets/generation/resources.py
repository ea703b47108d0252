"""Which engine generates, with which model, as a Dagster resource (policy, teacher and evaluator roles)."""

import contextlib
from typing import Literal, assert_never

from dagster import ConfigurableResource

from sinternal_assets.models.numerics import Precision
from sinternal_assets.paths import PROJECT_ROOT


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
    - `offline_expert` (the teacher role only; the embedded default's teacher): no model generates. The assets
      that judge use the fitted offline expert (sinternal_assets/judging/offline_expert.py, the `offline_expert`
      asset) instead; `model` and the engine settings are unused.
    """

    backend: Literal["transformers", "vllm", "openai", "offline_expert"] = "transformers"
    model: str = ""
    batch_size: int = 8
    # transformers: what it computes in (models.numerics); auto = native bf16 where the hardware has it
    precision: Precision = "auto"
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

    @property
    def is_offline_expert(self) -> bool:
        return self.backend == "offline_expert"

    def _no_offline_expert(self, what: str) -> None:
        if self.is_offline_expert:
            raise ValueError(
                f"backend offline_expert has no {what}: it is the teacher's setting only, and the judging assets "
                "use the fitted offline expert; give this role the transformers, vllm or openai backend"
            )

    def model_identity(self, base: dict) -> tuple[str, str, str]:
        """(model id, content hash, path) of the model this resource will use (`base`: the base model's row)."""
        self._no_offline_expert("model")
        if self.backend == "openai":  # weights are not visible over HTTP: the served name and URL identify it
            from sinternal_assets.hashing import content_id

            return self.model, content_id("openai", self.base_url, self.model, length=32), ""
        if self.model:
            from sinternal_assets.models.convert import resolve_folder

            info = resolve_folder(self.model)
            return info.model_id, info.content_hash, str(info.path)
        return base["model_id"], base["content_hash"], base["path"]

    def numerics(self) -> dict:
        """What this resource's backend computes in on this machine, for a run's metadata."""
        if self.backend == "transformers":
            from sinternal_assets.models.numerics import choose

            # the session's TransformersBackend runs on the CPU (it is given no device): record that policy
            return choose(self.precision, cuda=False).record()
        if self.backend == "vllm":
            return {"backend": "vllm", "dtype": self.vllm_dtype}
        return {"backend": self.backend, "dtype": "(the server's)"}

    @contextlib.contextmanager
    def session(self, default_model_path: str, model_path: str = ""):
        """A backend for `model_path` when given (a checkpoint to evaluate), else the configured `model`, else
        `default_model_path`."""
        self._no_offline_expert("generation session")
        if model_path and self.backend == "openai":
            raise ValueError(
                f"the openai backend serves one fixed model ({self.model!r} at {self.base_url!r}); it "
                f"cannot load the local checkpoint {model_path}: use the transformers or vllm backend"
            )
        chosen = model_path or self.model or default_model_path
        if self.backend == "transformers":
            from sinternal_assets.generation.backends.transformers_backend import TransformersBackend

            yield TransformersBackend(chosen, batch_size=self.batch_size, precision=self.precision)
        elif self.backend == "vllm":
            from sinternal_assets.generation.backends.vllm_server import VLLMServer

            with VLLMServer(
                self.vllm_python,
                chosen,
                dtype=self.vllm_dtype,
                max_model_len=self.vllm_max_model_len,
                tensor_parallel_size=self.vllm_tensor_parallel_size,
                extra_args=tuple(self.vllm_args),
                concurrency=max(self.concurrency, self.batch_size),
                env=self.vllm_env,
            ) as server:
                yield server.backend
        elif self.backend == "openai":
            from sinternal_assets.generation.backends.openai_http import OpenAIChatBackend

            if not self.base_url or not self.model:
                raise ValueError("the openai backend needs `base_url` and `model` (the served model name)")
            backend = OpenAIChatBackend(
                self.base_url,
                self.model,
                api_key_env=self.api_key_env or None,
                timeout_s=self.timeout_s,
                max_retries=self.max_retries,
                concurrency=self.concurrency,
            )
            try:
                yield backend
            finally:
                backend.close()
        elif self.backend == "offline_expert":
            raise AssertionError("unreachable: _no_offline_expert raised")
        else:
            assert_never(self.backend)  # the Literal admits no other backend: Dagster / pydantic reject it first
