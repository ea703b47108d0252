#!/usr/bin/env bash
# The local Argilla (UI + API) with Redis: scripts/argilla.sh start | stop | status
# start installs what is missing (.venv-argilla, Debian's redis-server when it can), is idempotent, and
# prints the URL; credentials are read from the environment or generated into .secrets/argilla.env.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
if [[ "${1:-}" == "start" ]]; then
    scripts/setup-argilla.sh
    scripts/system-deps.sh --services-only
fi
if [[ ! -x .venv-argilla/bin/python ]]; then
    echo "argilla: not installed (run scripts/argilla.sh start)"; exit 3
fi
PYTHONPATH="services/argilla${PYTHONPATH:+:$PYTHONPATH}" exec .venv-argilla/bin/python -m sinternal_argilla.manage "$@"
