"""Pre-activation ResNet for CIFAR (He et al. 2016, "Identity Mappings in Deep Residual
Networks"), the PreResNet-32 of Li & Arora's ExpLR study.

A 3x3 stem conv of ``width`` channels, three stages of n = (depth - 2) / 6 basic blocks of
width, 2 width and 4 width channels (strides 1, 2, 2), then norm, ReLU, global mean and a linear
layer. A block computes a = ReLU(norm(x)); conv3x3 -> norm -> ReLU -> conv3x3 on a, plus x, or a
strided 1x1 conv of a where the shape changes (He et al.'s pre-activation shortcut).

Scale invariance (Li & Arora): with ``freeze_norm_affine`` the norm layers carry no affine
parameters and with ``freeze_last_layer`` the linear layer does not train. Every trainable weight
is then a bias-free conv whose output reaches the head only through a norm layer or a residual
sum of equally scaled terms, so the output is unchanged when all trainable weights are scaled
together (L(c theta) = L(theta)); the first conv of each block is invariant on its own. Shortcuts
on the pre-activation (not on x) are what keeps the projection blocks homogeneous.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import nn

from lrstudy.data.spec import DataSpec
from lrstudy.errors import ConfigError
from lrstudy.models import checks

NORMS = ("batch", "group", "layer")


class NormFactory:
    """Builds the norm layer of every block: batch, group (``groups`` groups) or layer
    (GroupNorm(1, C): normalisation over (C, H, W)); ``affine=False`` freezes it at 1 / 0."""

    def __init__(self, kind: str, groups: int, affine: bool) -> None:
        self.kind, self.groups, self.affine = kind, groups, affine

    def __call__(self, channels: int) -> nn.Module:
        if self.kind == "batch":
            return nn.BatchNorm2d(channels, affine=self.affine)
        groups = self.groups if self.kind == "group" else 1
        return nn.GroupNorm(groups, channels, affine=self.affine)


class PreActBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, norm: NormFactory) -> None:
        super().__init__()
        self.norm1 = norm(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.norm2 = norm(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.shortcut = (nn.Conv2d(c_in, c_out, 1, stride, bias=False)
                         if stride != 1 or c_in != c_out else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = F.relu(self.norm1(x))
        shortcut = x if self.shortcut is None else self.shortcut(a)
        return self.conv2(F.relu(self.norm2(self.conv1(a)))) + shortcut


class PreResNet(nn.Module):
    """PreResNet-depth for small images (see the module docstring)."""

    task = "classification"

    def __init__(self, in_channels: int, num_classes: int, depth: int, width: int,
                 norm: NormFactory, freeze_last_layer: bool) -> None:
        super().__init__()
        blocks = (depth - 2) // 6
        widths = (width, 2 * width, 4 * width)
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        layers: list[nn.Module] = []
        c_in = width
        for stage, c_out in enumerate(widths):
            for block in range(blocks):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(PreActBlock(c_in, c_out, stride, norm))
                c_in = c_out
        self.blocks = nn.Sequential(*layers)
        self.norm = norm(c_in)
        self.fc = nn.Linear(c_in, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        self.fc.requires_grad_(not freeze_last_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.norm(self.blocks(self.conv1(x))))
        return self.fc(x.mean(dim=(2, 3)))


def build_preresnet(cfg: DictConfig, spec: DataSpec) -> PreResNet:
    c, _, _ = checks.image(cfg.name, spec)
    if cfg.depth < 8 or (cfg.depth - 2) % 6:
        raise ConfigError(f"model={cfg.name}: depth must be 6n+2 (8, 14, 20, 32, ...), "
                          f"got {cfg.depth}")
    if cfg.norm not in NORMS:
        raise ConfigError(f"model={cfg.name}: norm must be one of {', '.join(NORMS)}, "
                          f"got {cfg.norm}")
    if cfg.width < 1 or cfg.norm_groups < 1 or (cfg.norm == "group"
                                                 and cfg.width % cfg.norm_groups):
        raise ConfigError(f"model={cfg.name}: width={cfg.width} must be >= 1 and, for "
                          f"norm=group, divisible by norm_groups={cfg.norm_groups}")
    norm = NormFactory(cfg.norm, cfg.norm_groups, affine=not cfg.freeze_norm_affine)
    return PreResNet(c, checks.classes(cfg.name, spec), cfg.depth, cfg.width, norm,
                     cfg.freeze_last_layer)
