#!/usr/bin/env bash
# The references of `make bench-compare` (scripts/bench-compare.sh): a virtual environment
# .venv-bench with scripts/bench-requirements.txt (PyTorch 2.x CPU, onnx, onnxruntime), made once
# and remade when the requirements change. Not needed by `make test`; about 1 GB on disk.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt-missing.sh
apt_missing "the benchmark comparison" python3 python3-venv python3-pip
py=python3
venv=.venv-bench
stamp=$venv/.requirements
if [ ! -x $venv/bin/python ] || ! cmp -s scripts/bench-requirements.txt "$stamp"; then
  rm -rf $venv
  "$py" -m venv $venv
  $venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/bench-requirements.txt
  cp scripts/bench-requirements.txt "$stamp"
fi
