"""Raw files -> the canonical ``data.pt`` + ``manifest.json`` in ``<root>/prepared/<id>/``.

Preparation runs once per dataset (DVC's prepare stage); training only reads prepared files. The
output directory appears atomically (built in a temporary sibling, then renamed), so an error or an
interrupted run never leaves a partial dataset behind.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import dataclasses
import functools
import gzip
import hashlib
import json
import math
import os
import pickle
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
import torch

from lrstudy import __version__
from lrstudy.config import DataConfig, QuadraticDataConfig, SyntheticDataConfig
from lrstudy.data import sources
from lrstudy.errors import DataError

FORMAT_VERSION = 1
SPLIT_KEYS = ("train_x", "train_y", "test_x", "test_y")


@dataclass
class Prepared:
    """What a builder returns: the tensors plus the facts that go into the manifest."""

    kind: str
    shape: tuple[int, ...]  # one example; () for a token stream (seq_length is a load option)
    num_classes: int
    tensors: dict[str, torch.Tensor]  # SPLIT_KEYS plus extras such as "hessian"
    info: dict[str, Any] = field(default_factory=dict)  # extra manifest entries (vocab, ...)


Builder = Callable[[list[Path], dict[str, Any]], Prepared]  # (raw file paths, parameters)


@contextlib.contextmanager
def _parsing(path: Path) -> Iterator[None]:
    """Any failure while reading a raw file means the file is malformed: say which one."""
    try:
        yield
    except DataError:
        raise
    except Exception as err:
        raise DataError(f"cannot parse {path}: {sources.one_line(err)}") from err


def _build_idx(paths: list[Path], params: dict[str, Any]) -> Prepared:
    """MNIST-format IDX (gzip): 28x28 uint8 grey images, 10 classes."""
    from torchvision.datasets.mnist import read_image_file, read_label_file  # slow import

    arrays = []
    readers = (read_image_file, read_label_file, read_image_file, read_label_file)
    with tempfile.TemporaryDirectory() as tmp:
        for path, read in zip(paths, readers, strict=True):
            plain = Path(tmp) / path.stem
            with _parsing(path):
                with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                arrays.append(read(str(plain)).clone())  # clone: drop the buffer's header bytes
    train_x, train_y, test_x, test_y = arrays
    tensors = {
        "train_x": train_x.unsqueeze(1),
        "train_y": train_y,
        "test_x": test_x.unsqueeze(1),
        "test_y": test_y,
    }
    return Prepared("image", tuple(tensors["train_x"].shape[1:]), 10, tensors)


def _build_cifar(
    paths: list[Path],
    params: dict[str, Any],
    *,
    folder: str,
    train: tuple[str, ...],
    test: tuple[str, ...],
    label_key: str,
    num_classes: int,
) -> Prepared:
    """CIFAR python tarball: pickled batches of (N, 3072) uint8 rows, read without extracting."""
    (path,) = paths
    with _parsing(path), tarfile.open(path, "r:gz") as tar:

        def read(members: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
            xs, ys = [], []
            for member in members:
                entry = pickle.load(tar.extractfile(f"{folder}/{member}"), encoding="latin1")
                xs.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                ys.append(np.asarray(entry[label_key], dtype=np.int64))
            return torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys))

        train_x, train_y = read(train)
        test_x, test_y = read(test)
    tensors = {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y}
    return Prepared("image", (3, 32, 32), num_classes, tensors)


def _build_svhn(paths: list[Path], params: dict[str, Any]) -> Prepared:
    """SVHN cropped digits (.mat): X (32, 32, 3, N) uint8, y (N, 1) with 10 meaning digit 0."""
    tensors = {}
    for split, path in zip(("train", "test"), paths, strict=True):
        with _parsing(path):
            mat = scipy.io.loadmat(str(path))
            x = np.ascontiguousarray(np.transpose(mat["X"], (3, 2, 0, 1)), dtype=np.uint8)
            y = mat["y"].astype(np.int64).reshape(-1)
        y[y == 10] = 0
        tensors[f"{split}_x"], tensors[f"{split}_y"] = torch.from_numpy(x), torch.from_numpy(y)
    return Prepared("image", (3, 32, 32), 10, tensors)


def _build_mnist1d(paths: list[Path], params: dict[str, Any]) -> Prepared:
    """MNIST-1D official pickle: 4000 train / 1000 test signals of length 40, 10 classes."""
    (path,) = paths
    with _parsing(path), open(path, "rb") as f:
        raw = pickle.load(f)
        tensors = {
            "train_x": torch.from_numpy(np.asarray(raw["x"], dtype=np.float32)),
            "train_y": torch.from_numpy(np.asarray(raw["y"], dtype=np.int64)),
            "test_x": torch.from_numpy(np.asarray(raw["x_test"], dtype=np.float32)),
            "test_y": torch.from_numpy(np.asarray(raw["y_test"], dtype=np.int64)),
        }
    return Prepared("vector", tuple(tensors["train_x"].shape[1:]), 10, tensors)


def _build_digits(paths: list[Path], params: dict[str, Any]) -> Prepared:
    """scikit-learn's bundled 8x8 digits: 64 features in [0, 1], fixed 20% test split."""
    import sklearn
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.RandomState(0).permutation(len(x))
    n_test = math.ceil(0.2 * len(x))  # = sklearn train_test_split(test_size=0.2, random_state=0)
    test, train = order[:n_test], order[n_test:]
    tensors = {
        "train_x": torch.from_numpy(x[train]),
        "train_y": torch.from_numpy(y[train]),
        "test_x": torch.from_numpy(x[test]),
        "test_y": torch.from_numpy(y[test]),
    }
    source = {"function": "sklearn.datasets.load_digits", "scikit-learn": sklearn.__version__}
    return Prepared("vector", (64,), 10, tensors, {"sources": [source]})


def _build_tolstoi(paths: list[Path], params: dict[str, Any]) -> Prepared:
    """DeepOBS War and Peace, character ids by descending frequency; first 80% train (DeepOBS)."""
    (path,) = paths
    # As DeepOBS's _tolstoi_preprocess.py: codecs.open keeps CRLF as two characters.
    with _parsing(path), codecs.open(str(path), "r", encoding="utf-8") as f:
        text = f.read()
    counts = collections.Counter(text)
    chars = [c for c, _ in sorted(counts.items(), key=lambda pair: -pair[1])]
    lookup = np.zeros(max(map(ord, chars)) + 1, dtype=np.int64)
    lookup[[ord(c) for c in chars]] = np.arange(len(chars))
    ids = torch.from_numpy(lookup[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)])
    n_train = int(np.ceil((1.0 - 0.2) * ids.numel()))
    train, test = ids[:n_train].clone(), ids[n_train:].clone()
    # Inputs and next-character targets are views of one stream (saved once by torch.save).
    tensors = {"train_x": train[:-1], "train_y": train[1:], "test_x": test[:-1], "test_y": test[1:]}
    info = {"vocab": chars, "characters": {"train": len(train), "test": len(test)}}
    return Prepared("tokens", (), len(chars), tensors, info)


def random_rotation(rng: np.random.RandomState, dim: int) -> np.ndarray:
    """DeepOBS's uniform rotation in SO(dim) (Diaconis-Shahshahani), drawn from ``rng`` in order."""
    t = 2 * np.pi * rng.uniform()
    rot = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
    for d in range(2, dim):
        v = rng.normal(size=(d + 1, 1))
        v = np.divide(v, np.sqrt(np.transpose(v).dot(v)))
        e = np.concatenate((np.array([[1.0]]), np.zeros((d, 1))), axis=0)
        x = np.divide(e - v, np.sqrt(np.transpose(e - v).dot(e - v)))
        block = np.vstack(
            [np.hstack([[[1.0]], np.zeros((1, d))]), np.hstack([np.zeros((d, 1)), rot])]
        )
        rot = block - 2 * np.outer(x, np.transpose(x).dot(block))
    return np.negative(rot)


def _build_quadratic(paths: list[Path], params: dict[str, Any]) -> Prepared:
    """DeepOBS quadratic_deep: Hessian with 90% eigenvalues in (0, 1), 10% in (30, 60)."""
    dim, noise = params["dim"], params["noise_std"]
    rng = np.random.RandomState(42)  # one stream for eigenvalues then rotation, as DeepOBS
    n_large = dim // 10
    small, large = rng.uniform(0.0, 1.0, dim - n_large), rng.uniform(30.0, 60.0, n_large)
    eigenvalues = np.concatenate((small, large))
    rot = random_rotation(rng, dim)
    hessian = np.matmul(np.transpose(rot), np.matmul(np.diag(eigenvalues), rot))
    train_x = np.random.RandomState(42).normal(0.0, noise, (params["train_size"], dim))
    test_x = np.random.RandomState(43).normal(0.0, noise, (params["test_size"], dim))
    tensors = {
        "train_x": torch.from_numpy(train_x.astype(np.float32)),
        "train_y": torch.zeros(params["train_size"], dtype=torch.int64),
        "test_x": torch.from_numpy(test_x.astype(np.float32)),
        "test_y": torch.zeros(params["test_size"], dtype=torch.int64),
        "hessian": torch.from_numpy(hessian.astype(np.float32)),
        "eigenvalues": torch.from_numpy(eigenvalues.astype(np.float32)),
    }
    return Prepared("quadratic", (dim,), 0, tensors)


def _build_synthetic(paths: list[Path], params: dict[str, Any]) -> Prepared:
    """Random float inputs of any shape with random labels (tests, benchmarks)."""
    shape = tuple(params["shape"])
    gen = torch.Generator().manual_seed(params["data_seed"])
    tensors = {}
    for split in ("train", "test"):
        n = params[f"{split}_size"]
        tensors[f"{split}_x"] = torch.randn(n, *shape, generator=gen)
        tensors[f"{split}_y"] = torch.randint(params["num_classes"], (n,), generator=gen)
    kind = "image" if len(shape) == 3 else "vector"
    return Prepared(kind, shape, params["num_classes"], tensors)


_CIFAR10 = functools.partial(
    _build_cifar,
    folder="cifar-10-batches-py",
    train=tuple(f"data_batch_{i}" for i in range(1, 6)),
    test=("test_batch",),
    label_key="labels",
    num_classes=10,
)
_CIFAR100 = functools.partial(
    _build_cifar,
    folder="cifar-100-python",
    train=("train",),
    test=("test",),
    label_key="fine_labels",
    num_classes=100,
)
_CIFAR10.__doc__ = "CIFAR-10 python tarball: 32x32 RGB uint8, 10 classes."
_CIFAR100.__doc__ = "CIFAR-100 python tarball (fine labels): 32x32 RGB uint8, 100 classes."

# Dataset name -> builder; the builder's docstring is its one-line description.
DATASETS: dict[str, Builder] = {
    "mnist": _build_idx,
    "fmnist": _build_idx,
    "cifar10": _CIFAR10,
    "cifar100": _CIFAR100,
    "svhn": _build_svhn,
    "mnist1d": _build_mnist1d,
    "digits": _build_digits,
    "tolstoi": _build_tolstoi,
    "quadratic_deep": _build_quadratic,
    "synthetic": _build_synthetic,
}

# Generated datasets: their parameters are the schema fields beyond DataConfig.
_PARAM_SCHEMAS: dict[str, type[DataConfig]] = {
    "quadratic_deep": QuadraticDataConfig,
    "synthetic": SyntheticDataConfig,
}


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r} (data.name); known: {', '.join(DATASETS)}")


def dataset_params(name: str, cfg: Any = None) -> dict[str, Any]:
    """The parameters a generated dataset is built from (cfg values, else schema defaults)."""
    _check_name(name)
    schema = _PARAM_SCHEMAS.get(name)
    if schema is None:
        return {}
    base = {f.name for f in dataclasses.fields(DataConfig)}
    defaults = schema(name=name)
    params = {}
    for f in dataclasses.fields(schema):
        if f.name not in base:
            value = getattr(defaults, f.name)
            value = value if cfg is None else cfg.get(f.name, value)
            params[f.name] = list(value) if f.name == "shape" else value
    _validate_params(params)
    return params


def _validate_params(params: dict[str, Any]) -> None:
    """Sizes must be positive integers; a bad one would otherwise fail deep inside torch."""
    for key in ("shape", "num_classes", "train_size", "test_size", "dim"):
        if key in params:
            values = params[key] if key == "shape" else [params[key]]
            if not values or not all(isinstance(v, int) and v >= 1 for v in values):
                raise DataError(f"data.{key}={params[key]} must be positive integer(s)")


def dataset_id(name: str, cfg: Any = None) -> str:
    """Directory name of a prepared dataset; generated sets with non-standard parameters are
    suffixed with a hash of them, so that e.g. two synthetic shapes never share a directory."""
    params = dataset_params(name, cfg)
    if not params or (name != "synthetic" and params == dataset_params(name)):
        return name
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    return f"{name}-{digest}"


def prepared_dir(name: str, root: Path, cfg: Any = None) -> Path:
    """``<root>/prepared/<dataset_id>``."""
    return Path(root) / "prepared" / dataset_id(name, cfg)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The manifest of a complete prepared dataset of this format, else None."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("format_version") != FORMAT_VERSION or not (directory / "data.pt").is_file():
        return None
    return manifest


def _check(name: str, prepared: Prepared) -> None:
    """Catch malformed raw data before it is installed."""
    t = prepared.tensors
    for split in ("train", "test"):
        x, y = t[f"{split}_x"], t[f"{split}_y"]
        if len(x) != len(y) or len(x) == 0:
            raise DataError(f"{name}: {split} split has {len(x)} inputs and {len(y)} labels")
        if prepared.num_classes and (y.min() < 0 or y.max() >= prepared.num_classes):
            raise DataError(f"{name}: {split} labels outside [0, {prepared.num_classes})")


def prepare(name: str, root: Path, cfg: Any = None, force: bool = False) -> Path:
    """Prepare dataset ``name`` under ``root`` once; returns its directory.

    ``cfg`` (the data config) matters only for generated sets (synthetic, quadratic_deep). An
    existing valid manifest means done, unless ``force``.
    """
    root = Path(root)
    params = dataset_params(name, cfg)
    final = prepared_dir(name, root, cfg)
    if not force and read_manifest(final) is not None:
        return final
    paths = sources.fetch(name, root) if name in sources.RAW_FILES else []
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the dataset is not
        prepared = DATASETS[name](paths, params)
        _check(name, prepared)
        torch.save(prepared.tensors, staging / "data.pt")
        manifest = _manifest(name, final.name, prepared, params, staging / "data.pt")
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        _install(staging, final, replace=force)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _manifest(
    name: str, ident: str, prepared: Prepared, params: dict[str, Any], data_file: Path
) -> dict[str, Any]:
    t = prepared.tensors
    return {
        "format_version": FORMAT_VERSION,
        "name": name,
        "id": ident,
        "kind": prepared.kind,
        "shape": list(prepared.shape),
        "num_classes": prepared.num_classes,
        "counts": {"train": len(t["train_x"]), "test": len(t["test_x"])},
        "dtypes": {k: str(v.dtype).removeprefix("torch.") for k, v in t.items()},
        "sha256": sha256_file(data_file),
        "sources": [_source_entry(r) for r in sources.RAW_FILES.get(name, [])],
        "params": params,
        "lrstudy_version": __version__,
    } | prepared.info


def _source_entry(raw: sources.RawFile) -> dict[str, Any]:
    entry: dict[str, Any] = {"file": f"{raw.subdir}/{raw.filename}", "url": raw.url, "md5": raw.md5}
    if raw.derived_from is not None:
        entry["derived_from"] = _source_entry(raw.derived_from)
    return entry


def _install(staging: Path, final: Path, replace: bool) -> None:
    """Rename the staging dir into place. An invalid old one (or any, with ``replace``) goes
    first; a valid one installed meanwhile by a concurrent preparer is kept (same content)."""
    if final.exists() and (replace or read_manifest(final) is None):
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex}")
        with contextlib.suppress(FileNotFoundError):
            os.rename(final, old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.rename(staging, final)
    except OSError:
        if read_manifest(final) is None:
            raise
