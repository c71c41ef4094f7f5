"""What a prepared dataset looks like once it is loaded onto the training device."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

KINDS = ("image", "vector", "tokens", "quadratic")


@dataclass(frozen=True)
class DataSpec:
    """The facts a model needs to decide whether it can take a dataset."""

    name: str
    kind: str  # one of KINDS
    shape: tuple[int, ...]  # one input example: (C, H, W) | (D,) | (seq_length,) | (dim,)
    num_classes: int  # classes, vocabulary size, or 0 (quadratic)
    normalized: bool = False  # inputs standardised with train statistics (else raw, e.g. [0, 1])


@dataclass
class DeviceData:
    """Train/val/test tensors resident on the training device.

    Images stay in their stored dtype (uint8 for the torchvision sets); the batch iterator
    converts, augments and normalises whole batches on the device. ``mean``/``std`` are the
    per-channel (or per-feature) training statistics used for normalisation.
    """

    spec: DataSpec
    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor] | None
    test: tuple[torch.Tensor, torch.Tensor]
    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None
    extras: dict[str, torch.Tensor] = field(default_factory=dict)  # e.g. "hessian"
