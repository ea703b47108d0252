#!/usr/bin/env bash
# Install, then materialize the whole pipeline end to end on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
started=$(date +%s)
.venv/bin/dagster job execute -m dagster_project.definitions -j embedded_default
.venv/bin/python -m sinternal_assets.summary "$SINTERNAL_DB"
cat <<MSG

Done in $(( $(date +%s) - started )) s.
  warehouse:   $SINTERNAL_DB   (open it with: .venv/bin/python -c "import duckdb; duckdb.connect('$SINTERNAL_DB', read_only=True).sql('show tables').show()")
  Dagster UI:  scripts/dagster-ui.sh   then open http://127.0.0.1:3000 (runs, lineage, check results)
MSG
