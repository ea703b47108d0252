"""Where Argilla is and how to log in: `ARGILLA_API_URL` / `ARGILLA_API_KEY`, else the local deployment.

The local deployment (`scripts/argilla.sh start`) keeps its credentials in a git-ignored secrets file; the
API key is read from there or from the environment only, and never appears in an error or a log line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sinternal_assets.paths import PROJECT_ROOT

LOCAL_START_HINT = "start the local one with `scripts/argilla.sh start`, or set ARGILLA_API_URL and ARGILLA_API_KEY"


class ArgillaUnavailable(RuntimeError):
    """Argilla cannot be reached or refuses our credentials; the message says where and what to do."""


@dataclass(frozen=True)
class ArgillaEndpoint:
    url: str
    api_key: str = field(repr=False)
    origin: str  # where the key came from, for error messages (never the key itself)


def local_secrets_path() -> Path:
    return Path(os.environ.get("SINTERNAL_ARGILLA_SECRETS", PROJECT_ROOT / ".secrets" / "argilla.env"))


def read_secrets(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


def resolve_endpoint(url: str = "", api_key: str = "", role: str = "OWNER") -> ArgillaEndpoint:
    """Explicit values, then ARGILLA_API_URL / ARGILLA_API_KEY, then the local deployment's secrets file."""
    url = url or os.environ.get("ARGILLA_API_URL", "")
    if api_key:
        origin = "configuration"
    elif os.environ.get("ARGILLA_API_KEY"):
        api_key, origin = os.environ["ARGILLA_API_KEY"], "ARGILLA_API_KEY"
    else:
        path = local_secrets_path()
        api_key = read_secrets(path).get(f"ARGILLA_{role}_API_KEY", "")
        origin = str(path)
        if not api_key:
            raise ArgillaUnavailable(
                f"no Argilla API key: ARGILLA_API_KEY is not set and {path} has no "
                f"ARGILLA_{role}_API_KEY; {LOCAL_START_HINT}"
            )
    url = (url or f"http://127.0.0.1:{os.environ.get('SINTERNAL_ARGILLA_PORT', '6900')}").rstrip("/")
    return ArgillaEndpoint(url=url, api_key=api_key, origin=origin)


def check_reachable(endpoint: ArgillaEndpoint, timeout: float = 5.0) -> None:
    """Fail fast with a clear message when the server is down or the key is refused."""
    try:
        response = httpx.get(
            f"{endpoint.url}/api/v1/me", headers={"X-Argilla-Api-Key": endpoint.api_key}, timeout=timeout
        )
    except httpx.HTTPError as error:
        raise ArgillaUnavailable(
            f"Argilla at {endpoint.url} is not reachable ({type(error).__name__}: {error}); {LOCAL_START_HINT}"
        ) from None
    if response.status_code in (401, 403):
        raise ArgillaUnavailable(
            f"Argilla at {endpoint.url} refused the API key from {endpoint.origin} (HTTP {response.status_code})"
        )
    if response.status_code != 200:
        raise ArgillaUnavailable(
            f"Argilla at {endpoint.url} answered HTTP {response.status_code} to /api/v1/me: {response.text[:200]}"
        )


@contextmanager
def lost_connection(url: str, doing: str) -> Iterator[None]:
    """Argilla lost while `doing` (a connection refused or cut, a timeout, a 5xx from a server going down) is an
    ArgillaUnavailable that names the server and how to start it, from the first failure: the SDK's own error is a
    bare transport error without the URL. The original error stays chained."""
    from argilla._exceptions import ArgillaAPIError

    try:
        yield
    except httpx.TransportError as error:
        raise ArgillaUnavailable(
            f"Argilla at {url} was lost {doing} ({type(error).__name__}: {error}); {LOCAL_START_HINT}"
        ) from error
    except ArgillaAPIError as error:
        if error.status_code < 500:
            raise
        raise ArgillaUnavailable(
            f"Argilla at {url} failed {doing} (HTTP {error.status_code}: {str(error)[:200]}); {LOCAL_START_HINT}"
        ) from error


def connect(endpoint: ArgillaEndpoint, timeout: int = 60, retries: int = 3):
    """An SDK client, after checking the server answers and accepts the key."""
    import argilla as rg

    check_reachable(endpoint)
    return rg.Argilla(api_url=endpoint.url, api_key=endpoint.api_key, timeout=timeout, retries=retries)
