"""Training triplets from well-exposed photographs, with the degradations drht's own trainer uses
(Sources/DRHTTraining/DataSource.swift `PhotoTriplet`, SyntheticScenes.swift `Camera.reexpose`): the
photo is the target; its linearised sRGB, scaled so its log-average luminance is 0.18, is the HDR
target (docs/MODEL.md's H_gt); the input is the photo taken again by a random camera, `ev` stops from
the photo itself (0 EV is the photo as it is, docs/MODEL.md):

    camera    ev uniform in [-3, 3] (or fixed), gamma uniform in [1.8, 2.6], S-curve strength c
              uniform in [0, 0.6], noise sigma uniform in [0, 0.02] (drawn in that order)
    response  C(x) = S(min(1, x^(1/gamma))), S(y) = y + c (y - 0.5) y (1 - y) 2
    exposure  C(2^ev C^-1(photo)): linearised through the camera's own curve, scaled, clipped at 1
    noise     y += sigma sqrt(1 - 2^ev) sqrt(y) N(0, 1) below 0 EV (the shot noise a shorter
              exposure adds to a photo that has its own), none at 0 EV and above
    8 bits    round(clamp(y, 0, 1) * 255) / 255

Views: `whole` (default) is the photo's largest square at a random place along the long side,
reduced to `size` — what gain-mode inference shows the network, a copy of the whole photo; a
random scale in [scale_min, 1] of that square's side gives multi-scale crops covering most of
the picture; a horizontal flip half the time. Shapes: (3, S, S) float32 in [0, 1].
"""
import glob
import math
import os
import random

import numpy as np
import torch
from PIL import Image

EXTENSIONS = (".png", ".jpg", ".jpeg")


def photo_paths(spec):
    """`photos:DIR` (or DIR), several joined with `+`: the PNG and JPEG files, sorted."""
    paths = []
    for part in spec.split("+"):
        folder = part[len("photos:"):] if part.startswith("photos:") else part
        if not os.path.isdir(folder):
            raise SystemExit(f"{folder}: no such folder (make photos writes data/photos/train, val, eval)")
        found = sorted(p for p in glob.glob(os.path.join(folder, "*")) if p.lower().endswith(EXTENSIONS))
        if not found:
            raise SystemExit(f"{folder}: no PNG or JPEG photos in the folder")
        paths += found
    return paths


def srgb_decode(v):
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def luminance(t):
    return 0.2126 * t[0] + 0.7152 * t[1] + 0.0722 * t[2]


def normalise(hdr):
    """Scale linear radiance (3, H, W) so its log-average luminance is 0.18 (docs/MODEL.md)."""
    log_mean = np.log(luminance(hdr).astype(np.float64) + 1e-6).mean()
    return hdr * np.float32(0.18 / math.exp(log_mean))


def s_curve(y, contrast):
    return y + contrast * (y - 0.5) * y * (1 - y) * 2


def response(x, gamma, contrast):
    """The camera's response to linear light x >= 0."""
    return s_curve(np.minimum(1, np.maximum(0, x) ** (1 / gamma)), contrast)


def linearise(y, gamma, contrast):
    """The linear light whose response is y in [0, 1]: the S-curve inverted by bisection (24
    halvings, as drht does), then the power gamma."""
    target = np.clip(y, 0, 1).astype(np.float64)
    lo, hi = np.zeros_like(target), np.ones_like(target)
    for _ in range(24):
        mid = (lo + hi) / 2
        below = s_curve(mid, contrast) < target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return ((lo + hi) / 2) ** gamma


def reexpose_with(photo, ev, gamma, contrast, noise, rng=None):
    """`photo` (3, H, W) in [0, 1] taken again `ev` stops over or under by the camera (gamma,
    contrast, noise); rng is needed only below 0 EV, where noise is added."""
    y = response(2.0 ** ev * linearise(photo, gamma, contrast), gamma, contrast)
    sigma = noise * math.sqrt(max(0.0, 1 - 2.0 ** ev))
    if sigma > 0:
        y = y + sigma * np.sqrt(np.maximum(y, 0)) * rng.standard_normal(y.shape)
    return (np.round(np.clip(y, 0, 1) * 255) / 255).astype(np.float32)


def reexpose(photo, rng, ev=None):
    """The photo (3, H, W) taken again by a random camera, `ev` stops from the photo (random in
    [-3, 3] if None)."""
    ev_ = rng.uniform(-3, 3)
    gamma, contrast, noise = rng.uniform(1.8, 2.6), rng.uniform(0, 0.6), rng.uniform(0, 0.02)
    if ev is not None:
        ev_ = ev
    return reexpose_with(photo, ev_, gamma, contrast, noise, rng)


def triplet(photo, rng, ev=None):
    """(input, hdr_gt, ldr_gt) from a photo (3, H, W) in [0, 1]."""
    hdr = normalise(srgb_decode(photo).astype(np.float32))
    return reexpose(photo, rng, ev), hdr, photo


class PhotoCache:
    """Decoded photos, reduced once (area average) so the shorter side is at most `short_side`."""

    def __init__(self, short_side):
        self.short_side, self.images = short_side, {}

    def get(self, path):
        if path not in self.images:
            with Image.open(path) as im:
                im = im.convert("RGB")
                w, h = im.size
                f = max(1, math.ceil(min(w, h) / self.short_side))
                if f > 1:
                    im = im.reduce(f)
                self.images[path] = np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255
        return self.images[path]


def view(photo, size, rng, scale_min=1.0, flip=True):
    """A random square of side scale * min(H, W), scale uniform in [scale_min, 1], reduced to
    size x size by area averaging; flipped left-right half the time."""
    _, h, w = photo.shape
    side = max(1, int(round(min(h, w) * rng.uniform(scale_min, 1.0))))
    y0, x0 = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    square = torch.from_numpy(np.ascontiguousarray(photo[:, y0:y0 + side, x0:x0 + side]))[None]
    out = torch.nn.functional.adaptive_avg_pool2d(square, size) if side >= size else \
        torch.nn.functional.interpolate(square, size=size, mode="nearest")
    out = out[0].numpy()
    if flip and rng.random() < 0.5:
        out = out[:, :, ::-1]
    return np.ascontiguousarray(out)


class PhotoTriplets(torch.utils.data.Dataset):
    """`length` samples; sample i is a pure function of (seed, i): the same on every process
    and every run, so a resumed or distributed run sees exactly the batches it would have."""

    def __init__(self, paths, size, length, seed, scale_min=0.6, ev=None, flip=True):
        self.paths, self.size, self.length, self.seed = paths, size, length, seed
        self.scale_min, self.ev, self.flip = scale_min, ev, flip
        self.cache = PhotoCache(short_side=max(2 * size, 256))

    def __len__(self):
        return self.length

    def __getitem__(self, i):
        rng = np.random.default_rng([self.seed, i])
        photo = self.cache.get(self.paths[rng.integers(len(self.paths))])
        crop = view(photo, self.size, rng, self.scale_min, self.flip)
        x, hdr, target = triplet(crop, rng, self.ev)
        return torch.from_numpy(x), torch.from_numpy(hdr), torch.from_numpy(np.ascontiguousarray(target))


def validation_set(paths, size, evs=(-2.0, 1.5), seed=1 << 20):
    """Every validation photo, whole (largest centred square, no flip), at each exposure."""
    cache, items = PhotoCache(short_side=max(2 * size, 256)), []
    for k, path in enumerate(paths):
        photo = cache.get(path)
        for ev in evs:
            rng = np.random.default_rng([seed, k, int(round((ev + 10) * 100))])
            _, h, w = photo.shape
            side = min(h, w)
            y0, x0 = (h - side) // 2, (w - side) // 2
            square = torch.from_numpy(np.ascontiguousarray(photo[:, y0:y0 + side, x0:x0 + side]))[None]
            crop = torch.nn.functional.adaptive_avg_pool2d(square, size)[0].numpy()
            items.append([torch.from_numpy(np.ascontiguousarray(a)) for a in triplet(crop, rng, ev)])
    return [torch.stack(t) for t in zip(*items)]


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)
