"""PyTorch's DataLoader on the same job as bench_loader.cpp, for its `torch samples/s` column.

Fashion-MNIST train images read from the same IDX files, the same augmentation per sample
written in torch ops (torchvision is not needed): zero-pad 4 + random 28x28 crop, random
horizontal flip (p = 0.5), /255 to float, normalize with mean 0.2860 and std 0.3530.
Batch 64, shuffled, default collate, at each worker count asked for; samples/s over one
epoch, the median of 3 epochs after one warm-up epoch, as bench_loader.cpp measures.

Workers are processes (PyTorch's design) started anew every epoch (persistent_workers=False,
the default), as lucid's workers are threads started by every loop.

Run with the interpreter that has torch (/usr/bin/python3 here):
    /usr/bin/python3 bench/bench_loader_torch.py [--root DIR] [--samples N] [--workers 0 1 2]
Prints one line per worker count: `torch_loader <workers> <samples/s>`.
"""
import argparse
import gzip
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

MEAN, STD, PAD, SIDE = 0.2860, 0.3530, 4, 28


def read_idx(path, magic, header):
    """The payload of an IDX file (raw or .gz) after checking its magic number."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if int.from_bytes(data[:4], "big") != magic:
        raise SystemExit(f"{path}: not an IDX file of the expected type")
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def find(root, name):
    for candidate in (os.path.join(root, name), os.path.join(root, name + ".gz")):
        if os.path.exists(candidate):
            return candidate
    raise SystemExit(f"{root}: no {name}[.gz]")


class AugmentedFashionMNIST(Dataset):
    def __init__(self, root, samples):
        images = read_idx(find(root, "train-images-idx3-ubyte"), 0x803, 16)
        labels = read_idx(find(root, "train-labels-idx1-ubyte"), 0x801, 8)
        self.images = torch.from_numpy(images.reshape(-1, 1, SIDE, SIDE)[:samples].copy())
        self.labels = torch.from_numpy(labels[:samples].astype(np.int64))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        img = F.pad(self.images[i], (PAD, PAD, PAD, PAD))    # RandomCrop(28, padding=4)
        top, left = torch.randint(0, 2 * PAD + 1, (2,)).tolist()
        img = img[:, top:top + SIDE, left:left + SIDE]
        if torch.rand(1).item() < 0.5:                      # RandomHorizontalFlip()
            img = img.flip(-1)
        x = img.float().div_(255)                           # ToTensor()
        return x.sub_(MEAN).div_(STD), self.labels[i]       # Normalize((MEAN,), (STD,))


def epoch_seconds(loader):
    t0 = time.perf_counter()
    samples = 0
    for _, target in loader:
        samples += target.numel()
    return samples, time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--samples", type=int, default=60000)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    args = p.parse_args()
    torch.manual_seed(0)
    dataset = AugmentedFashionMNIST(args.root, args.samples)
    for workers in args.workers:
        loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=workers)
        epoch_seconds(loader)  # warm-up
        runs = sorted((epoch_seconds(loader) for _ in range(3)), key=lambda r: r[1])
        samples, seconds = runs[1]
        print(f"torch_loader {workers} {samples / seconds:.0f}", flush=True)


if __name__ == "__main__":
    main()
