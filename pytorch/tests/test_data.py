"""The PyTorch data pipeline's degradations (`make test-torch`): exposure relative to the photo
itself, and the same pixels as drht's own (the fixture both sides check)."""
import json
import os
import sys
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import data as D  # noqa: E402
import make_exposure_fixture as F  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(ROOT, "Tests", "DRHTTrainingTests", "Fixtures", "photo-exposure.json")


class ExposureTests(unittest.TestCase):
    def test_fixture_is_what_data_py_computes(self):
        """drht's Swift tests compare Camera.reexpose with this file; it must be data.py's output."""
        with open(FIXTURE) as f:
            doc = json.load(f)
        photo = np.array(doc["photo"], dtype=np.float32).reshape(3, 6, 8)
        np.testing.assert_allclose(photo, F.photo(), atol=1e-7)
        self.assertEqual(len(doc["cases"]), len(F.CAMERAS))
        for case in doc["cases"]:
            out = D.reexpose_with(photo, case["ev"], case["gamma"], case["contrast"], 0.0).ravel()
            np.testing.assert_allclose(out, np.array(case["output"]), atol=1e-6, err_msg=str(case["ev"]))

    def test_zero_ev_is_the_photo(self):
        rng = np.random.default_rng(4)
        photo = (np.round(rng.uniform(0, 1, (3, 12, 16)) * 255) / 255).astype(np.float32)
        photo[:, :3] = 0
        for seed in range(10):
            x, hdr, target = D.triplet(photo, np.random.default_rng(seed), ev=0.0)
            self.assertLessEqual(np.abs(x - photo).max(), 0.5 / 255 + 1e-6)
            self.assertIs(target, photo)
            # H_gt: the photo's sRGB-decoded light, one scale for all pixels (log-average 0.18).
            linear = D.srgb_decode(photo.astype(np.float64))
            scale = 0.18 / np.exp(np.log(D.luminance(linear) + 1e-6).mean())
            np.testing.assert_allclose(hdr, linear * scale, rtol=1e-4, atol=1e-7)

    def test_exposure_scales_linear_light(self):
        photo = np.full((3, 4, 4), 153 / 255, dtype=np.float32)
        for ev, level in [(-1, 108), (1, 216), (2, 255)]:
            out = D.reexpose_with(photo, ev, 2.0, 0.0, 0.0)
            self.assertTrue(np.all(out == np.float32(level / 255)), (ev, out.ravel()[:3]))


if __name__ == "__main__":
    unittest.main()
