"""Load a prepared dataset onto the training device: checksum, val split, subset, statistics."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from omegaconf import DictConfig
from torch import Tensor

from lrstudy.data.prepare import prepare, prepared_dir, read_manifest, sha256_file
from lrstudy.data.spec import DataSpec, DeviceData
from lrstudy.errors import DataError

log = logging.getLogger(__name__)

Pair = tuple[Tensor, Tensor]


def load_data(
    cfg: DictConfig, root: Path, device: torch.device, dtype: torch.dtype = torch.float32
) -> DeviceData:
    """The dataset ``cfg.name`` on ``device``, prepared first if missing.

    Float inputs are cast to ``dtype``; uint8 images stay uint8 (the batch iterator converts
    them). ``val_size`` examples are held out of train by a permutation fixed by ``split_seed``
    (for token streams: the last ``val_size`` characters of train). ``train_subset`` then keeps
    the first examples of the rest, ``eval_subset`` the first of val and test (sequences of
    ``seq_length`` for token streams).
    """
    name = cfg.name
    directory = prepared_dir(name, Path(root), cfg)
    manifest = read_manifest(directory)
    if manifest is None:
        log.info("preparing dataset %s into %s", name, directory)
        prepare(name, Path(root), cfg)
        manifest = read_manifest(directory)
    data_file = directory / "data.pt"
    actual = sha256_file(data_file)
    if actual != manifest["sha256"]:
        raise DataError(
            f"checksum mismatch for {data_file}: sha256 {actual}, manifest says "
            f"{manifest['sha256']}; delete {directory} to prepare it again"
        )
    tensors = torch.load(data_file, map_location="cpu", weights_only=True)
    kind = manifest["kind"]
    train = (tensors["train_x"], tensors["train_y"])
    test = (tensors["test_x"], tensors["test_y"])
    if kind == "tokens":
        train, val = _split_stream(train, cfg)
        shape = (int(cfg.seq_length),)
    else:
        train, val = _split_examples(train, cfg)
        shape = tuple(manifest["shape"])
    if cfg.eval_subset is not None:
        keep = cfg.eval_subset * shape[0] if kind == "tokens" else cfg.eval_subset
        test = (test[0][:keep], test[1][:keep])
        val = None if val is None else (val[0][:keep], val[1][:keep])
    mean = std = None
    normalized = cfg.normalize and kind in ("image", "vector")
    if normalized:  # never the quadratic's raw samples
        mean, std = (t.to(device=device, dtype=dtype) for t in _statistics(train[0], kind))
    extras = {
        k: v for k, v in tensors.items() if k not in ("train_x", "train_y", "test_x", "test_y")
    }
    return DeviceData(
        spec=DataSpec(name, kind, shape, int(manifest["num_classes"]), normalized),
        train=_to(train, device, dtype),
        val=None if val is None else _to(val, device, dtype),
        test=_to(test, device, dtype),
        mean=mean,
        std=std,
        extras={k: _move(v, device, dtype) for k, v in extras.items()},
    )


def _split_examples(train: Pair, cfg: DictConfig) -> tuple[Pair, Pair | None]:
    """Hold out ``val_size`` random examples; the rest, in permuted order, is cut to the subset."""
    x, y = train
    n, val_size, batch = len(x), int(cfg.val_size), int(cfg.batch_size)
    if val_size < 0 or n - val_size < batch:
        raise DataError(
            f"data.val_size={val_size} must be >= 0 and leave at least one batch "
            f"(data.batch_size={batch}) of the {n} training examples"
        )
    val = None
    if val_size:
        order = torch.randperm(n, generator=torch.Generator().manual_seed(int(cfg.split_seed)))
        val = (x[order[:val_size]], y[order[:val_size]])
        x, y = x[order[val_size:]], y[order[val_size:]]
    subset = cfg.train_subset
    if subset is not None:
        if subset < batch:
            raise DataError(f"data.train_subset={subset} is less than data.batch_size={batch}")
        x, y = x[:subset], y[:subset]
    return (x, y), val


def _split_stream(train: Pair, cfg: DictConfig) -> tuple[Pair, Pair | None]:
    """Token streams: val is the last ``val_size`` characters of train; ``train_subset`` counts
    sequences of ``seq_length`` (one example of this kind) from the start of the rest."""
    stream = torch.cat([train[0][:1], train[1]])
    batch, length = int(cfg.batch_size), int(cfg.seq_length)
    val_size, need = int(cfg.val_size), batch * length + 1
    if val_size < 0 or len(stream) - val_size < need:
        raise DataError(
            f"data.val_size={val_size} must be >= 0 and leave at least one batch "
            f"(data.batch_size x data.seq_length + 1 = {need}) of the {len(stream)} characters"
        )
    val = None
    if val_size:
        val_stream, stream = stream[-val_size:], stream[:-val_size]
        val = (val_stream[:-1], val_stream[1:])
    subset = cfg.train_subset
    if subset is not None:
        if subset < batch:
            raise DataError(
                f"data.train_subset={subset} sequences is less than data.batch_size={batch}"
            )
        stream = stream[: subset * length + 1]
    return (stream[:-1], stream[1:]), val


def _statistics(x: Tensor, kind: str) -> tuple[Tensor, Tensor]:
    """Per-channel (images, over N, H, W in [0, 1]) or per-feature mean and std, in float64.

    Images are summed in chunks so CIFAR-sized uint8 sets are never converted whole.
    """
    if kind == "image":
        scale = 255.0 if x.dtype == torch.uint8 else 1.0
        total = torch.zeros(x.shape[1], dtype=torch.float64)
        squares = torch.zeros_like(total)
        for chunk in x.split(4096):
            values = chunk.to(torch.float64) / scale
            total += values.sum((0, 2, 3))
            squares += values.square().sum((0, 2, 3))
        count = x.numel() / x.shape[1]
        mean = total / count
        std = (squares / count - mean.square()).clamp_min(0).sqrt()
    else:
        values = x.to(torch.float64)
        mean, std = values.mean(0), values.std(0, correction=0)
    return mean, torch.where(std > 0, std, torch.ones_like(std))  # constant features stay as is


def _move(t: Tensor, device: torch.device, dtype: torch.dtype) -> Tensor:
    return t.to(device=device, dtype=dtype if t.is_floating_point() else t.dtype)


def _to(pair: Pair, device: torch.device, dtype: torch.dtype) -> Pair:
    return _move(pair[0], device, dtype), _move(pair[1], device, dtype)
