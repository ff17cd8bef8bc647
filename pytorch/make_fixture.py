#!/usr/bin/env python3
"""Writes the project's PyTorch parity fixture, Tests/DRHTModelTests/Fixtures/parity.safetensors,
which the Swift tests (ParityFixtureTests) check the engine and the model against, so a fresh
clone tests parity with PyTorch without Python and without any file outside the repository.

Weights: `model.hashed_init` — an integer hash both sides rebuild bit for bit, so the fixture
does not carry 9.7 M parameters. Contents (float32):
  test.eval.input (1, 3, 32, 48); after every block test.eval.{hdr,ldr}.<layer> (after ELU;
  the heads after + base and ELU) and .<decN>.skip; test.eval.transform.H, test.eval.transform,
  test.eval.output (clamp(y2, 0, 1)) — inference, BatchNorm with running statistics.
  test.train.input / hdr_gt / ldr_gt (4, 3, 32, 32); test.train.loss / loss_hdr / loss_ldr (1,);
  one training-mode backward: test.train.grad_norm.<param> (1,) (L2 norm) for every learnable
  tensor, test.train.grad_sample.<param> (16,) at test.train.grad_index.<param> (16, flat
  indices as floats); running statistics after that step, test.train.after.<bn>.running_mean
  / running_var for every BatchNorm.

    python3 pytorch/make_fixture.py [--out PATH] [--check-shared ../shared/fixtures/drht-reference.safetensors]

--check-shared first runs this model on an independent PyTorch build's fixture (weights and
eval activations) and prints the largest difference, so model.py itself is checked too.
"""
import argparse
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "Tests", "DRHTModelTests", "Fixtures", "parity.safetensors")


def check_shared(path):
    f = load_file(path)
    m = M.DRHT()
    state = {k: v.float() for k, v in f.items() if not k.startswith("test.")}
    m.load_state_dict(state, strict=False)
    m.eval()
    record = {}
    with torch.no_grad():
        m(f["test.eval.input"].float(), record)
    worst = 0.0
    for key, value in record.items():
        ref = f.get("test.eval." + key)
        if ref is None:
            continue
        scale = ref.abs().max().item() + 1e-6
        worst = max(worst, ((value - ref).abs() / (ref.abs() + 1e-2 * scale)).max().item())
    print(f"model.py vs the shared reference build: largest relative difference {worst:.2e} over {len(record)} activations")
    return worst


def unit(seed, shape):
    """Inputs from a seeded generator (stored in the fixture, so Swift need not rebuild them)."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--check-shared", default=None)
    args = p.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if args.check_shared:
        if check_shared(args.check_shared) > 1e-4:
            sys.exit("model.py disagrees with the shared reference fixture")

    m = M.DRHT()
    M.hashed_init(m)
    tensors = {}

    # Inference, BatchNorm in eval mode, on a non-square input (32 x 48).
    m.eval()
    x = unit(1, (1, 3, 32, 48))
    record = {}
    with torch.no_grad():
        _, _, y2 = m(x, record)
    tensors["test.eval.input"] = x
    for key, value in record.items():
        tensors["test.eval." + key] = value
    tensors["test.eval.output"] = y2.clamp(0, 1)

    # One training-mode step's forward and backward: batch 4 at 32 x 32. (With batch 2 the
    # latent's BatchNorm normalises over two numbers per channel, and float32 rounding alone
    # moves some gradients by 0.4% against float64; with 4, by 1.5e-5.)
    m.train()
    xt = unit(2, (4, 3, 32, 32))
    hdr_gt = 0.18 * torch.exp(4 * (unit(3, (4, 3, 32, 32)) - 0.5))     # linear radiance, ~0.02 ... 1.3
    ldr_gt = unit(4, (4, 3, 32, 32))
    loss, l_hdr, l_ldr = m.loss(xt, hdr_gt, ldr_gt)
    loss.backward()
    tensors.update({"test.train.input": xt, "test.train.hdr_gt": hdr_gt, "test.train.ldr_gt": ldr_gt,
                    "test.train.loss": loss.detach().view(1), "test.train.loss_hdr": l_hdr.detach().view(1),
                    "test.train.loss_ldr": l_ldr.detach().view(1)})
    for index, (name, t) in enumerate(M.named_tensors(m)):
        if "running" in name:
            tensors["test.train.after." + name] = t.detach().clone()
            continue
        g = t.grad.detach().flatten()
        tensors["test.train.grad_norm." + name] = g.double().norm().float().view(1)
        picks = torch.tensor(sorted({int(M.splitmix64(1000 + index * 16 + k) % g.numel()) for k in range(16)}))
        picks = torch.cat([picks, picks[-1:].repeat(16 - len(picks))])   # exactly 16 (repeats if g is tiny)
        tensors["test.train.grad_index." + name] = picks.float()
        tensors["test.train.grad_sample." + name] = g[picks]

    tensors = {k: v.contiguous().float() for k, v in tensors.items()}
    metadata = {"format": M.FORMAT, "gamma": str(M.GAMMA), "scale": str(M.SCALE), "epsilon": str(M.EPSILON),
                "weights": "model.hashed_init", "torch": torch.__version__,
                "written_by": "pytorch/make_fixture.py"}
    tmp = args.out + ".tmp"
    save_file(tensors, tmp, metadata=metadata)
    os.replace(tmp, args.out)
    print(f"wrote {args.out}: {len(tensors)} tensors, {os.path.getsize(args.out) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
