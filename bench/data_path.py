"""Data path: device-resident batching with batched augmentation vs torchvision's CIFAR10 class
with per-sample transforms behind a DataLoader, on CIFAR-shaped data.

Both produce the same thing per step: a normalised float batch of 128 randomly cropped (pad 4)
and flipped 3x32x32 images with labels. The baseline is torchvision.datasets.CIFAR10 itself,
reading synthetic files written in the official format (its md5 check is bypassed, since the
files are not the real CIFAR), with RandomCrop/RandomHorizontalFlip/ToTensor/Normalize.

    python bench/data_path.py [--images 20000]
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from lrstudy.data import DataSpec, DeviceData, make_train_batches

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
BATCH = 128


class SyntheticCIFAR10(datasets.CIFAR10):
    """torchvision's CIFAR10, minus the md5 checks that synthetic files cannot pass."""

    def _check_integrity(self) -> bool:
        return True

    def _load_meta(self) -> None:
        self.classes = [f"class{i}" for i in range(10)]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}


def write_official_cifar(root: Path, images: np.ndarray, labels: np.ndarray) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    flat = images.reshape(len(images), -1)
    for i, chunk in enumerate(np.array_split(np.arange(len(images)), 5), start=1):
        with (folder / f"data_batch_{i}").open("wb") as f:
            pickle.dump({"data": flat[chunk], "labels": labels[chunk].tolist()}, f)
    with (folder / "test_batch").open("wb") as f:
        pickle.dump({"data": flat[:BATCH], "labels": labels[:BATCH].tolist()}, f)


def time_torchvision(root: Path, workers: int, max_batches: int) -> float:
    transform = transforms.Compose([transforms.RandomCrop(32, padding=4),
                                    transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                                    transforms.Normalize(MEAN, STD)])
    dataset = SyntheticCIFAR10(str(root), train=True, transform=transform)
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True,
                        num_workers=workers, persistent_workers=False)
    start, seen = time.perf_counter(), 0
    for x, _ in loader:
        seen += x.shape[0]
        if seen // BATCH >= max_batches:
            break
    return seen / (time.perf_counter() - start)


def time_device_batches(images: np.ndarray, labels: np.ndarray, max_batches: int) -> float:
    x = torch.from_numpy(images)
    y = torch.from_numpy(labels).long()
    data = DeviceData(spec=DataSpec("bench", "image", (3, 32, 32), 10), train=(x, y), val=None,
                      test=(x[:BATCH], y[:BATCH]), mean=torch.tensor(MEAN),
                      std=torch.tensor(STD))
    cfg = OmegaConf.create({"batch_size": BATCH, "eval_batch_size": BATCH, "shuffle": True,
                            "random_crop": 4, "hflip": True, "normalize": True,
                            "name": "bench"})
    batches = make_train_batches(data, cfg, seed=0)
    start, seen = time.perf_counter(), 0
    for xb, _ in batches.epoch(0):
        seen += xb.shape[0]
        if seen // BATCH >= max_batches:
            break
    return seen / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.images, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, args.images).astype(np.int64)
    max_batches = args.images // BATCH
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        write_official_cifar(Path(tmp), images, labels)
        time_device_batches(images, labels, 5)  # warm-up
        rows["lrstudy device batches"] = time_device_batches(images, labels, max_batches)
        for workers in (0, 2):
            rows[f"torchvision CIFAR10 + DataLoader (num_workers={workers})"] = \
                time_torchvision(Path(tmp), workers, max_batches)
    base = max(v for k, v in rows.items() if k.startswith("torchvision"))
    print(json.dumps({k: round(v) for k, v in rows.items()}))
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads, CPU, "
          f"{args.images} images, batch {BATCH}")
    print("| data path | images/s | vs best torchvision |")
    print("|---|---|---|")
    for name, value in rows.items():
        print(f"| {name} | {value:,.0f} | {value / base:.1f}x |")


if __name__ == "__main__":
    main()
