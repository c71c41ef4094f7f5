"""Spec checks shared by the model builders: a model that cannot take a dataset fails at build
time with one line naming both, instead of a shape error deep inside the first forward pass."""

from __future__ import annotations

from typing import NoReturn

from lrstudy.data.spec import DataSpec
from lrstudy.errors import ConfigError


def describe(spec: DataSpec) -> str:
    """What a dataset offers, in the words the error messages use."""
    size = "x".join(str(s) for s in spec.shape)
    if spec.kind == "image":
        return f"{size} images"
    if spec.kind == "vector":
        return f"vectors of length {size}"
    if spec.kind == "tokens":
        return f"token sequences of length {size}"
    return f"a {spec.kind} problem of shape {size}"


def mismatch(model: str, needs: str, spec: DataSpec) -> NoReturn:
    raise ConfigError(f"model={model} needs {needs}; data={spec.name} gives {describe(spec)}")


def classes(model: str, spec: DataSpec) -> int:
    """Number of classes of a classification set (at least 2)."""
    if spec.num_classes < 2:
        mismatch(model, "a classification set (num_classes >= 2)", spec)
    return spec.num_classes


def image(model: str, spec: DataSpec, min_size: int = 1) -> tuple[int, int, int]:
    """(C, H, W) of an image set whose sides are at least ``min_size``."""
    if spec.kind != "image" or len(spec.shape) != 3:
        mismatch(model, "CxHxW images", spec)
    c, h, w = spec.shape
    if min(h, w) < min_size:
        mismatch(model, f"images of at least {min_size}x{min_size} pixels", spec)
    return c, h, w
