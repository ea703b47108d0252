#!/usr/bin/env bash
# Install, start the local services (Argilla + Redis), then materialize the whole pipeline end to end on
# the embedded default. The services keep running afterwards for annotation (scripts/argilla.sh stop).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
started=$(date +%s)
scripts/argilla.sh start
.venv/bin/dagster job execute -m dagster_project.definitions -j embedded_default
.venv/bin/python -m sinternal_assets.summary "$SINTERNAL_DB"
cat <<MSG

Done in $(( $(date +%s) - started )) s.
  report:      $SINTERNAL_DATA_DIR/reports/latest.html   (evaluation: ASR per family, judges' accuracy, lineage)
  warehouse:   $SINTERNAL_DB   (open it with: .venv/bin/python -c "import duckdb; duckdb.connect('$SINTERNAL_DB', read_only=True).sql('show tables').show()")
  Argilla:     http://127.0.0.1:${SINTERNAL_ARGILLA_PORT:-6900}  (dataset critique_review; users and passwords in .secrets/argilla.env; stop: scripts/argilla.sh stop)
  Dagster UI:  scripts/dagster-ui.sh   then open http://127.0.0.1:3000 (runs, lineage, checks; its daemon runs annotation_sensor)
MSG
