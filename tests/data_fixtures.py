"""Tiny raw files in the official formats, for datasets the test machines do not hold."""

from __future__ import annotations

import dataclasses
import gzip
import io
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from lrstudy.data import sources


def write_idx_set(folder: Path, n_train: int, n_test: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The four MNIST-format gzip IDX files (uint8 images 28x28, uint8 labels)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
        arrays[f"{prefix}_images"], arrays[f"{prefix}_labels"] = images, labels
    return arrays


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def write_cifar_tarball(
    path: Path, batches: dict[str, int], label_key: str, num_classes: int, seed: int = 0
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A CIFAR python tarball: one pickled dict (data (N, 3072) uint8, labels) per batch."""
    rng = np.random.default_rng(seed)
    folder = "cifar-10-batches-py" if label_key == "labels" else "cifar-100-python"
    arrays = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for member, n in batches.items():
            data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
            labels = rng.integers(0, num_classes, n).tolist()
            payload = pickle.dumps({"data": data, label_key: labels, "batch_label": member})
            info = tarfile.TarInfo(f"{folder}/{member}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
            arrays[member] = (data, np.asarray(labels))
    return arrays


def write_svhn_mat(path: Path, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An SVHN .mat: X (32, 32, 3, N) uint8, y (N, 1) in 1..10 (10 meaning digit 0)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    y = rng.integers(1, 11, (n, 1)).astype(np.uint8)
    y[0, 0] = 10
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(str(path), {"X": x, "y": y})
    return x, y


def patch_md5(monkeypatch: pytest.MonkeyPatch, name: str, folder: Path) -> None:
    """Point the registry's md5s at our synthetic files (the checksum path still runs)."""
    files = [
        dataclasses.replace(raw, md5=sources.md5_file(_located(folder, raw)))
        for raw in sources.RAW_FILES[name]
    ]
    monkeypatch.setitem(sources.RAW_FILES, name, files)


def _located(folder: Path, raw: sources.RawFile) -> Path:
    nested = folder / raw.subdir / raw.filename
    return nested if nested.is_file() else folder / raw.filename


def write_stand_in_sources(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A source folder holding the real offline files (linked) and small official-format
    stand-ins for the sets this machine lacks (fmnist, cifar10, cifar100, svhn)."""
    real = os.environ.get(sources.SOURCE_ENV)
    folder.mkdir(parents=True, exist_ok=True)
    if real:
        for entry in Path(real).iterdir():
            if entry.is_dir():
                (folder / entry.name).symlink_to(entry.resolve())
    write_idx_set(folder / "fmnist", 96, 48)
    cifar10 = {**{f"data_batch_{i}": 24 for i in range(1, 6)}, "test_batch": 48}
    write_cifar_tarball(folder / "cifar10" / sources.RAW_FILES["cifar10"][0].filename, cifar10,
                        "labels", 10)
    write_cifar_tarball(folder / "cifar100" / sources.RAW_FILES["cifar100"][0].filename,
                        {"train": 120, "test": 48}, "fine_labels", 100)
    write_svhn_mat(folder / "svhn/train_32x32.mat", 120)
    write_svhn_mat(folder / "svhn/test_32x32.mat", 48, seed=1)
    for name in ("fmnist", "cifar10", "cifar100", "svhn"):
        patch_md5(monkeypatch, name, folder)
    monkeypatch.setenv(sources.SOURCE_ENV, str(folder))
    return folder
