#!/usr/bin/env bash
# Install everything sinternal needs into ./.venv (idempotent, safe to re-run).
#   - uv (pinned) from the package index, if not already installed;
#   - the CPU build of torch into ./wheels: from a local wheelhouse when one exists
#     ($SINTERNAL_WHEELHOUSE, pip's find-links, /opt/wheels), from PyTorch's CPU index otherwise;
#   - the locked environment (uv.lock) with bytecode compiled.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
TORCH_VERSION=2.13.0
TORCH_WHEEL="torch-${TORCH_VERSION}+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
PYTHON=${PYTHON:-python3}

log() { printf '[setup] %s\n' "$*" >&2; }

if ! "$PYTHON" -m uv --version >/dev/null 2>&1; then
    log "installing uv ${UV_VERSION}"
    "$PYTHON" -m pip install --quiet "uv==${UV_VERSION}" 2>/dev/null \
        || "$PYTHON" -m pip install --quiet --user "uv==${UV_VERSION}"
fi
UV=("$PYTHON" -m uv)

if [[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" && ! -f "wheels/${TORCH_WHEEL}" ]]; then
    mkdir -p wheels
    found=""
    IFS=' ' read -r -a dirs <<< "${SINTERNAL_WHEELHOUSE:-} ${PIP_FIND_LINKS:-} /opt/wheels"
    for dir in "${dirs[@]}"; do
        if [[ -n "$dir" && -f "$dir/${TORCH_WHEEL}" ]]; then found="$dir/${TORCH_WHEEL}"; break; fi
    done
    if [[ -n "$found" ]]; then
        log "torch CPU wheel from local wheelhouse: $found"
        ln -f "$found" "wheels/${TORCH_WHEEL}" 2>/dev/null || cp "$found" "wheels/${TORCH_WHEEL}"
    else
        log "downloading the torch ${TORCH_VERSION} CPU wheel from PyTorch's CPU index"
        "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest wheels \
            --index-url "${SINTERNAL_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}" "torch==${TORCH_VERSION}+cpu"
    fi
fi

log "syncing the locked environment into .venv"
UV_COMPILE_BYTECODE=1 "${UV[@]}" sync --frozen --python 3.11 --quiet
log "ready: $(.venv/bin/python --version), torch $(.venv/bin/python -c 'import torch; print(torch.__version__)')"
