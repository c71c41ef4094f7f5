"""Wide ResNet (Zagoruyko & Komodakis 2016) as DeepOBS builds it for svhn_wrn164
(deepobs/tensorflow/testproblems/_wrn.py): pre-activation units, TF 'same' padding, no biases.

depth = 6n + 4 gives n units per stage; stages of 16k, 32k, 64k channels with strides 1, 2, 2
after a 16-channel 3x3 stem conv. The first unit of a stage pre-activates its input once for
both branches; its shortcut is that activation (same width, stride 1), a max-pool (same width,
strided) or a 1x1 conv. Then norm, ReLU, global mean and a dense layer.
Init: Glorot-uniform convs and dense weights, zero dense bias, norm weight 1 and bias 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import nn

from lrstudy.data.spec import DataSpec
from lrstudy.errors import ConfigError
from lrstudy.models import checks
from lrstudy.models.tf_layers import SameConv2d, SameMaxPool2d

# PyTorch convention (weight of the batch statistic): TF DeepOBS' decay 0.9. DeepOBS' PyTorch
# port passes momentum=0.9 verbatim, which in PyTorch means decay 0.1.
BN_MOMENTUM = 0.1


def norm_layer(kind: str, channels: int) -> nn.Module:
    """batch: BatchNorm2d (eps 1e-5 as DeepOBS). layer: GroupNorm(1, C), i.e. normalisation over
    (C, H, W) of each example with a per-channel affine."""
    if kind == "batch":
        return nn.BatchNorm2d(channels, eps=1e-5, momentum=BN_MOMENTUM)
    return nn.GroupNorm(1, channels, eps=1e-5)


class WRNUnit(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, first: bool, norm: str,
                 dropout: float) -> None:
        super().__init__()
        self.first = first
        self.norm1 = norm_layer(norm, c_in)
        self.conv1 = SameConv2d(c_in, c_out, 3, stride, bias=False)
        self.norm2 = norm_layer(norm, c_out)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = SameConv2d(c_out, c_out, 3, 1, bias=False)
        self.shortcut: nn.Module = nn.Identity()
        if c_in != c_out:
            self.shortcut = SameConv2d(c_in, c_out, 1, stride, bias=False)
        elif stride > 1:
            self.shortcut = SameMaxPool2d(stride, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = F.relu(self.norm1(x))
        shortcut = self.shortcut(a) if self.first else x
        out = self.conv1(a)
        out = self.conv2(self.dropout(F.relu(self.norm2(out))))
        return out + shortcut


class WRN(nn.Module):
    """WRN-depth-widen; norm "batch" (DeepOBS) or "layer" (GroupNorm(1, C), warmup study)."""

    task = "classification"

    def __init__(self, in_channels: int, num_classes: int, depth: int, widen: int, norm: str,
                 dropout: float) -> None:
        super().__init__()
        units = (depth - 4) // 6
        widths = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = SameConv2d(in_channels, 16, 3, bias=False)
        self.stages = nn.Sequential(*(
            nn.Sequential(*(
                WRNUnit(widths[stage] if unit == 0 else widths[stage + 1], widths[stage + 1],
                        stride if unit == 0 else 1, unit == 0, norm, dropout)
                for unit in range(units)))
            for stage, stride in enumerate((1, 2, 2))))
        self.norm = norm_layer(norm, widths[-1])
        self.dense = nn.Linear(widths[-1], num_classes)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(self.dense.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.conv1(x))
        x = F.relu(self.norm(x))
        return self.dense(x.mean(dim=(2, 3)))


def build_wrn(cfg: DictConfig, spec: DataSpec) -> WRN:
    c, _, _ = checks.image(cfg.name, spec)
    if cfg.depth < 10 or (cfg.depth - 4) % 6:
        raise ConfigError(f"model={cfg.name}: depth must be 6n+4 (10, 16, 22, 28, ...), "
                          f"got {cfg.depth}")
    if cfg.widen < 1:
        raise ConfigError(f"model={cfg.name}: widen must be >= 1, got {cfg.widen}")
    if cfg.norm not in ("batch", "layer"):
        raise ConfigError(f"model={cfg.name}: norm must be batch or layer, got {cfg.norm}")
    return WRN(c, checks.classes(cfg.name, spec), cfg.depth, cfg.widen, cfg.norm, cfg.dropout)
