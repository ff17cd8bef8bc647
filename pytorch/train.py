#!/usr/bin/env python3
"""Scale-out training of DRHT with PyTorch: the docs/MODEL.md joint loss and Adam, on one process or
many (`torchrun`, distributed data parallel: NCCL on GPUs, gloo on CPUs), bf16 autocast and TF32
on GPUs, periodic validation on held-out photos, resumable checkpoints, and weights written as
drht-format safetensors (F16, docs/MODEL.md names and metadata) that `drht` loads unchanged.

    # one process (CPU or one GPU)
    python3 pytorch/train.py --data photos:data/photos/train --val photos:data/photos/val \\
        --weights Weights/drht.safetensors --size 128 --batch 16 --steps 5000 --out run.safetensors
    # eight GPUs on one machine: the batch is per process (8 x 16 = 128 per step)
    torchrun --standalone --nproc_per_node 8 pytorch/train.py ... (the same arguments)
    # back into drht
    drht evaluate --data photos:data/photos/eval --ev -2,-1,1,1.5 --weights run.safetensors

BatchNorm under DDP: each process normalises with its own batch's statistics (PyTorch's default;
SyncBatchNorm needs CUDA in the torch this project tests with), so the gradient of a step is the
mean of the per-process gradients, each computed with that process's statistics; the running
statistics are rank 0's (DDP broadcasts rank 0's buffers at every forward). Keep the batch per
process at 8 or more. pytorch/tests/test_train.py checks exactly this.
"""
import argparse
import csv
import datetime
import math
import os
import platform
import sys
import time

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import model as M  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train DRHT (both networks, jointly) with PyTorch.")
    p.add_argument("--data", required=True, help="photos:DIR (several joined with +)")
    p.add_argument("--val", default=None, help="photos:DIR for validation (every photo whole, at -2 and +1.5 EV)")
    p.add_argument("--steps", type=int, default=1000, help="train until this step")
    p.add_argument("--batch", type=int, default=8, help="triplets per step per process")
    p.add_argument("--size", type=int, default=128, help="sample size: whole images at 128 px, what the shipped weights trained on (fine-tuning at 256 measured worse)")
    p.add_argument("--scale-min", type=float, default=0.6, help="smallest crop, as a share of the photo's shorter side")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--weights", default=None, help="start from these drht weights (.safetensors)")
    p.add_argument("--resume", default=None, help="continue the run checkpointed at this weights file")
    p.add_argument("--out", default="drht-torch.safetensors")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--deconv-init", choices=["kaiming", "icnr"], default="icnr",
                   help="a fresh model's transposed convolutions (icnr: four output phases identical at step 0)")
    p.add_argument("--val-every", type=int, default=100)
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--workers", type=int, default=2, help="data loader processes per training process")
    p.add_argument("--threads", type=int, default=None, help="CPU threads per process")
    p.add_argument("--freeze-bn", action="store_true",
                   help="BatchNorm normalises with its running statistics while training and keeps them, as drht train --freeze-bn "
                        "(fine-tune what drht calibrate measured; needs --weights or --resume)")
    args = p.parse_args(argv)
    if args.size % 32 or args.size < 32:
        p.error(f"--size must be a multiple of 32 (got {args.size})")
    if args.weights and args.resume:
        p.error("use either --weights or --resume, not both")
    if args.freeze_bn and not (args.weights or args.resume):
        p.error("--freeze-bn keeps the BatchNorm statistics a file was trained or measured with; a fresh model has none (start from --weights or --resume)")
    return args


def load_drht_weights(model, path):
    state = {k: v.float() for k, v in load_file(path).items() if not k.endswith("num_batches_tracked")}
    expected = dict(M.named_tensors(model))
    missing = [k for k in expected if k not in state]
    if missing:
        raise SystemExit(f"{path}: not a complete drht model (missing {missing[0]} and {len(missing) - 1} more)")
    with torch.no_grad():
        for name, t in expected.items():
            if tuple(state[name].shape) != tuple(t.shape):
                raise SystemExit(f"{path}: {name} is {tuple(state[name].shape)}, docs/MODEL.md says {tuple(t.shape)}")
            t.copy_(state[name])


def hardware(device, world):
    if device.type == "cuda":
        return f"{world} x {torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{world} process(es) on {cpu}, {torch.get_num_threads()} threads each"


def save_weights(model, path, metadata):
    """drht-format safetensors, F16, written atomically."""
    tensors = {name: t.detach().to("cpu", torch.float16).contiguous() for name, t in M.named_tensors(model)}
    meta = {"format": M.FORMAT, "gamma": str(M.GAMMA), "scale": str(M.SCALE), "epsilon": str(M.EPSILON)}
    meta.update({k: str(v) for k, v in metadata.items()})
    tmp = path + ".tmp-drht"
    save_file(tensors, tmp, metadata=meta)
    os.replace(tmp, path)


class StepSampler(torch.utils.data.Sampler):
    """Global sample indices for this process, step after step from `first_step`: step s's
    global batch is samples (s - 1) B W ... s B W - 1, and process r takes its r-th slice of B.
    Samples are pure functions of their index (data.PhotoTriplets), so a run sees the same
    batches whatever the number of processes, and a resumed run the batches it would have seen."""

    def __init__(self, first_step, batch, world, rank):
        self.first_step, self.batch, self.world, self.rank = first_step, batch, world, rank

    def __iter__(self):
        step = self.first_step
        while True:
            first = (step - 1) * self.batch * self.world + self.rank * self.batch
            yield from range(first, first + self.batch)
            step += 1


def checkpoint_path(out):
    return out + ".ckpt.pt"


class Run:
    def __init__(self, args):
        self.args = args
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = torch.cuda.is_available()
        self.device = torch.device("cuda", local) if cuda else torch.device("cpu")
        if args.threads:
            torch.set_num_threads(args.threads)
        if self.world > 1:
            dist.init_process_group("nccl" if cuda else "gloo")
        if cuda:
            torch.cuda.set_device(self.device)
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        D.seed_everything(args.seed)
        self.model = M.DRHT()
        M.kaiming_init(self.model, args.seed, args.deconv_init)
        if args.weights:
            load_drht_weights(self.model, args.weights)
        self.model.to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
        self.step, self.seconds, self.log = 0, 0.0, []
        if args.resume:
            state = torch.load(checkpoint_path(args.resume), map_location="cpu")
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.step, self.seconds, self.log = state["step"], state["seconds"], state["log"]
        self.net = (torch.nn.parallel.DistributedDataParallel(self.model, device_ids=[local] if cuda else None)
                    if self.world > 1 else self.model)
        self.paths = D.photo_paths(args.data)
        self.dataset = D.PhotoTriplets(self.paths, args.size, length=(1 << 62), seed=args.seed, scale_min=args.scale_min)
        self.loader = iter(torch.utils.data.DataLoader(
            self.dataset, batch_size=args.batch, sampler=StepSampler(self.step + 1, args.batch, self.world, self.rank),
            num_workers=args.workers, pin_memory=cuda, persistent_workers=args.workers > 0))
        self.validation = D.validation_set(D.photo_paths(args.val), args.size) if args.val and self.rank == 0 else None
        self.out = args.resume or args.out

    def train_step(self):
        x, hdr, target = (t.to(self.device, non_blocking=True) for t in next(self.loader))
        self.model.train()
        if self.args.freeze_bn:
            # BN modules in eval mode: running statistics normalise and are not updated.
            for m in self.model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.eval()
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda" else torch.autocast("cpu", enabled=False)
        with autocast:
            y1, _, y2 = self.net(x)
        loss_hdr = torch.nn.functional.mse_loss(y1.float(), M.tau(hdr))
        loss_ldr = torch.nn.functional.mse_loss(y2.float(), target)
        loss = loss_hdr + loss_ldr
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        values = torch.stack([loss.detach(), loss_hdr.detach(), loss_ldr.detach()])
        if self.world > 1:
            dist.all_reduce(values)
            values /= self.world
        return values.tolist()

    @torch.no_grad()
    def validate(self):
        x, hdr, target = (t.to(self.device) for t in self.validation)
        self.model.eval()
        total, _, _ = self.model.loss(x, hdr, target)
        out = self.model.correct(x)
        mse = ((out - target) ** 2).flatten(1).mean(1).clamp_min(1e-10)
        return total.item(), (10 * torch.log10(1 / mse)).mean().item()

    def save(self):
        if self.rank != 0:
            return
        last = self.log[-1] if self.log else {}
        a = self.args
        save_weights(self.model, self.out, {
            "steps": self.step, "data": a.data, "size": a.size, "batch": f"{a.batch} x {self.world} processes",
            "learning_rate": a.lr, "seed": a.seed, "framing": f"whole, scale {a.scale_min}-1, flips",
            "hardware": hardware(self.device, self.world), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "trainer": "pytorch/train.py", "torch": torch.__version__,
            "loss": last.get("loss", ""), "val_loss": last.get("val_loss", ""), "val_psnr": last.get("val_psnr", ""),
            **({"bn_frozen": "running statistics used and kept while training (--freeze-bn)"} if a.freeze_bn else {})})
        tmp = checkpoint_path(self.out) + ".tmp-drht"
        torch.save({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step,
                    "seconds": self.seconds, "log": self.log, "args": vars(a)}, tmp)
        os.replace(tmp, checkpoint_path(self.out))
        with open(self.out + ".csv.tmp-drht", "w", newline="") as f:
            w = csv.DictWriter(f, ["step", "loss", "loss_hdr", "loss_ldr", "val_loss", "val_psnr", "seconds"])
            w.writeheader()
            w.writerows(self.log)
        os.replace(self.out + ".csv.tmp-drht", self.out + ".csv")

    def run(self):
        a = self.args
        if self.rank == 0:
            print(f"training steps {self.step + 1}..{a.steps}, {a.batch} x {self.world} per step at {a.size}px, "
                  f"{len(self.paths)} photos, {hardware(self.device, self.world)} -> {self.out}", flush=True)
        while self.step < a.steps:
            t0 = time.perf_counter()
            self.step += 1
            loss, loss_hdr, loss_ldr = self.train_step()
            self.seconds += time.perf_counter() - t0
            row = {"step": self.step, "loss": loss, "loss_hdr": loss_hdr, "loss_ldr": loss_ldr,
                   "val_loss": "", "val_psnr": "", "seconds": round(self.seconds, 3)}
            if not math.isfinite(loss):
                raise SystemExit(f"step {self.step}: the loss is {loss}; try a smaller --lr")
            if self.validation is not None and (self.step % a.val_every == 0 or self.step == a.steps):
                row["val_loss"], row["val_psnr"] = self.validate()
            self.log.append(row)
            if self.rank == 0 and (row["val_loss"] != "" or self.step % 10 == 0 or self.step == a.steps):
                extra = f"  val {row['val_loss']:.4f} / {row['val_psnr']:.2f} dB" if row["val_loss"] != "" else ""
                print(f"step {self.step}/{a.steps}  loss {loss:.5f} (hdr {loss_hdr:.5f}, ldr {loss_ldr:.5f}){extra}"
                      f"  {self.seconds / max(1, len(self.log)):.3f} s/step", flush=True)
            if self.step % a.save_every == 0 or self.step == a.steps:
                self.save()
        if self.world > 1:
            dist.barrier()
            dist.destroy_process_group()


def main(argv=None):
    Run(parse_args(argv)).run()


if __name__ == "__main__":
    main()
