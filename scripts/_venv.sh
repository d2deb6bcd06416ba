# Sourced by the scripts: create or reuse .venv in the project root and install the project with all
# frameworks and the dev tools. pip skips what is already installed, so a second run takes seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c "import mapping, torch, tensorflow, tf_keras, mindspore, xdist, onnx, mutmut" >/dev/null 2>&1; then
  echo "==> installing the project and all frameworks into .venv (a few minutes the first time)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[all,dev]"
fi
export TF_CPP_MIN_LOG_LEVEL=2 GLOG_v=3
