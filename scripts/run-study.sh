#!/usr/bin/env bash
# The SInternal study (dagster_project/run_configs/study.yaml) on this machine, in a warehouse of its own
# ($SINTERNAL_STUDY_DIR, default .sinternal/study) and an Argilla dataset of its own (study_review). Writes the
# report, and benchmarks/results/study-<date>.json + .md + .items.parquet: the results tables (structured, in the
# JSON), the wall time per stage, and every judgement per item.
# About 77 min on a 2-core CPU machine at 32-token answers, projected ~117 min at the 96 tokens set since issue 22 (a few more with the Other-Exp ablation); run it in the background:  nohup scripts/run-study.sh > study.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# its own data folder whatever SINTERNAL_DATA_DIR / SINTERNAL_DB say (a shell that sourced scripts/env.sh has them
# set to the main warehouse): SINTERNAL_STUDY_DIR moves it
export SINTERNAL_DATA_DIR="${SINTERNAL_STUDY_DIR:-$PWD/.sinternal/study}"
export SINTERNAL_DB="$SINTERNAL_DATA_DIR/sinternal.duckdb"
export SINTERNAL_ARGILLA_DATASET="${SINTERNAL_ARGILLA_DATASET:-study_review}"
source scripts/env.sh
scripts/argilla.sh start
started=$(date +%s)
.venv/bin/dagster job execute -m dagster_project.definitions -j study
.venv/bin/python benchmarks/study_summary.py --db "$SINTERNAL_DB" --job study \
    --out "benchmarks/results/study-$(date -u +%Y-%m-%d)"
cat <<MSG

Study done in $(( $(date +%s) - started )) s.
  report:     $SINTERNAL_DATA_DIR/reports/latest.html
  tables:     benchmarks/results/study-$(date -u +%Y-%m-%d).md (results, judges' accuracy, wall time per stage)
  raw:        benchmarks/results/study-$(date -u +%Y-%m-%d).json (every table's numbers under "tables") and
              .items.parquet (every judgement per item: item, checkpoint, judge, score, verdict, human label)
  warehouse:  $SINTERNAL_DB
MSG
