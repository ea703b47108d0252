# Sourced by the scripts: the default locations of the local instance (override any of them).
SINTERNAL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DAGSTER_HOME="${DAGSTER_HOME:-$SINTERNAL_ROOT/dagster_home}"
export SINTERNAL_DATA_DIR="${SINTERNAL_DATA_DIR:-$SINTERNAL_ROOT/.sinternal}"
export SINTERNAL_DB="${SINTERNAL_DB:-$SINTERNAL_DATA_DIR/sinternal.duckdb}"
export GX_ANALYTICS_ENABLED=false
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export TOKENIZERS_PARALLELISM=false
mkdir -p "$DAGSTER_HOME" "$SINTERNAL_DATA_DIR"
