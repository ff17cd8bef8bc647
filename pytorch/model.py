"""DRHT (Yang et al., "Image Correction via Deep Reciprocating HDR Transformation", CVPR 2018)
exactly as docs/MODEL.md defines it, in PyTorch, with the state_dict names drht uses
(hdr.enc1.conv.weight, ..., ldr.head.bn.running_var), so weights move between drht and PyTorch
unchanged.

    y1 = hdr(x, base=x)            the HDR estimate, still in the LDR domain (estimates tau(H))
    H  = max(y1, 0) ** 2.2;  x2 = log(H + 1/255)
    y2 = ldr(x2, base=y1)          the corrected image is clamp(y2, 0, 1)

Block = conv -> BatchNorm2d(eps 1e-5, momentum 0.1) -> ELU; skips s = d + e + d*e; the head has
no ELU of its own: y = ELU(head(s5) + base). Shapes: NCHW; H and W are padded to multiples of
32 by repeating the edge (right and bottom) and the outputs cropped back.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

GAMMA, SCALE, EPSILON = 2.2, 1.0, 1.0 / 255
FORMAT = "drht-1"

# name, kind, kernel, stride, in -> out channels, skip (the encoder output fused after it)
LAYERS = [
    ("enc1", "conv", 9, 1, 3, 64, None),
    ("enc2", "conv", 5, 2, 64, 64, None),
    ("enc3", "conv", 3, 2, 64, 128, None),
    ("enc4", "conv", 3, 2, 128, 256, None),
    ("enc5", "conv", 3, 2, 256, 256, None),
    ("latent", "conv", 3, 2, 256, 512, None),
    ("dec1", "deconv", 3, 2, 512, 256, "enc5"),
    ("dec2", "deconv", 3, 2, 256, 256, "enc4"),
    ("dec3", "deconv", 3, 2, 256, 128, "enc3"),
    ("dec4", "deconv", 5, 2, 128, 64, "enc2"),
    ("dec5", "deconv", 9, 2, 64, 64, "enc1"),
    ("head", "head", 1, 1, 64, 3, None),
]


class Block(nn.Module):
    """conv (weight (out, in, k, k)) or transposed conv (weight (in, out, k, k)), then BN."""

    def __init__(self, kind, k, stride, cin, cout):
        super().__init__()
        p = (k - 1) // 2
        if kind == "deconv":
            self.conv = nn.ConvTranspose2d(cin, cout, k, stride=2, padding=p, output_padding=1)
        else:
            self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=p)
        self.bn = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)

    def forward(self, x):
        return self.bn(self.conv(x))


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        for name, kind, k, s, cin, cout, _ in LAYERS:
            self.add_module(name, Block(kind, k, s, cin, cout))

    def forward(self, x, base, record=None, prefix=""):
        """x, base: (N, 3, H, W) with H, W multiples of 32. `record` (a dict) receives every
        block's output (after ELU), the fused skips (`.skip`) and the head (after + base, ELU)."""
        outputs, h = {}, x
        for name, kind, _, _, _, _, skip in LAYERS:
            h = getattr(self, name)(h)
            if kind == "head":
                h = F.elu(h + base)
            else:
                h = F.elu(h)
            outputs[name] = h
            if record is not None:
                record[prefix + name] = h
            if skip:
                e = outputs[skip]
                h = h + e + h * e
                if record is not None:
                    record[prefix + name + ".skip"] = h
        return h


def pad32(x):
    h, w = x.shape[-2:]
    ph, pw = (-h) % 32, (-w) % 32
    return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x


def tau(h):
    """Linear HDR radiance -> the LDR domain: (H / k) ** (1 / g)."""
    return (h / SCALE).clamp_min(0) ** (1 / GAMMA)


class DRHT(nn.Module):
    def __init__(self):
        super().__init__()
        self.hdr = Autoencoder()
        self.ldr = Autoencoder()

    def forward(self, x, record=None):
        """x: (N, 3, H, W) in [0, 1], any H and W. Returns y1 (the HDR estimate in the LDR
        domain), H = tau_inv(y1) and y2 (unclamped), each cropped to (H, W)."""
        h0, w0 = x.shape[-2:]
        xp = pad32(x)
        y1 = self.hdr(xp, xp, record, "hdr.")
        big_h = SCALE * y1.clamp_min(0) ** GAMMA
        x2 = torch.log(big_h + EPSILON)
        if record is not None:
            record["transform.H"], record["transform"] = big_h, x2
        y2 = self.ldr(x2, y1, record, "ldr.")
        crop = (slice(None), slice(None), slice(0, h0), slice(0, w0))
        return y1[crop], big_h[crop], y2[crop]

    def loss(self, x, hdr_gt, ldr_gt):
        """docs/MODEL.md: mean((y1 - tau(H_gt))^2) + mean((y2 - L_gt)^2); returns (total, hdr, ldr)."""
        y1, _, y2 = self(x)
        l_hdr = F.mse_loss(y1, tau(hdr_gt))
        l_ldr = F.mse_loss(y2, ldr_gt)
        return l_hdr + l_ldr, l_hdr, l_ldr

    def correct(self, x):
        """The corrected image, clamp(y2, 0, 1)."""
        return self(x)[2].clamp(0, 1)


def named_tensors(model):
    """Every tensor docs/MODEL.md names, in table order (hdr, then ldr; per block conv.weight,
    conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var)."""
    out = []
    for net in ("hdr", "ldr"):
        ae = getattr(model, net)
        for name, *_ in LAYERS:
            b = getattr(ae, name)
            for key, t in (("conv.weight", b.conv.weight), ("conv.bias", b.conv.bias), ("bn.weight", b.bn.weight),
                           ("bn.bias", b.bn.bias), ("bn.running_mean", b.bn.running_mean),
                           ("bn.running_var", b.bn.running_var)):
                out.append((f"{net}.{name}.{key}", t))
    return out


def icnr_pairs(k):
    """For a stride-2 ConvTranspose2d with kernel k and padding p = (k - 1) // 2: the pair index of
    each tap, or -1 for a lone tap. Output rows 2m and 2m + 1 read input row m - d through taps
    2d + p and 2d + p + 1; the two output phases agree when those taps are equal and a tap whose
    partner falls outside 0..k-1 is 0 (drht's DRHT.icnrKernel builds the same layout)."""
    p, pair_of, pairs = (k - 1) // 2, [-1] * k, 0
    for d in range(-k, k + 1):
        even, odd = 2 * d + p, 2 * d + p + 1
        if even >= 0 and odd < k:
            pair_of[even] = pair_of[odd] = pairs
            pairs += 1
    return pair_of, pairs


def icnr_kernel(t, std, g):
    """Overwrite a (cin, cout, k, k) transposed-conv weight so its four output phases are identical
    (ICNR, Aitken et al. 2017): one normal value per (row pair, column pair), std * k / (2 * pairs)."""
    k = t.shape[2]
    pair_of, pairs = icnr_pairs(k)
    v = torch.randn(t.shape[0], t.shape[1], pairs, pairs, generator=g) * (std * k / (2 * max(pairs, 1)))
    idx = torch.tensor([max(q, 0) for q in pair_of])
    mask = torch.tensor([q >= 0 for q in pair_of], dtype=t.dtype)
    t.copy_(v[:, :, idx][:, :, :, idx] * mask[:, None] * mask[None, :])


def kaiming_init(model, seed, deconv="kaiming"):
    """Kaiming-normal conv weights (std sqrt(2 / fan_in), fan_in = weight.shape[1] * k * k for
    both conv kinds, as drht's `init` computes it), zero biases, BN 1 / 0 / 0 / 1. With
    deconv="icnr" the transposed convolutions start phase-identical (`icnr_kernel`), drawn from
    their own generator so every other tensor is as with "kaiming"."""
    g = torch.Generator().manual_seed(seed)
    g_icnr = torch.Generator().manual_seed(seed ^ 0x1C17)
    with torch.no_grad():
        for name, t in named_tensors(model):
            if name.endswith("conv.weight"):
                fan_in = t.shape[1] * t.shape[2] * t.shape[3]
                t.copy_(torch.randn(t.shape, generator=g) * math.sqrt(2 / fan_in))
                if deconv == "icnr" and ".dec" in name:
                    icnr_kernel(t, math.sqrt(2 / fan_in), g_icnr)
            elif name.endswith(("conv.bias", "bn.bias", "running_mean")):
                t.zero_()
            else:
                t.fill_(1)


# ---- Weights both sides can rebuild without a file (the parity fixture's) -------------------

MASK = (1 << 64) - 1


def splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def hashed_unit(tensor_index, count):
    """u_i in [-1, 1] in steps of 1/1000: (splitmix64(tensor_index << 32 | i) mod 2001 - 1000) / 1000
    (numpy's uint64 arithmetic wraps modulo 2^64, as splitmix64 wants)."""
    z = (np.uint64(tensor_index) << np.uint64(32)) | np.arange(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    k = (z % np.uint64(2001)).astype(np.int64) - 1000
    return torch.from_numpy(k.astype(np.float64) / 1000.0)


def hashed_init(model):
    """Deterministic weights from an integer hash, computed in float64 and rounded to float32,
    which Swift's test (Tests/DRHTModelTests/ParityFixtureTests.swift) rebuilds bit for bit:
    conv weights uniform with Kaiming's std (u * sqrt(6 / fan_in)), conv biases 0.1 u, BN
    weights 1 + 0.25 u, BN biases 0.1 u, running means 0.2 u, running variances 1 + 0.5 u,
    u from the tensor's index in table order and the element's index."""
    with torch.no_grad():
        for index, (name, t) in enumerate(named_tensors(model)):
            u = hashed_unit(index, t.numel()).view(t.shape)
            if name.endswith("conv.weight"):
                v = u * math.sqrt(6.0 / (t.shape[1] * t.shape[2] * t.shape[3]))
            elif name.endswith("bn.weight"):
                v = 1 + 0.25 * u
            elif name.endswith("running_var"):
                v = 1 + 0.5 * u
            elif name.endswith("running_mean"):
                v = 0.2 * u
            else:  # conv.bias, bn.bias
                v = 0.1 * u
            t.copy_(v.to(torch.float32))
