#!/usr/bin/env python3
"""Writes Tests/DRHTTrainingTests/Fixtures/photo-exposure.json: a small photo taken again by a few
fixed cameras at several exposures, by pytorch/data.py's `reexpose_with`. The Swift tests
(DataSourceTests) check that drht's `Camera.reexpose` gives the same pixels and pytorch/tests
check that data.py still does, so the two trainers' degradations cannot drift apart.

    python3 pytorch/make_exposure_fixture.py [--out PATH]
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402

DEFAULT_OUT = os.path.join(HERE, "..", "Tests", "DRHTTrainingTests", "Fixtures", "photo-exposure.json")
# (ev, gamma, contrast): no noise, so both sides compute the same thing without sharing a generator.
CAMERAS = [(0.0, 2.2, 0.0), (0.0, 1.8, 0.6), (-2.0, 2.2, 0.3), (-3.0, 2.6, 0.0), (1.5, 2.0, 0.45), (1.0, 2.4, 0.1)]


def photo():
    """(3, 6, 8): every second 8-bit level across the channels, plus off-grid values (an
    area-averaged photo is not on the 8-bit grid)."""
    levels = np.arange(0, 256, 2)[:128] / 255.0
    off = np.array([0.0013, 0.5011, 0.9987, 0.3333, 0.7071, 0.0001, 0.25, 0.999, 1.0, 0.0, 0.1, 0.9, 0.45, 0.55, 0.02, 0.98])
    p = np.concatenate([levels, off])
    return p.reshape(3, 6, 8).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    p = photo()
    cases = [{"ev": ev, "gamma": g, "contrast": c,
              "output": [round(float(v), 8) for v in D.reexpose_with(p, ev, g, c, 0.0).ravel()]}
             for ev, g, c in CAMERAS]
    doc = {"written_by": "pytorch/make_exposure_fixture.py", "shape": [1, 3, 6, 8],
           "photo": [round(float(v), 8) for v in p.ravel()], "cases": cases}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out}: {len(cases)} cameras on a {p.shape} photo")


if __name__ == "__main__":
    main()
