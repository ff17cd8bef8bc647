"""Tests of the PyTorch side (`make test-torch`): the trainer on one process and resumed, two
processes under DDP (gloo, CPU) against the same data on one process, and weights going through
`drht correct` unchanged."""
import os
import socket
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.multiprocessing as mp
from PIL import Image
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import data as D  # noqa: E402
import model as M  # noqa: E402
import train as T  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
DRHT = os.path.join(ROOT, ".build", "release", "drht")


def write_photos(folder, count=3, seed=0):
    """Smooth random pictures (gradients plus blobs) as PNG files."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    for k in range(count):
        h, w = 60 + 10 * k, 80
        yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
        img = np.stack([0.5 + 0.4 * np.sin(6 * xx + c + rng.uniform(0, 3)) * np.cos(4 * yy) for c in range(3)], -1)
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(os.path.join(folder, f"p{k}.png"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_args(folder, out, *extra):
    return ["--data", "photos:" + folder, "--size", "32", "--batch", "2", "--workers", "0", "--threads", "1",
            "--seed", "3", "--out", out, "--val-every", "2", "--save-every", "1", *extra]


def ddp_worker(rank, folder, out, port, results):
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": "2", "RANK": str(rank),
                       "LOCAL_RANK": str(rank)})
    run = T.Run(T.parse_args(base_args(folder, out, "--steps", "1")))
    run.train_step()
    torch.save({"params": {n: t.detach().clone() for n, t in M.named_tensors(run.model)},
                "grads": {n: p.grad.clone() for n, p in run.model.named_parameters()}},
               os.path.join(results, f"rank{rank}.pt"))
    torch.distributed.destroy_process_group()


class TrainerTests(unittest.TestCase):
    def setUp(self):
        torch.set_num_threads(1)
        self.dir = tempfile.mkdtemp(prefix="drht-torch-")
        self.photos = os.path.join(self.dir, "photos")
        write_photos(self.photos)

    def test_two_steps_write_drht_weights_and_resume_continues_exactly(self):
        out = os.path.join(self.dir, "run.safetensors")
        T.main(base_args(self.photos, out, "--steps", "2", "--val", "photos:" + self.photos))
        with safe_open(out, "pt") as f:
            names = set(f.keys())
            meta = f.metadata()
            self.assertEqual(f.get_tensor("hdr.enc1.conv.weight").dtype, torch.float16)
        self.assertEqual(names, {n for n, _ in M.named_tensors(M.DRHT())})
        self.assertEqual((meta["format"], meta["steps"], meta["trainer"]), ("drht-1", "2", "pytorch/train.py"))
        for key in ("data", "hardware", "date", "torch", "val_psnr"):
            self.assertTrue(meta.get(key), key)
        with open(out + ".csv") as f:
            self.assertEqual(len(f.read().strip().splitlines()), 3)
        # Two steps, then one more resumed, equal three steps in one go.
        straight = os.path.join(self.dir, "straight.safetensors")
        T.main(base_args(self.photos, straight, "--steps", "3"))
        T.main(base_args(self.photos, out, "--steps", "3", "--resume", out)[:-2] + ["--resume", out])
        a, b = torch.load(out + ".ckpt.pt")["model"], torch.load(straight + ".ckpt.pt")["model"]
        for name in a:
            self.assertTrue(torch.allclose(a[name].float(), b[name].float(), rtol=1e-5, atol=1e-7), name)

    def test_freeze_bn_keeps_the_running_statistics_and_trains_the_rest(self):
        start = os.path.join(self.dir, "start.safetensors")
        T.main(base_args(self.photos, start, "--steps", "1"))
        frozen, moving = os.path.join(self.dir, "frozen.safetensors"), os.path.join(self.dir, "moving.safetensors")
        T.main(base_args(self.photos, frozen, "--steps", "2", "--weights", start, "--freeze-bn"))
        T.main(base_args(self.photos, moving, "--steps", "2", "--weights", start))
        with safe_open(start, "pt") as a, safe_open(frozen, "pt") as b, safe_open(moving, "pt") as c:
            for name in a.keys():
                if "running_" in name:
                    self.assertTrue(torch.equal(a.get_tensor(name), b.get_tensor(name)), name)
                    self.assertFalse(torch.equal(a.get_tensor(name), c.get_tensor(name)), name)
                elif name.endswith("conv.weight"):
                    self.assertFalse(torch.equal(a.get_tensor(name), b.get_tensor(name)), name)
            self.assertIn("bn_frozen", b.metadata())
            self.assertNotIn("bn_frozen", c.metadata())
        with self.assertRaises(SystemExit):        # a fresh model has no statistics to freeze
            T.parse_args(base_args(self.photos, frozen, "--steps", "1", "--freeze-bn"))

    def test_ddp_two_processes_match_one_process_on_the_same_data(self):
        """Per-process BatchNorm (see train.py): the DDP gradient is the mean of the gradients of
        each process's half of the global batch, each normalised with its own statistics; both
        replicas hold the same parameters after the step."""
        results = os.path.join(self.dir, "ddp")
        os.makedirs(results)
        mp.spawn(ddp_worker, args=(self.photos, os.path.join(self.dir, "ddp.safetensors"), free_port(), results), nprocs=2)
        r0, r1 = (torch.load(os.path.join(results, f"rank{r}.pt")) for r in (0, 1))
        learnable = {n for n, _ in M.DRHT().named_parameters()}
        for name in learnable:
            self.assertTrue(torch.equal(r0["params"][name], r1["params"][name]), f"replicas differ in {name}")
        # The same global batch on one process, half by half.
        args = T.parse_args(base_args(self.photos, os.path.join(self.dir, "one.safetensors"), "--steps", "1"))
        model = M.DRHT()
        M.kaiming_init(model, args.seed, args.deconv_init)
        dataset = D.PhotoTriplets(D.photo_paths(args.data), args.size, 1 << 62, args.seed, args.scale_min)
        grads, after_half0 = {}, None
        for half in (0, 1):
            x, hdr, target = (torch.stack(t) for t in zip(*[dataset[2 * half + k] for k in range(2)]))
            model.zero_grad()
            model.train()
            loss, _, _ = model.loss(x, hdr, target)
            loss.backward()
            for n, p in model.named_parameters():
                grads[n] = grads.get(n, 0) + p.grad / 2
            if half == 0:    # (training-mode BN normalises with batch statistics: half 1's gradient does not see these)
                after_half0 = {n: t.detach().clone() for n, t in M.named_tensors(model) if "running" in n}
        for n, g in grads.items():
            ref = r0["grads"][n]
            scale = g.norm().item()
            if scale < 1e-6:
                continue
            self.assertLess((ref - g).norm().item() / scale, 1e-4, n)
        # The running statistics rank 0 keeps (and saves) are those of its own half.
        for n, t in after_half0.items():
            self.assertTrue(torch.allclose(r0["params"][n], t, rtol=1e-5, atol=1e-6), n)


class InitTests(unittest.TestCase):
    def test_icnr_deconvolutions_have_four_identical_output_phases(self):
        torch.manual_seed(0)
        for k in (3, 5, 9):
            conv = torch.nn.ConvTranspose2d(4, 3, k, stride=2, padding=(k - 1) // 2, output_padding=1, bias=False)
            x = torch.randn(1, 4, 6, 5)
            with torch.no_grad():
                def spread(y):
                    anchor = y[:, :, ::2, ::2].repeat_interleave(2, 2).repeat_interleave(2, 3)
                    return (y - anchor).abs().max().item()
                self.assertGreater(spread(conv(x)), 0.01, f"kernel {k}: default weights show phases")
                M.icnr_kernel(conv.weight, 0.3, torch.Generator().manual_seed(k))
                y = conv(x)
                self.assertEqual(tuple(y.shape), (1, 3, 12, 10))
                self.assertLess(spread(y), 1e-5, f"kernel {k}")
                self.assertGreater(y.std().item(), 0.05)
        # The layout drht's DRHT.icnrKernel uses: k = 3 pairs taps 1 and 2, tap 0 is lone.
        self.assertEqual(M.icnr_pairs(3), ([-1, 0, 0], 1))
        self.assertEqual(M.icnr_pairs(9), ([0, 0, 1, 1, 2, 2, 3, 3, -1], 4))

    def test_icnr_init_changes_only_the_deconvolutions(self):
        a, b = M.DRHT(), M.DRHT()
        M.kaiming_init(a, 3)
        M.kaiming_init(b, 3, "icnr")
        for (name, ta), (_, tb) in zip(M.named_tensors(a), M.named_tensors(b)):
            self.assertEqual(torch.equal(ta, tb), not (".dec" in name and name.endswith("conv.weight")), name)


class FixtureTests(unittest.TestCase):
    def test_the_committed_parity_fixture_is_what_make_fixture_writes(self):
        """The Swift parity tests read Tests/DRHTModelTests/Fixtures/parity.safetensors: it must
        be this model's output (rewrite it with `make fixture` after changing model.py)."""
        out = os.path.join(tempfile.mkdtemp(prefix="drht-fixture-"), "parity.safetensors")
        r = subprocess.run([sys.executable, os.path.join(ROOT, "pytorch", "make_fixture.py"), "--out", out],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        committed = os.path.join(ROOT, "Tests", "DRHTModelTests", "Fixtures", "parity.safetensors")
        with safe_open(out, "pt") as new, safe_open(committed, "pt") as old:
            self.assertEqual(set(new.keys()), set(old.keys()))
            for key in new.keys():
                a, b = new.get_tensor(key), old.get_tensor(key)
                # Relative to the tensor's scale, not elementwise: another CPU (AVX2 vs AVX-512
                # kernels) sums in another order, moving values near zero by ~1e-6 of the
                # tensor's largest value; a change to the model moves them by far more.
                scale = b.abs().max().item() if b.numel() else 0.0
                worst = (a - b).abs().max().item() if b.numel() else 0.0
                self.assertLessEqual(worst, 1e-4 * scale + 1e-6, f"{key}: max |new - committed| {worst:.3g}, scale {scale:.3g}")


class DrhtRoundTripTests(unittest.TestCase):
    def test_weights_written_here_correct_the_same_in_drht(self):
        self.assertTrue(os.access(DRHT, os.X_OK), f"{DRHT} is missing: `make build` first (make test-torch does)")
        tmp = tempfile.mkdtemp(prefix="drht-roundtrip-")
        # The shipped weights, loaded here and written by this trainer's writer. (An untrained
        # network's outputs are mostly clamped to 0 or 1 and chaotic elsewhere: rounding alone
        # moves a pixel by 0.01 there; a trained one is well conditioned.)
        m = M.DRHT()
        T.load_drht_weights(m, os.path.join(ROOT, "Weights", "drht.safetensors"))
        weights = os.path.join(tmp, "w.safetensors")
        T.save_weights(m, weights, {"steps": 0})
        # Back from the F16 file, as drht reads it.
        T.load_drht_weights(m, weights)
        m.eval()
        rng = np.random.default_rng(1)
        pixels = (rng.uniform(0.1, 0.9, (40, 52, 3)) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(os.path.join(tmp, "in.png"))
        x = torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1)[None]
        with torch.no_grad():
            ours = m.correct(x)[0].permute(1, 2, 0).numpy()
        out = os.path.join(tmp, "out.npy")
        # --margin 0: the network exactly as docs/MODEL.md has it (direct mode's default mirrored
        # margin is drht's own addition, and the PyTorch model has none).
        r = subprocess.run([DRHT, "correct", os.path.join(tmp, "in.png"), "--mode", "direct", "--margin", "0",
                            "--weights", weights, "-o", out, "--quiet"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        theirs = np.load(out)
        self.assertEqual(theirs.shape, (40, 52, 3))
        self.assertLess(np.abs(theirs - ours).max(), 1e-4)
        self.assertGreater(ours.std(), 0.05, "a real picture, not a clamped one")


if __name__ == "__main__":
    unittest.main()
