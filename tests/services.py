"""Real services for tests, started by the project's own scripts (never mocked)."""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ArgillaService:
    """A private Argilla + Redis (own data dir, ports and credentials) run by scripts/argilla.sh."""

    workdir: Path
    port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def secrets_file(self) -> Path:
        return self.workdir / "argilla.env"

    def env(self) -> dict[str, str]:
        return {
            "SINTERNAL_DATA_DIR": str(self.workdir / "data"),
            "SINTERNAL_ARGILLA_PORT": str(self.port),
            "SINTERNAL_REDIS_PORT": str(self.redis_port),
            "SINTERNAL_ARGILLA_SECRETS": str(self.secrets_file),
        }

    def script(self, command: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(ROOT / "scripts" / "argilla.sh"), command],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def secrets(self) -> dict[str, str]:
        from sinternal_assets.review.connection import read_secrets

        return read_secrets(self.secrets_file)

    def client(self, role: str = "OWNER"):
        import argilla as rg

        return rg.Argilla(api_url=self.url, api_key=self.secrets()[f"ARGILLA_{role}_API_KEY"])
