#!/usr/bin/env python3
"""Reference timing for `drht bench pipeline --size N`: the same two-stage DRHT inference
(pytorch/model.py, docs/MODEL.md, BatchNorm in inference mode) exported to ONNX and run by
onnxruntime on the CPU, to compare on the same machine in the same sitting. The shipped
weights (the time does not depend on them; they make the agreement check below meaningful).
Prints the median of several runs after a warm-up and how far onnxruntime's output is from
PyTorch's.
Not part of the test suite; needs torch, onnx and onnxruntime (a development environment,
e.g. pip install torch onnx onnxruntime).

    python3 scripts/bench-pipeline-ort.py --size 512 --threads 2
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnxruntime as ort
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pytorch"))
import model as M  # noqa: E402
from benchtime import median_ms  # noqa: E402  (scripts/benchtime.py)


class Corrected(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.correct(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--weights", default=os.path.join(os.path.dirname(__file__), "..", "Weights", "drht.safetensors"))
    a = p.parse_args()
    net = M.DRHT()
    state = {k: v.float() for k, v in load_file(a.weights).items()}
    net.load_state_dict(state, strict=False)   # BatchNorm's num_batches_tracked is not stored
    net.eval()
    ramp = torch.linspace(0, 1, a.size)
    x = torch.stack([ramp[None, :].expand(a.size, a.size), ramp[:, None].expand(a.size, a.size),
                     0.5 * torch.ones(a.size, a.size)])[None] * 0.6   # a smooth, dim image
    # Eval mode on the wrapper too: the exporter restores the wrapper's mode afterwards, and a
    # wrapper left in training mode would put the whole network back into training mode.
    wrapper = Corrected(net).eval()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "drht.onnx")
        torch.onnx.export(wrapper, (x,), path, input_names=["x"], output_names=["y"], opset_version=17, dynamo=False)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = a.threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        feed = {"x": x.numpy()}
        y = sess.run(None, feed)[0]
        with torch.no_grad():
            ref = net.correct(x).numpy()
        ms = median_ms(lambda: sess.run(None, feed), runs=a.runs, warmup=0)   # the run above warmed up
    print(f"onnxruntime {ort.__version__}, {a.threads} threads: two-stage inference at {a.size}x{a.size}: "
          f"{ms:.0f} ms (median of {a.runs}); max |onnxruntime - torch| = {np.abs(y - ref).max():.1e}")


if __name__ == "__main__":
    main()
