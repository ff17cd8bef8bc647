#!/usr/bin/env python3
"""Reference timing for `drht bench pipeline --mode gain`: the same gain-mode correction of a
W x H photo written with PyTorch (CPU), to compare on the same machine in the same sitting.

The network is docs/MODEL.md with random weights (time does not depend on them), run on
the working copy (area-average resize, long side 256, drht's default); the gain map is computed, blurred
(sigma 2), fitted with the guided filter (radius 4, eps 0.05), upsampled bilinearly and applied
in linear light to every pixel, as Sources/DRHTModel/GainMap.swift does. Decoding and encoding
are not timed. Not part of the test suite; needs `pip install torch`.

    python3 scripts/bench-gain-torch.py --threads 2 --size 4000x3000
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchtime import median_ms  # scripts/benchtime.py

LAYERS = [  # name, kind, kernel, cin, cout, skip
    ("enc1", "conv", 9, 3, 64, None), ("enc2", "conv", 5, 64, 64, None), ("enc3", "conv", 3, 64, 128, None),
    ("enc4", "conv", 3, 128, 256, None), ("enc5", "conv", 3, 256, 256, None), ("latent", "conv", 3, 256, 512, None),
    ("dec1", "deconv", 3, 512, 256, "enc5"), ("dec2", "deconv", 3, 256, 256, "enc4"), ("dec3", "deconv", 3, 256, 128, "enc3"),
    ("dec4", "deconv", 5, 128, 64, "enc2"), ("dec5", "deconv", 9, 64, 64, "enc1"), ("head", "head", 1, 64, 3, None),
]


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleDict()
        for name, kind, k, cin, cout, _ in LAYERS:
            stride = 1 if name in ("enc1", "head") else 2
            conv = (nn.ConvTranspose2d(cin, cout, k, 2, (k - 1) // 2, output_padding=1) if kind == "deconv"
                    else nn.Conv2d(cin, cout, k, stride, (k - 1) // 2))
            self.blocks[name] = nn.Sequential(conv, nn.BatchNorm2d(cout))

    def forward(self, x, base):
        outs, h = {}, x
        for name, kind, _, _, _, skip in LAYERS:
            h = self.blocks[name](h)
            if kind == "head":
                return F.elu(h + base)
            h = F.elu(h)
            outs[name] = h
            if skip:
                e = outs[skip]
                h = h + e + h * e


def decode(v):
    return torch.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def encode(v):
    v = v.clamp(0, 1)
    return torch.where(v <= 0.0031308, 12.92 * v, 1.055 * v.clamp_min(1e-12) ** (1 / 2.4) - 0.055)


def luminance(t):
    return 0.2126 * t[:, 0:1] + 0.7152 * t[:, 1:2] + 0.0722 * t[:, 2:3]


def box(x, r):
    return F.avg_pool2d(F.pad(x, (r, r, r, r), mode="replicate"), 2 * r + 1, stride=1)


def correct(hdr, ldr, photo, work=256, delta=0.5):
    _, _, H, W = photo.shape
    s = work / max(H, W)
    h, w = max(1, round(H * s)), max(1, round(W * s))
    small = F.adaptive_avg_pool2d(photo, (h, w))
    ph, pw = (32 - h % 32) % 32, (32 - w % 32) % 32
    x = F.pad(small, (0, pw, 0, ph), mode="replicate")
    y1 = hdr(x, x)
    y2 = ldr(torch.log(y1.clamp_min(0) ** 2.2 + 1 / 255), y1)[:, :, :h, :w].clamp(0, 1)
    yb, ya = luminance(decode(small)), luminance(decode(y2))
    g = (ya.mean() / yb.mean()).item()
    stops = torch.log2((ya + delta * g) / (yb + delta)).clamp(-8, 8)
    k = torch.tensor([math.exp(-i * i / 8) for i in range(-6, 7)])
    k = (k / k.sum()).view(1, 1, 1, -1)
    stops = F.conv2d(F.pad(stops, (6, 6, 0, 0), mode="replicate"), k)
    stops = F.conv2d(F.pad(stops, (0, 0, 6, 6), mode="replicate"), k.transpose(2, 3))
    guide = torch.log2(yb + delta)
    mi, mp = box(guide, 4), box(stops, 4)
    a = (box(guide * stops, 4) - mi * mp) / ((box(guide * guide, 4) - mi * mi).clamp_min(0) + 0.05)
    b = mp - a * mi
    a, b = box(a, 4), box(b, 4)
    A = F.interpolate(a, size=(H, W), mode="bilinear", align_corners=False)
    B = F.interpolate(b, size=(H, W), mode="bilinear", align_corners=False)
    lin = decode(photo)
    gain = torch.exp2((A * torch.log2(luminance(lin) + delta) + B).clamp(-8, 8))
    return encode(lin * gain)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", default="4000x3000")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    W, H = map(int, args.size.split("x"))
    hdr, ldr = Autoencoder().eval(), Autoencoder().eval()
    photo = torch.rand(1, 3, H, W)
    with torch.inference_mode():
        ms = median_ms(lambda: correct(hdr, ldr, photo), runs=3, warmup=1)
    print(f"PyTorch {torch.__version__}, {args.threads} threads: gain-mode correction of a {W}x{H} photo, "
          f"median of 3: {ms:.1f} ms")


if __name__ == "__main__":
    main()
