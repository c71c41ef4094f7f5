"""Device-resident batches: seeded permutation, batched pad+crop and flip, normalisation.

No DataLoader and no per-example Python: each batch is one gather from tensors already on the
device. The order and augmentation of epoch ``e`` are a function of ``(seed, e)`` alone, drawn at
the start of the epoch, so a run resumed at batch ``k`` sees exactly the batches it would have seen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor

from lrstudy.data.spec import DeviceData
from lrstudy.errors import DataError

Batch = tuple[Tensor, Tensor]


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """A CPU generator seeded from (seed, epoch) only: the same draws on every device."""
    digest = hashlib.sha256(f"lrstudy.batches:{seed}:{epoch}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


def _float_dtype(data: DeviceData) -> torch.dtype:
    """The float dtype load_data gave this data (uint8 images carry it only in mean/std)."""
    for t in (data.mean, data.train[0], *data.extras.values()):
        if t is not None and t.is_floating_point():
            return t.dtype
    return torch.get_default_dtype()


def _to_float(x: Tensor, dtype: torch.dtype) -> Tensor:
    return x.to(dtype) / 255 if x.dtype == torch.uint8 else x.to(dtype)


def _normalise(x: Tensor, mean: Tensor | None, std: Tensor | None) -> Tensor:
    if mean is None or std is None:
        return x
    if x.dim() == 4:  # images: per channel
        mean, std = mean.view(-1, 1, 1), std.view(-1, 1, 1)
    return (x - mean) / std


def random_crop(x: Tensor, pad: int, offsets: Tensor) -> Tensor:
    """Zero-pad (N, C, H, W) by ``pad`` and crop back at per-example ``offsets`` (N, 2) in
    [0, 2 * pad], as one advanced-indexing gather."""
    n, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = offsets[:, 0, None] + torch.arange(h, device=x.device)  # (N, H)
    cols = offsets[:, 1, None] + torch.arange(w, device=x.device)  # (N, W)
    return padded[
        torch.arange(n, device=x.device)[:, None, None, None],
        torch.arange(c, device=x.device)[None, :, None, None],
        rows[:, None, :, None],
        cols[:, None, None, :],
    ]


def _stream_layout(pair: Batch, rows: int, seq_length: int) -> tuple[Tensor, Tensor, int]:
    """DeepOBS tolstoi layout: ``rows`` contiguous streams; batch i = columns [i*L, (i+1)*L)."""
    x, y = pair
    num_batches = len(x) // (rows * seq_length)  # = (len(stream) - 1) // (B * L), as DeepOBS
    if num_batches == 0:
        raise DataError(
            f"{len(x)} characters are too few for one batch of {rows} x data.seq_length="
            f"{seq_length}"
        )
    n = num_batches * rows * seq_length
    return x[:n].view(rows, -1), y[:n].view(rows, -1), num_batches


class TrainBatches:
    """The training batches of any epoch, on demand; ``steps_per_epoch`` full batches per epoch
    (the last incomplete batch is dropped)."""

    def __init__(
        self, data: DeviceData, cfg: DictConfig, seed: int, dtype: torch.dtype | None = None
    ) -> None:
        self.kind = data.spec.kind
        self.batch_size = int(cfg.batch_size)
        self.seed = seed
        self.dtype = dtype or _float_dtype(data)
        self.mean, self.std = data.mean, data.std
        self.crop = int(cfg.random_crop)
        self.hflip = bool(cfg.hflip)
        if (self.crop or self.hflip) and self.kind != "image":
            raise DataError(
                f"data.random_crop/data.hflip apply to images only, not to {data.spec.name}"
            )
        self.x, self.y = data.train
        if self.kind == "tokens":
            self.seq_length = int(cfg.seq_length)
            self.x, self.y, self.steps_per_epoch = _stream_layout(
                data.train, self.batch_size, self.seq_length
            )
            self.shuffle = False  # consecutive batches continue the same rows (LSTM state)
        else:
            self.steps_per_epoch = len(self.x) // self.batch_size
            self.shuffle = bool(cfg.shuffle)
        if self.steps_per_epoch == 0:
            raise DataError(
                f"{len(self.x)} training examples are fewer than data.batch_size={self.batch_size}"
            )

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        """Batches ``start`` .. ``steps_per_epoch - 1`` of ``epoch``."""
        if not 0 <= start <= self.steps_per_epoch:
            raise ValueError(f"start={start} outside [0, {self.steps_per_epoch}]")
        if self.kind == "tokens":
            length = self.seq_length
            for i in range(start, self.steps_per_epoch):
                cols = slice(i * length, (i + 1) * length)
                yield self.x[:, cols].contiguous(), self.y[:, cols].contiguous()
            return
        gen = epoch_generator(self.seed, epoch)
        used, device = self.steps_per_epoch * self.batch_size, self.x.device
        order = torch.randperm(len(self.x), generator=gen) if self.shuffle else torch.arange(used)
        order = order[:used].to(device)
        offsets = flips = None
        if self.crop:
            offsets = torch.randint(0, 2 * self.crop + 1, (used, 2), generator=gen).to(device)
        if self.hflip:
            flips = (torch.rand(used, generator=gen) < 0.5).to(device)
        for i in range(start, self.steps_per_epoch):
            rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
            index = order[rows]
            x = _to_float(self.x[index], self.dtype)
            if offsets is not None:
                x = random_crop(x, self.crop, offsets[rows])
            if flips is not None:
                x = torch.where(flips[rows, None, None, None], x.flip(3), x)
            yield _normalise(x, self.mean, self.std), self.y[index]


def make_train_batches(
    data: DeviceData, cfg: DictConfig, seed: int, dtype: torch.dtype | None = None
) -> TrainBatches:
    """Training batches for ``data`` under data config ``cfg``; ``dtype`` defaults to the float
    dtype ``load_data`` used."""
    return TrainBatches(data, cfg, seed, dtype)


def eval_batches(
    data: DeviceData, split: str, cfg: DictConfig, dtype: torch.dtype | None = None
) -> Iterator[Batch]:
    """Unshuffled, unaugmented batches of ``cfg.eval_batch_size``, the last partial one kept.

    ``split="train"`` covers at most as many examples as the test set (DeepOBS train-eval).
    Token streams use the training layout with ``eval_batch_size`` rows (whole batches only).
    """
    if split not in ("train", "val", "test"):
        raise DataError(f"unknown split {split!r}; expected train, val or test")
    pair = getattr(data, split)
    if pair is None:
        raise DataError(f"{data.spec.name} has no {split} split (data.val_size is 0)")
    size = int(cfg.eval_batch_size)
    if data.spec.kind == "tokens":
        length = int(cfg.seq_length)
        x, y, num_batches = _stream_layout(pair, size, length)
        if split == "train":
            num_batches = min(num_batches, len(data.test[0]) // (size * length))
        for i in range(num_batches):
            cols = slice(i * length, (i + 1) * length)
            yield x[:, cols].contiguous(), y[:, cols].contiguous()
        return
    dtype = dtype or _float_dtype(data)
    x, y = pair
    if split == "train":
        x, y = x[: len(data.test[0])], y[: len(data.test[0])]
    for i in range(0, len(x), size):
        yield _normalise(_to_float(x[i : i + size], dtype), data.mean, data.std), y[i : i + size]
