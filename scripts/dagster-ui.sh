#!/usr/bin/env bash
# The Dagster UI and its daemon (schedules, sensors such as annotation_sensor) on workspace.yaml, bound to
# 127.0.0.1 (PORT=3000 by default). Stops on Ctrl-C / SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# A shell started in the background makes its children ignore SIGINT, and `dagster dev` maps SIGTERM onto its
# SIGINT handling: restore both, so SIGTERM (CI, the tests, systemd) stops the UI and its daemon cleanly.
exec env --default-signal=INT,TERM .venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p "${PORT:-3000}"
