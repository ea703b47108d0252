#!/usr/bin/env bash
# Debian packages the local services and browser tests need: redis-server (Argilla's queue) and chromium
# (Playwright drives Debian's chromium; no browser download). Installs what is missing when it can (root,
# or passwordless sudo); otherwise says exactly what to install and fails.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [[ "${1:-}" != "--services-only" ]]; then
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]]; then SUDO=(); elif sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    echo "error: missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
command -v apt-get >/dev/null 2>&1 || { echo "error: no apt-get to install ${missing[*]}; install them by hand" >&2; exit 1; }
echo "[system-deps] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
