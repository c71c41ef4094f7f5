"""timm classifiers (ResNet-18/34, ViT, BoTNet), randomly initialised, for small images.

``cifar_stem`` removes the stride-4 ImageNet stem the way CIFAR ResNets do: a timm ``ResNet``
gets a 3x3 stride-1 conv in place of its 7x7 stride-2 conv and no max-pool; a timm ``ByobNet``
(BoTNet) keeps its stem convs but its first conv gets stride 1 and its max-pool goes. Fixed-size
models (self-attention with position embeddings: ViT, BoTNet) are built for the dataset's image
size; with the CIFAR stem a ByobNet is built for 4x that size, so its attention layers see the
feature sizes they get after the stride-4-free stem (BoTNet-26 on 32x32: 8x8 in stage 3 and the
first block of stage 4, 4x4 after it).
"""

from __future__ import annotations

from typing import Any

import timm
import torch
from omegaconf import DictConfig, OmegaConf
from timm.layers import to_2tuple
from timm.models import get_pretrained_cfg
from timm.models.byobnet import ByobNet
from timm.models.resnet import ResNet
from torch import nn

from lrstudy.data.spec import DataSpec
from lrstudy.errors import ConfigError
from lrstudy.models import checks

STEM_REDUCTION = 4  # stride-2 conv + stride-2 max-pool, what the CIFAR stem removes
RESERVED = ("pretrained", "num_classes", "in_chans")


class TimmClassifier(nn.Module):
    """Holds the timm network; the wrapper only adds the engine's ``task``."""

    task = "classification"

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _cifar_stem(name: str, net: nn.Module, in_channels: int) -> None:
    if isinstance(net, ResNet) and isinstance(net.conv1, nn.Conv2d):
        net.conv1 = nn.Conv2d(in_channels, net.conv1.out_channels, 3, 1, 1, bias=False)
        nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
        net.maxpool = nn.Identity()
        return
    if isinstance(net, ByobNet) and isinstance(getattr(net.stem, "pool", None), nn.MaxPool2d):
        first = next(m for m in net.stem.modules() if isinstance(m, nn.Conv2d))
        if first.stride == (2, 2) and net.stem.pool.stride == 2:
            first.stride = (1, 1)
            net.stem.pool = nn.Identity()
            return
    raise ConfigError(f"model={name}: cifar_stem=true works for timm ResNets with a single stem "
                      f"conv and ByobNets with a stride-2 conv + max-pool stem; set "
                      f"model.cifar_stem=false for arch {type(net).__name__}")


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _dry_run(name: str, net: nn.Module, spec: DataSpec) -> None:
    """One eval-mode forward on zeros: timm enforces some input constraints only there."""
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            net(torch.zeros(1, *spec.shape))
    except (RuntimeError, AssertionError, ValueError) as err:
        raise ConfigError(f"model={name} cannot take data={spec.name} "
                          f"({checks.describe(spec)}): {_first_line(err)}") from err
    finally:
        net.train(was_training)


def build_timm(cfg: DictConfig, spec: DataSpec) -> TimmClassifier:
    """timm.create_model(arch, num_classes, in_chans, **kwargs) for ``spec``, never pretrained;
    ``kwargs.img_size`` means the dataset's image size and must match it."""
    c, h, w = checks.image(cfg.name, spec)
    num_classes = checks.classes(cfg.name, spec)
    if not timm.is_model(cfg.arch):
        raise ConfigError(f"model={cfg.name}: timm has no architecture {cfg.arch}")
    kwargs: dict[str, Any] = dict(OmegaConf.to_container(cfg.kwargs, resolve=True))
    reserved = [key for key in RESERVED if key in kwargs]
    if reserved:
        raise ConfigError(f"model={cfg.name}: kwargs may not set {', '.join(reserved)} "
                          f"(never pretrained; classes and channels come from the data)")
    img_size = kwargs.pop("img_size", None)
    if img_size is not None and tuple(to_2tuple(img_size)) != (h, w):
        checks.mismatch(cfg.name, f"{img_size} pixel images (kwargs.img_size)", spec)
    pretrained_cfg = get_pretrained_cfg(cfg.arch)
    if img_size is not None or (pretrained_cfg is not None and pretrained_cfg.fixed_input_size):
        scale = STEM_REDUCTION if cfg.cifar_stem else 1
        kwargs["img_size"] = (h * scale, w * scale)
    try:
        net = timm.create_model(cfg.arch, pretrained=False, num_classes=num_classes,
                                in_chans=c, **kwargs)
    except (TypeError, ValueError, AssertionError) as err:
        raise ConfigError(f"model={cfg.name}: timm cannot build {cfg.arch} with kwargs "
                          f"{kwargs}: {_first_line(err)}") from err
    if cfg.cifar_stem:
        _cifar_stem(cfg.name, net, c)
    _dry_run(cfg.name, net, spec)
    return TimmClassifier(net)
