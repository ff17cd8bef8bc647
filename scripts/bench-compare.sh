#!/usr/bin/env bash
# Development tool: drht against PyTorch / onnxruntime on this machine, in one sitting, with
# the CPU model and OpenBLAS's core printed beside the figures (issue 14's comparison).
#   training step: `drht bench train` (batch 8 at 64², batch 4 at 128²) vs scripts/bench-train-torch.py
#   inference:     `drht bench pipeline --size 512`                 vs scripts/bench-pipeline-ort.py
# Needs a Python with torch, onnx and onnxruntime: `make bench-compare` makes .venv-bench
# (scripts/install-bench-deps.sh, PyTorch 2.x CPU) and uses it; PYTHON=/path/to/python overrides.
# Nothing else should run meanwhile: the figures are only comparable from a quiet machine.
# A shared VM is never quite quiet (steal time moved single runs by +-8% on the development VM),
# so the whole comparison runs `rounds` times, drht and the reference interleaved, and the
# summary gives each round's ratio and the median ratio.
#   bash scripts/bench-compare.sh [threads] [rounds]     (or: make bench-compare)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
rounds=${2:-3}
py=${PYTHON:-.venv-bench/bin/python}
[ -n "${PYTHON:-}" ] || test -x "$py" || bash scripts/install-bench-deps.sh
bin=.build/release/drht
test -x "$bin" || swift build -c release
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $threads threads, $rounds rounds"
for r in $(seq "$rounds"); do
  echo "== round $r: training step"
  "$bin" bench train --batch 8 --size 64 --threads "$threads" | tee -a "$log"
  "$bin" bench train --batch 4 --size 128 --threads "$threads" | tee -a "$log"
  "$py" scripts/bench-train-torch.py --threads "$threads" | tee -a "$log"
  echo "== round $r: two-stage inference at 512²"
  "$bin" bench pipeline --size 512 --threads "$threads" | tee -a "$log"
  "$py" -W ignore scripts/bench-pipeline-ort.py --size 512 --threads "$threads" 2>/dev/null | tee -a "$log"
done
"$py" - "$log" <<'PY'
import re, statistics, sys
text = open(sys.argv[1]).read()
drht_train = [float(x) for x in re.findall(r"training step \(forward, backward, Adam\): ([\d.]+) ms", text)]
torch_train = [float(x) for x in re.findall(r"batch \d+ at \d+x\d+: ([\d.]+) ms per step", text)]
drht_pipe = [float(x) for x in re.findall(r"two-stage inference: ([\d.]+) ms", text)]
ort_pipe = [float(x) for x in re.findall(r"onnxruntime .*: ([\d.]+) ms \(median", text)]
rows = [("train b8 @ 64²", drht_train[0::2], torch_train[0::2], "PyTorch"),
        ("train b4 @ 128²", drht_train[1::2], torch_train[1::2], "PyTorch"),
        ("pipeline 512²", drht_pipe, ort_pipe, "onnxruntime")]
print("== summary: drht / reference, ms per round, and the ratio")
for name, mine, ref, who in rows:
    if not mine or len(mine) != len(ref):
        print(f"{name}: missing figures"); continue
    ratios = [a / b for a, b in zip(mine, ref)]
    rounds = ", ".join(f"{a:.0f}/{b:.0f}" for a, b in zip(mine, ref))
    print(f"{name}: drht/{who} {rounds} -> ratios {', '.join(f'{x:.2f}' for x in ratios)}; median {statistics.median(ratios):.2f}x")
PY
