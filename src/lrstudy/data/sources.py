"""Raw dataset files: found in a local folder or downloaded, and always md5-checked.

``LRSTUDY_DATA_SOURCE`` (a folder of the official files, e.g. ``../shared/datasets``) is looked at
first, so tests and CI never need the network; otherwise the official URL is downloaded into
``<root>/raw/<name>/``. URLs and md5s are those torchvision 0.29 uses (mnist.py, cifar.py,
svhn.py), the greydanus/mnist1d pickle, and the War and Peace text DeepOBS downloads.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lrstudy.errors import DataError

SOURCE_ENV = "LRSTUDY_DATA_SOURCE"


@dataclass(frozen=True)
class RawFile:
    """One official raw file, or (``derived_from``) one built locally from another raw file."""

    subdir: str  # its folder inside LRSTUDY_DATA_SOURCE
    filename: str
    url: str | None
    md5: str
    derived_from: RawFile | None = None
    derive: Callable[[bytes], bytes] | None = None


def deepobs_tolstoi_text(war_and_peace: bytes) -> bytes:
    """DeepOBS's ``sed -i '1,29d'``, then ``'5,775d'``, then ``'63850,64207d'`` (LF lines)."""
    lines = io.BytesIO(war_and_peace).readlines()
    for first, last in ((1, 29), (5, 775), (63850, 64207)):
        del lines[first - 1 : last]
    return b"".join(lines)


_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FMNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_MNIST_MD5 = (
    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "d53e105ee54ea40749a09fcbcd1e9432",
    "9fb629c4189551a2d022fa330f9573f3",
    "ec29112dd5afa0611ce80d1b7f02629c",
)
_FMNIST_MD5 = (
    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "25c81989df183df01b3e8a0aad5dffbe",
    "bef4ecab320f06d8554ea6380940ec79",
    "bb300cfdad3c16e7a12a480ee83cd310",
)
_SVHN_URL = "http://ufldl.stanford.edu/housenumbers/"
_WAR_AND_PEACE = RawFile(
    "text",
    "war-and-peace.txt",
    "https://github.com/AllenDowney/fluent-python-notebooks/raw/master/attic/sequences/"
    "war-and-peace.txt",
    "80737bfbfc7e820768045ac8cf654c0c",
)

# Dataset name -> its raw files, in the order the preparer reads them. Tests replace md5s here.
RAW_FILES: dict[str, list[RawFile]] = {
    "mnist": [
        RawFile("mnist", f, _MNIST_URL + f, md5)
        for f, md5 in zip(_IDX_FILES, _MNIST_MD5, strict=True)
    ],
    "fmnist": [
        RawFile("fmnist", f, _FMNIST_URL + f, md5)
        for f, md5 in zip(_IDX_FILES, _FMNIST_MD5, strict=True)
    ],
    "cifar10": [
        RawFile(
            "cifar10",
            "cifar-10-python.tar.gz",
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "c58f30108f718f92721af3b95e74349a",
        )
    ],
    "cifar100": [
        RawFile(
            "cifar100",
            "cifar-100-python.tar.gz",
            "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
            "eb9058c3a382ffc7106e4002c42a8d85",
        )
    ],
    "svhn": [
        RawFile(
            "svhn",
            "train_32x32.mat",
            _SVHN_URL + "train_32x32.mat",
            "e26dedcc434d2e4c54c9b2d4a06d8373",
        ),
        RawFile(
            "svhn",
            "test_32x32.mat",
            _SVHN_URL + "test_32x32.mat",
            "eb5a983be6a315427106f1b164d9cef3",
        ),
    ],
    "mnist1d": [
        RawFile(
            "mnist1d",
            "mnist1d_data.pkl",
            "https://github.com/greydanus/mnist1d/raw/master/mnist1d_data.pkl",
            "5bf44b67062b653caea0043bc236811a",
        )
    ],
    "tolstoi": [
        RawFile(
            "text",
            "tolstoi_deepobs_input.txt",
            None,
            "bd1e094502d466b56a711e00b3f71b14",
            derived_from=_WAR_AND_PEACE,
            derive=deepobs_tolstoi_text,
        )
    ],
}


def md5_file(path: Path) -> str:
    """Hex md5 of a file, read in chunks (CIFAR tarballs are 170 MB)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def one_line(err: BaseException) -> str:
    """A foreign exception as one line, for DataError messages."""
    return " ".join(f"{type(err).__name__}: {err}".split())


def fetch(name: str, root: Path) -> list[Path]:
    """Local, md5-verified paths of ``name``'s raw files (``RAW_FILES`` order)."""
    return [_fetch_file(name, raw, Path(root)) for raw in RAW_FILES[name]]


def _source_dir() -> Path | None:
    value = os.environ.get(SOURCE_ENV)
    if not value:
        return None
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise DataError(f"{SOURCE_ENV}={value} is not a folder")
    return folder


def _verify(path: Path, expected: str) -> Path:
    actual = md5_file(path)
    if actual != expected:
        raise DataError(
            f"checksum mismatch for {path}: md5 {actual}, expected {expected} "
            "(corrupt or not the official file)"
        )
    return path


def _fetch_file(name: str, raw: RawFile, root: Path) -> Path:
    source = _source_dir()
    target = root / "raw" / name / raw.filename
    candidates = [source / raw.subdir / raw.filename, source / raw.filename] if source else []
    for path in [*candidates, target]:
        if path.is_file():
            return _verify(path, raw.md5)
    if raw.derived_from is not None and raw.derive is not None:
        parent = _fetch_file(name, raw.derived_from, root)
        data = raw.derive(parent.read_bytes())
        actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if actual != raw.md5:
            raise DataError(
                f"checksum mismatch for {raw.filename} derived from {parent}: md5 {actual}, "
                f"expected {raw.md5}"
            )
        _write_atomic(target, data)
        return target
    return _download(name, raw, target, source)


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.part-{os.getpid()}")
    partial.write_bytes(data)
    os.replace(partial, target)


def download_url(url: str, root: str, filename: str) -> None:
    """torchvision's downloader, imported on first use: torchvision takes seconds to import."""
    from torchvision.datasets.utils import download_url as fetch

    fetch(url, root, filename)


def _download(name: str, raw: RawFile, target: Path, source: Path | None) -> Path:
    """Download into ``<file>.part`` and move it into place only once its md5 is right."""
    partial = target.with_name(f"{target.name}.part-{os.getpid()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        download_url(raw.url, str(target.parent), partial.name)
    except (OSError, RuntimeError, ValueError) as err:
        partial.unlink(missing_ok=True)
        where = f"not in {SOURCE_ENV}={source}" if source else f"{SOURCE_ENV} is not set"
        raise DataError(
            f"cannot get {raw.filename} for dataset {name}: {where}, and downloading {raw.url} "
            f"failed ({one_line(err)}); set {SOURCE_ENV} to a folder holding the official files "
            "or allow the download (network access)"
        ) from err
    actual = md5_file(partial)
    if actual != raw.md5:
        partial.unlink()
        raise DataError(
            f"checksum mismatch for {target} downloaded from {raw.url}: md5 {actual}, "
            f"expected {raw.md5}"
        )
    os.replace(partial, target)
    return target
