#!/usr/bin/env bash
# Development tool: drht against PyTorch / onnxruntime on this machine, in one sitting, with
# the CPU model and OpenBLAS's core printed beside the figures (issue 14's comparison).
#   training step: `drht bench --train` (batch 8 at 64², batch 4 at 128²) vs scripts/bench-train-torch.py
#   inference:     `drht bench --pipeline --size 512`               vs scripts/bench-pipeline-ort.py
# Needs a Python with torch, onnx and onnxruntime: PYTHON=/path/to/python (default python3).
# Nothing else should run meanwhile: the figures are only comparable from a quiet machine.
#   PYTHON=venv/bin/python bash scripts/bench-compare.sh [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
py=${PYTHON:-python3}
bin=.build/release/drht
test -x "$bin" || swift build -c release
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $threads threads"
echo "== training step"
"$bin" bench --train --batch 8 --size 64 --threads "$threads"
"$bin" bench --train --batch 4 --size 128 --threads "$threads"
"$py" scripts/bench-train-torch.py --threads "$threads"
echo "== two-stage inference at 512²"
"$bin" bench --pipeline --size 512 --threads "$threads"
"$py" scripts/bench-pipeline-ort.py --size 512 --threads "$threads"
