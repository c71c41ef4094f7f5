"""Data layer: raw sources and checksums, atomic preparation, loading, device batches."""

from __future__ import annotations

import gzip
import json
import math
import os
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from data_fixtures import patch_md5, write_cifar_tarball, write_idx_set, write_svhn_mat
from lrstudy.config import DataConfig, SyntheticDataConfig, register_configs
from lrstudy.data import (
    DATASETS,
    DataSpec,
    DeviceData,
    TrainBatches,
    eval_batches,
    load_data,
    make_train_batches,
    prepare,
    sources,
)
from lrstudy.data.__main__ import main as cli
from lrstudy.data.prepare import dataset_id, random_rotation, read_manifest, sha256_file
from lrstudy.errors import DataError

REPO = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


def _shared_datasets() -> Path:
    value = os.environ.get(sources.SOURCE_ENV)
    return Path(value) if value else REPO.parent / "shared" / "datasets"


def _require(*files: str) -> Path:
    folder = _shared_datasets()
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        pytest.skip(f"offline dataset folder {folder} lacks {', '.join(missing)}")
    return folder


def data_cfg(name: str) -> DictConfig:
    """The real conf/data/<name>.yaml, composed with its schema."""
    register_configs()
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        cfg = compose(config_name=f"data/{name}").data
    OmegaConf.set_struct(cfg, False)
    return cfg


def synthetic_cfg(**overrides: object) -> DictConfig:
    return OmegaConf.structured(SyntheticDataConfig(name="synthetic", **overrides))


def leftovers(root: Path) -> list[str]:
    prepared = root / "prepared"
    return sorted(p.name for p in prepared.iterdir()) if prepared.exists() else []


# --- module-wide prepared real data (from the offline folder) -------------------------------


@pytest.fixture(scope="module")
def real_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _require(
        "mnist/train-images-idx3-ubyte.gz",
        "text/tolstoi_deepobs_input.txt",
        "mnist1d/mnist1d_data.pkl",
    )
    root = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(sources.SOURCE_ENV, str(folder))
        for name in ("mnist", "tolstoi", "mnist1d"):
            prepare(name, root)
    return root


@pytest.fixture(scope="module")
def tolstoi(real_root: Path) -> DeviceData:
    return load_data(data_cfg("tolstoi"), real_root, CPU)


# --- raw sources ----------------------------------------------------------------------------


def test_registry_matches_torchvision() -> None:
    from torchvision.datasets import CIFAR10, CIFAR100, MNIST, SVHN, FashionMNIST

    def ours(name: str) -> list[tuple[str, str]]:
        return [(raw.filename, raw.md5) for raw in sources.RAW_FILES[name]]

    assert ours("mnist") == [tuple(r) for r in MNIST.resources]
    assert ours("fmnist") == [tuple(r) for r in FashionMNIST.resources]
    assert ours("cifar10") == [(CIFAR10.filename, CIFAR10.tgz_md5)]
    assert ours("cifar100") == [(CIFAR100.filename, CIFAR100.tgz_md5)]
    assert ours("svhn") == [tuple(SVHN.split_list[s][1:]) for s in ("train", "test")]
    assert set(sources.RAW_FILES) <= set(DATASETS)


def test_tolstoi_text_derived_from_war_and_peace(tmp_path: Path, monkeypatch) -> None:
    shared = _require("text/war-and-peace.txt")
    (tmp_path / "src" / "text").mkdir(parents=True)
    (tmp_path / "src" / "text" / "war-and-peace.txt").symlink_to(shared / "text/war-and-peace.txt")
    monkeypatch.setenv(sources.SOURCE_ENV, str(tmp_path / "src"))
    (path,) = sources.fetch("tolstoi", tmp_path / "data")
    assert path == tmp_path / "data/raw/tolstoi/tolstoi_deepobs_input.txt"
    assert sources.md5_file(path) == "bd1e094502d466b56a711e00b3f71b14"


def test_no_source_and_no_network_names_both_options(tmp_path: Path, monkeypatch) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise URLError("no network")

    monkeypatch.delenv(sources.SOURCE_ENV, raising=False)
    monkeypatch.setattr(sources, "download_url", offline)
    with pytest.raises(DataError, match=sources.SOURCE_ENV) as err:
        prepare("mnist", tmp_path)
    assert "download" in str(err.value) and "\n" not in str(err.value)
    assert leftovers(tmp_path) == []
    assert not list(tmp_path.rglob("*.part*"))


def test_download_is_checked_and_moved_into_place(tmp_path: Path, monkeypatch) -> None:
    staged = tmp_path / "internet"
    write_svhn_mat(staged / "train_32x32.mat", 5)
    write_svhn_mat(staged / "test_32x32.mat", 3, seed=1)
    patch_md5(monkeypatch, "svhn", staged)

    def fake_download(url: str, root: str, filename: str) -> None:
        (Path(root) / filename).write_bytes((staged / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.delenv(sources.SOURCE_ENV, raising=False)
    monkeypatch.setattr(sources, "download_url", fake_download)
    paths = sources.fetch("svhn", tmp_path / "data")
    assert [p.name for p in paths] == ["train_32x32.mat", "test_32x32.mat"]
    assert sorted(p.name for p in (tmp_path / "data/raw/svhn").iterdir()) == sorted(
        p.name for p in paths
    )


def test_source_that_is_not_a_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(sources.SOURCE_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="is not a folder"):
        prepare("mnist1d", tmp_path)


def test_corrupt_raw_file_names_it_and_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    write_idx_set(tmp_path / "src" / "fmnist", 4, 2)  # not the official bytes
    monkeypatch.setenv(sources.SOURCE_ENV, str(tmp_path / "src"))
    bad = tmp_path / "src/fmnist/train-images-idx3-ubyte.gz"
    with pytest.raises(DataError, match="checksum mismatch") as err:
        prepare("fmnist", tmp_path / "data")
    assert str(bad) in str(err.value) and "8d4fb7e6c68d591d4c3dfef9ec88bf0d" in str(err.value)
    assert leftovers(tmp_path / "data") == []


def test_malformed_raw_file_leaves_no_partial_output(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "src"
    write_idx_set(src / "fmnist", 4, 2)
    with gzip.open(src / "fmnist/t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x03truncated")
    patch_md5(monkeypatch, "fmnist", src)
    monkeypatch.setenv(sources.SOURCE_ENV, str(src))
    with pytest.raises(DataError, match=r"cannot parse .*t10k-images"):
        prepare("fmnist", tmp_path / "data")
    assert leftovers(tmp_path / "data") == []


# --- preparation of each dataset ------------------------------------------------------------


def test_mnist_prepared_from_offline_folder(real_root: Path) -> None:
    directory = real_root / "prepared" / "mnist"
    manifest = read_manifest(directory)
    assert manifest["counts"] == {"train": 60000, "test": 10000}
    assert manifest["shape"] == [1, 28, 28] and manifest["kind"] == "image"
    assert manifest["dtypes"]["train_x"] == "uint8" and manifest["dtypes"]["train_y"] == "int64"
    assert manifest["sha256"] == sha256_file(directory / "data.pt")
    assert manifest["sources"][0]["md5"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    tensors = torch.load(directory / "data.pt", weights_only=True)
    assert tensors["train_x"].shape == (60000, 1, 28, 28)
    assert tensors["train_y"][:5].tolist() == [5, 0, 4, 1, 9]  # MNIST's well-known first labels
    mtime = (directory / "data.pt").stat().st_mtime_ns
    assert prepare("mnist", real_root) == directory  # idempotent: nothing rewritten
    assert (directory / "data.pt").stat().st_mtime_ns == mtime
    assert sorted(p.name for p in directory.iterdir()) == ["data.pt", "manifest.json"]


def test_mnist_load_split_and_statistics(real_root: Path) -> None:
    data = load_data(data_cfg("mnist"), real_root, CPU)
    assert data.spec == DataSpec("mnist", "image", (1, 28, 28), 10, normalized=True)
    assert len(data.train[0]) == 50000 and len(data.val[0]) == 10000
    assert len(data.test[0]) == 10000 and data.train[0].dtype == torch.uint8
    assert data.mean.item() == pytest.approx(0.1307, abs=2e-3)
    assert data.std.item() == pytest.approx(0.3081, abs=2e-3)


def test_mnist1d_pickle(real_root: Path) -> None:
    data = load_data(data_cfg("mnist1d"), real_root, CPU)
    assert data.spec == DataSpec("mnist1d", "vector", (40,), 10, normalized=True)
    assert len(data.train[0]) + len(data.val[0]) == 4000 and len(data.test[0]) == 1000
    assert data.train[0].dtype == torch.float32 and data.mean.shape == (40,)


def test_tolstoi_matches_deepobs(real_root: Path, tolstoi: DeviceData) -> None:
    manifest = read_manifest(real_root / "prepared" / "tolstoi")
    vocab = manifest["vocab"]
    assert len(vocab) == 83 == tolstoi.spec.num_classes and vocab[0] == " "
    total = 3266185  # characters of the DeepOBS input text
    assert manifest["characters"] == {"train": math.ceil(0.8 * total), "test": 653237}
    assert tolstoi.spec == DataSpec("tolstoi", "tokens", (50,), 83)
    start = "".join(vocab[i] for i in tolstoi.train[0][:16].tolist())
    assert start == "WAR AND PEACE\r\n\r"  # CRLF kept as characters, as codecs.open does
    train_chars = len(tolstoi.train[0]) + 1 + len(tolstoi.val[0]) + 1
    assert train_chars == manifest["characters"]["train"] and len(tolstoi.val[0]) + 1 == 130000


def test_fmnist_from_official_format(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "src"
    arrays = write_idx_set(src / "fmnist", 6, 3)
    (src / "fmnist/t10k-labels-idx1-ubyte.gz").rename(src / "t10k-labels-idx1-ubyte.gz")  # flat
    patch_md5(monkeypatch, "fmnist", src)
    monkeypatch.setenv(sources.SOURCE_ENV, str(src))
    tensors = torch.load(prepare("fmnist", tmp_path / "d") / "data.pt", weights_only=True)
    assert tensors["train_x"].shape == (6, 1, 28, 28) and tensors["train_x"].dtype == torch.uint8
    assert np.array_equal(tensors["train_x"][:, 0].numpy(), arrays["train_images"])
    assert np.array_equal(tensors["test_y"].numpy(), arrays["t10k_labels"])
    assert tensors["test_y"].dtype == torch.int64


@pytest.mark.parametrize(
    ("name", "members", "label_key", "classes"),
    [
        ("cifar10", {**{f"data_batch_{i}": 3 for i in range(1, 6)}, "test_batch": 4}, "labels", 10),
        ("cifar100", {"train": 6, "test": 4}, "fine_labels", 100),
    ],
)
def test_cifar_from_official_tarball(tmp_path, monkeypatch, name, members, label_key, classes):
    src = tmp_path / "src"
    tarball = src / name / sources.RAW_FILES[name][0].filename
    arrays = write_cifar_tarball(tarball, members, label_key, classes)
    patch_md5(monkeypatch, name, src)
    monkeypatch.setenv(sources.SOURCE_ENV, str(src))
    directory = prepare(name, tmp_path / "d")
    tensors = torch.load(directory / "data.pt", weights_only=True)
    *train_members, test_member = members
    assert tensors["train_x"].shape == (sum(members[m] for m in train_members), 3, 32, 32)
    first, labels = arrays[train_members[0]]
    assert tensors["train_x"][0, 1, 2, 5] == first[0, 1024 + 2 * 32 + 5]  # channel-major rows
    assert tensors["train_y"][: len(labels)].tolist() == labels.tolist()
    assert tensors["test_y"].tolist() == arrays[test_member][1].tolist()
    assert read_manifest(directory)["num_classes"] == classes


def test_svhn_from_official_mat(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "src"
    x, y = write_svhn_mat(src / "svhn/train_32x32.mat", 5)
    write_svhn_mat(src / "svhn/test_32x32.mat", 3, seed=1)
    patch_md5(monkeypatch, "svhn", src)
    monkeypatch.setenv(sources.SOURCE_ENV, str(src))
    tensors = torch.load(prepare("svhn", tmp_path / "d") / "data.pt", weights_only=True)
    assert tensors["train_x"].shape == (5, 3, 32, 32) and tensors["train_x"].dtype == torch.uint8
    assert tensors["train_x"][4, 2, 7, 3] == x[7, 3, 2, 4]
    assert tensors["train_y"].tolist() == [0 if v == 10 else int(v) for v in y[:, 0]]
    assert tensors["train_y"][0] == 0


def test_quadratic_deep_is_deepobs(tmp_path: Path) -> None:
    data = load_data(data_cfg("quadratic_deep"), tmp_path, CPU, torch.float64)
    assert data.spec == DataSpec("quadratic_deep", "quadratic", (100,), 0)
    assert data.mean is None and data.extras["hessian"].dtype == torch.float64
    hessian = data.extras["hessian"]
    assert torch.allclose(hessian, hessian.T, atol=1e-5)
    rng = np.random.RandomState(42)
    eigenvalues = np.concatenate((rng.uniform(0.0, 1.0, 90), rng.uniform(30.0, 60.0, 10)))
    rot = random_rotation(rng, 100)
    assert np.allclose(rot @ rot.T, np.eye(100)) and np.linalg.det(rot) == pytest.approx(1.0)
    found = np.linalg.eigvalsh(hessian.numpy())
    assert np.allclose(found, np.sort(eigenvalues), atol=1e-4)
    tensors = torch.load(tmp_path / "prepared/quadratic_deep/data.pt", weights_only=True)
    expected = np.random.RandomState(42).normal(0.0, 0.6, (1000, 100)).astype(np.float32)
    assert np.array_equal(tensors["train_x"].numpy(), expected)
    expected = np.random.RandomState(43).normal(0.0, 0.6, (1000, 100)).astype(np.float32)
    assert np.array_equal(tensors["test_x"].numpy(), expected)
    assert not tensors["train_y"].any()


def test_digits_split_is_fixed_and_scaled(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    prepare("digits", tmp_path)
    tensors = torch.load(tmp_path / "prepared/digits/data.pt", weights_only=True)
    digits = load_digits()
    _, x_test, _, y_test = train_test_split(
        digits.data, digits.target, test_size=0.2, random_state=0
    )
    assert np.allclose(tensors["test_x"].numpy(), x_test / 16) and len(tensors["train_x"]) == 1437
    assert tensors["test_y"].tolist() == y_test.tolist()
    data = load_data(data_cfg("digits"), tmp_path, CPU)
    assert data.spec == DataSpec("digits", "vector", (64,), 10, normalized=True)
    assert (data.std > 0).all()  # constant pixels keep std 1, never divide by zero


def test_generated_sets_are_named_by_their_parameters(tmp_path: Path) -> None:
    small, large = synthetic_cfg(shape=[3, 8, 8]), synthetic_cfg(shape=[3, 16, 16])
    assert dataset_id("synthetic", small) != dataset_id("synthetic", large)
    assert dataset_id("synthetic", small).startswith("synthetic-")
    assert dataset_id("quadratic_deep") == "quadratic_deep"
    wide = OmegaConf.merge(data_cfg("quadratic_deep"), {"dim": 20})
    assert dataset_id("quadratic_deep", wide) != "quadratic_deep"
    assert load_data(small, tmp_path, CPU).spec.shape == (3, 8, 8)
    assert load_data(synthetic_cfg(shape=[12]), tmp_path, CPU).spec.kind == "vector"
    assert len(leftovers(tmp_path)) == 2


# --- loading --------------------------------------------------------------------------------


def test_corrupt_prepared_file_fails_at_load(tmp_path: Path) -> None:
    directory = prepare("synthetic", tmp_path, synthetic_cfg())
    with open(directory / "data.pt", "ab") as f:
        f.write(b"\0")
    with pytest.raises(DataError, match=f"checksum mismatch for {directory / 'data.pt'}"):
        load_data(synthetic_cfg(), tmp_path, CPU)


def test_val_split_is_fixed_and_disjoint(tmp_path: Path) -> None:
    cfg = synthetic_cfg(shape=[6], train_size=300, val_size=50, batch_size=32)
    first, again = load_data(cfg, tmp_path, CPU), load_data(cfg, tmp_path, CPU)
    assert torch.equal(first.val[0], again.val[0]) and torch.equal(first.train[0], again.train[0])
    original = torch.load(next((tmp_path / "prepared").iterdir()) / "data.pt")["train_x"]
    rows = {tuple(r) for r in original.tolist()}
    train, val = (
        {tuple(r) for r in first.train[0].tolist()},
        {tuple(r) for r in first.val[0].tolist()},
    )
    assert len(val) == 50 and len(train) == 250 and not train & val and train | val == rows
    other = load_data(OmegaConf.merge(cfg, {"split_seed": 1}), tmp_path, CPU)
    assert not torch.equal(other.val[0], first.val[0])
    subset = load_data(OmegaConf.merge(cfg, {"train_subset": 64}), tmp_path, CPU)
    assert torch.equal(subset.train[0], first.train[0][:64])
    assert load_data(OmegaConf.merge(cfg, {"val_size": 0}), tmp_path, CPU).val is None


def test_val_size_must_leave_a_batch(tmp_path: Path) -> None:
    cfg = synthetic_cfg(shape=[6], train_size=100, val_size=90, batch_size=32)
    with pytest.raises(DataError, match=r"data\.val_size=90"):
        load_data(cfg, tmp_path, CPU)


# --- batches --------------------------------------------------------------------------------


def image_data(n: int = 70, normalise: bool = True) -> DeviceData:
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=gen)
    y = torch.randint(0, 10, (n,), generator=gen)
    mean = torch.tensor([0.5, 0.4, 0.3]) if normalise else None
    std = torch.tensor([0.2, 0.25, 0.3]) if normalise else None
    test = (x[:25], y[:25])
    return DeviceData(DataSpec("img", "image", (3, 8, 8), 10), (x, y), None, test, mean, std)


def batch_cfg(**overrides: object) -> DictConfig:
    return OmegaConf.structured(
        DataConfig(name="img", batch_size=16, eval_batch_size=20, **overrides)
    )


def test_resume_yields_the_same_batches() -> None:
    data, cfg = image_data(), batch_cfg(random_crop=2, hflip=True)
    full = list(make_train_batches(data, cfg, seed=7).epoch(3))
    resumed = list(make_train_batches(data, cfg, seed=7).epoch(3, start=2))  # fresh object
    assert len(full) == 4 and len(resumed) == 2
    for (x, y), (rx, ry) in zip(full[2:], resumed, strict=True):
        assert torch.equal(x, rx) and torch.equal(y, ry)
    other_epoch = next(make_train_batches(data, cfg, seed=7).epoch(4))
    other_seed = next(make_train_batches(data, cfg, seed=8).epoch(3))
    assert not torch.equal(other_epoch[0], full[0][0]) and not torch.equal(
        other_seed[0], full[0][0]
    )


def test_epoch_is_a_permutation_without_the_last_partial_batch() -> None:
    data = image_data()
    batches = make_train_batches(data, batch_cfg(), seed=0)
    assert isinstance(batches, TrainBatches) and batches.steps_per_epoch == 70 // 16
    labels = torch.cat([y for _, y in batches.epoch(0)])
    x = torch.cat([x for x, _ in batches.epoch(0)])
    assert len(labels) == 64 and x.dtype == torch.float32
    ordered = make_train_batches(data, batch_cfg(shuffle=False), seed=0)
    assert torch.equal(torch.cat([y for _, y in ordered.epoch(0)]), data.train[1][:64])


def test_crop_is_a_window_of_the_zero_padded_image() -> None:
    data = image_data(normalise=False)
    plain = list(make_train_batches(data, batch_cfg(), seed=1).epoch(0))
    cropped = list(make_train_batches(data, batch_cfg(random_crop=2), seed=1).epoch(0))
    assert any(not torch.equal(a[0], b[0]) for a, b in zip(plain, cropped, strict=True))
    for (x, y), (cx, cy) in zip(plain, cropped, strict=True):  # same order: permutation first
        assert torch.equal(y, cy) and cx.shape == x.shape
        padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
        windows = padded.unfold(2, 8, 1).unfold(3, 8, 1)  # (B, C, 5, 5, 8, 8)
        match = (windows == cx[:, :, None, None]).flatten(4).all(-1).all(1)
        assert match.flatten(1).any(1).all()


def test_flip_is_torch_flip_of_the_original() -> None:
    data = image_data()
    plain = list(make_train_batches(data, batch_cfg(), seed=2).epoch(5))
    flipped = list(make_train_batches(data, batch_cfg(hflip=True), seed=2).epoch(5))
    x, fx = torch.cat([b[0] for b in plain]), torch.cat([b[0] for b in flipped])
    same = (fx == x).flatten(1).all(1)
    mirrored = (fx == torch.flip(x, [3])).flatten(1).all(1)
    assert (same | mirrored).all() and (mirrored & ~same).any() and (same & ~mirrored).any()


def test_image_batches_are_scaled_and_normalised() -> None:
    data = image_data()
    (x, y), *_ = make_train_batches(data, batch_cfg(shuffle=False), seed=0).epoch(0)
    expected = (data.train[0][:16].float() / 255 - data.mean.view(3, 1, 1)) / data.std.view(3, 1, 1)
    assert torch.allclose(x, expected) and y.dtype == torch.int64


def test_eval_batches_keep_the_last_partial_batch() -> None:
    data = image_data()
    sizes = [len(y) for _, y in eval_batches(data, "test", batch_cfg())]
    assert sizes == [20, 5]
    train_sizes = [len(y) for _, y in eval_batches(data, "train", batch_cfg(random_crop=2))]
    assert sum(train_sizes) == 25  # at most len(test) examples, DeepOBS train-eval
    x, _ = next(eval_batches(data, "test", batch_cfg(hflip=True)))
    expected = (data.test[0][:20].float() / 255 - data.mean.view(3, 1, 1)) / data.std.view(3, 1, 1)
    assert torch.allclose(x, expected)  # no augmentation
    with pytest.raises(DataError, match="val_size"):
        next(eval_batches(data, "val", batch_cfg()))


def test_batches_follow_the_load_dtype(tmp_path: Path) -> None:
    cfg = synthetic_cfg(shape=[3, 8, 8], train_size=64, val_size=16, batch_size=16)
    data = load_data(cfg, tmp_path, CPU, torch.float64)
    x, _ = next(make_train_batches(data, cfg, seed=0).epoch(0))
    vx, vy = next(eval_batches(data, "val", cfg))
    assert x.dtype == vx.dtype == torch.float64 and vy.dtype == torch.int64


def test_tolstoi_stream_batches(real_root: Path, tolstoi: DeviceData) -> None:
    cfg = data_cfg("tolstoi")
    batches = make_train_batches(tolstoi, cfg, seed=0)
    stream = torch.cat([tolstoi.train[0][:1], tolstoi.train[1]])
    assert batches.steps_per_epoch == (len(stream) - 1) // (50 * 50)
    (x0, y0), (x1, _) = list(batches.epoch(0, start=0))[:2]
    assert x0.shape == (50, 50) and x0.dtype == torch.int64
    assert torch.equal(y0[:, :-1], x0[:, 1:]) and torch.equal(x1[:, 0], y0[:, -1])  # continuity
    per_row = batches.steps_per_epoch * 50
    assert torch.equal(x0[:, 0], stream[: 50 * per_row : per_row])
    last = list(batches.epoch(9, start=batches.steps_per_epoch - 1))
    assert torch.equal(last[0][0], list(batches.epoch(0))[-1][0])  # never shuffled
    assert len(list(eval_batches(tolstoi, "test", cfg))) == 653236 // 2500
    assert len(list(eval_batches(tolstoi, "val", cfg))) == 129999 // 2500
    assert len(list(eval_batches(tolstoi, "train", cfg))) == 653236 // 2500
    small = load_data(OmegaConf.merge(cfg, {"train_subset": 100}), real_root, CPU)
    assert len(small.train[0]) == 100 * 50  # train_subset counts sequences of seq_length
    assert make_train_batches(small, cfg, seed=0).steps_per_epoch == 2


# --- configs and command line ---------------------------------------------------------------


def test_every_data_config_names_a_dataset() -> None:
    names = sorted(p.stem for p in (REPO / "conf" / "data").glob("*.yaml"))
    assert names == sorted(DATASETS)
    assert all(data_cfg(name).name == name for name in names)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["list"]) == 0
    assert set(DATASETS) <= {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert cli(["prepare", "digits", "quadratic_deep", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split() == [
        str(tmp_path / "prepared" / n) for n in ("digits", "quadratic_deep")
    ]
    assert json.loads((tmp_path / "prepared/digits/manifest.json").read_text())["name"] == "digits"
    before = (tmp_path / "prepared/digits/data.pt").stat().st_ino
    assert cli(["prepare", "digits", "--force", "--root", str(tmp_path)]) == 0
    assert (tmp_path / "prepared/digits/data.pt").stat().st_ino != before  # rebuilt
    assert read_manifest(tmp_path / "prepared/digits") is not None
    assert leftovers(tmp_path) == ["digits", "quadratic_deep"]
    assert cli(["prepare", "imagenet", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown dataset 'imagenet'") and err.count("\n") == 1


def test_eval_subset_keeps_the_first_examples(real_root: Path) -> None:
    cfg = data_cfg("mnist")
    full = load_data(cfg, real_root, CPU)
    cfg.eval_subset = 300
    cut = load_data(cfg, real_root, CPU)
    assert len(cut.val[0]) == len(cut.test[0]) == 300 and len(cut.train[0]) == 50000
    assert torch.equal(cut.test[0], full.test[0][:300])
    assert torch.equal(cut.val[1], full.val[1][:300])


def test_eval_subset_counts_sequences_for_token_streams(real_root: Path) -> None:
    cfg = data_cfg("tolstoi")
    cfg.eval_subset = 10
    data = load_data(cfg, real_root, CPU)
    assert len(data.test[0]) == len(data.val[0]) == 10 * 50
