#!/usr/bin/env bash
# The SInternal study (dagster_project/run_configs/study.yaml) on this machine, in a warehouse of its own
# ($SINTERNAL_STUDY_DIR, default .sinternal/study) and an Argilla dataset of its own (study_review). Writes the
# report, and benchmarks/results/study-<date>[-runN].json + .md + .items.parquet: the results tables (structured, in the
# JSON), the wall time per stage, and every judgement per item.
# Long (BENCHMARKS.md "What the 2-hour study can hold" gives the projected time per stage on a 2-core CPU): run it
# in the background:  nohup scripts/run-study.sh > study.log 2>&1 &
#
#   scripts/run-study.sh          the core (`study` job: base, refusal SFT, SInternal SFT, SInternal + GRPO)
#   scripts/run-study.sh extra    then, on the same warehouse, the second configuration (`study_extra` job: AltTrain,
#                                 AlphaAlign, SOMF and the ablations; the core's answers and judgements are cached)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-core}" in
    core) job=study suffix="" ;;
    extra) job=study_extra suffix="-extra" ;;
    *) echo "usage: scripts/run-study.sh [core|extra]" >&2; exit 2 ;;
esac
scripts/setup.sh
# its own data folder whatever SINTERNAL_DATA_DIR / SINTERNAL_DB say (a shell that sourced scripts/env.sh has them
# set to the main warehouse): SINTERNAL_STUDY_DIR moves it
export SINTERNAL_DATA_DIR="${SINTERNAL_STUDY_DIR:-$PWD/.sinternal/study}"
export SINTERNAL_DB="$SINTERNAL_DATA_DIR/sinternal.duckdb"
export SINTERNAL_ARGILLA_DATASET="${SINTERNAL_ARGILLA_DATASET:-study_review}"
source scripts/env.sh
scripts/argilla.sh start
started=$(date +%s)
.venv/bin/dagster job execute -m dagster_project.definitions -j "$job"
out="benchmarks/results/study-$(date -u +%Y-%m-%d)$suffix"
run=2  # a second run on the same day gets its own files (-run2, -run3, ...): a committed result is never overwritten
base="$out"
while [ -e "$out.json" ]; do out="$base-run$run"; run=$((run + 1)); done
.venv/bin/python benchmarks/study_summary.py --db "$SINTERNAL_DB" --job "$job" --out "$out"
cat <<MSG

Study ($job) done in $(( $(date +%s) - started )) s.
  report:     $SINTERNAL_DATA_DIR/reports/latest.html
  tables:     $out.md (results, judges' accuracy, wall time per stage)
  raw:        $out.json (every table's numbers under "tables") and
              .items.parquet (every judgement per item: item, checkpoint, judge, score, verdict, human label)
  warehouse:  $SINTERNAL_DB
MSG
