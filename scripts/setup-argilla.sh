#!/usr/bin/env bash
# The Argilla server in its OWN environment (.venv-argilla), installed from a hash-pinned lock: its pins
# (pydantic~=2.9, fastapi~=0.115, typer<0.10) conflict with the project's. Idempotent: reinstalls only when
# the lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
LOCK=services/argilla/requirements.lock
STAMP=.venv-argilla/.lock.sha256
want=$(sha256sum "$LOCK" | cut -d' ' -f1)
if [[ -x .venv-argilla/bin/python && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    exit 0
fi
"$PYTHON" -m uv --version >/dev/null 2>&1 || "$PYTHON" -m pip install -q "uv==0.13.9"
echo "[setup-argilla] installing argilla-server into .venv-argilla" >&2
[[ -x .venv-argilla/bin/python ]] || "$PYTHON" -m uv venv -q --python 3.11 .venv-argilla
# --python: `python -m uv pip` would otherwise target the interpreter that runs uv.
"$PYTHON" -m uv pip sync -q --require-hashes --python .venv-argilla/bin/python "$LOCK"
echo "$want" > "$STAMP"
