#!/usr/bin/env python3
"""Reference timing for `drht bench train`: the same training step (forward, the docs/MODEL.md
joint loss, backward, Adam) in PyTorch on the CPU, to compare on the same machine in the same
sitting. Uses pytorch/model.py (docs/MODEL.md with the same state_dict names). Random inputs: the
time does not depend on the data. Prints the median step time of each configuration.
Not part of the test suite; needs the pytorch/ virtual environment (make torch-deps).

    pytorch/.venv/bin/python scripts/bench-train-torch.py --threads 2
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pytorch"))
import model as M  # noqa: E402
from benchtime import median_ms  # noqa: E402  (scripts/benchtime.py)


def step_ms(batch, size, threads, steps=8):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = M.DRHT()
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.rand(batch, 3, size, size)
    hdr = torch.rand(batch, 3, size, size) * 4
    target = torch.rand(batch, 3, size, size)

    def step():
        opt.zero_grad(set_to_none=True)
        loss, _, _ = net.loss(x, hdr, target)
        loss.backward()
        opt.step()
    return median_ms(step, runs=steps, warmup=2)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    rows = [{"batch": b, "size": s, "ms": step_ms(b, s, a.threads)} for b, s in [(8, 64), (4, 128)]]
    if a.json:
        print(json.dumps({"torch": torch.__version__, "threads": a.threads, "steps": rows}))
    else:
        for r in rows:
            print(f"PyTorch {torch.__version__}, {a.threads} threads: batch {r['batch']} at {r['size']}x{r['size']}: {r['ms']:.0f} ms per step")


if __name__ == "__main__":
    main()
