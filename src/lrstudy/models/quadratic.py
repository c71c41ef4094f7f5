"""DeepOBS quadratic problems (quadratic_deep): the model is the point theta, initialised to 1.

forward(x) returns the residual theta - x; the engine's ``quadratic`` task computes
0.5 (theta - x)^T Q (theta - x) with the Hessian Q the data layer ships in ``extras``.
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from torch import nn

from lrstudy.data.spec import DataSpec
from lrstudy.models import checks


class Quadratic(nn.Module):
    task = "quadratic"

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.theta - x


def build_quadratic(cfg: DictConfig, spec: DataSpec) -> Quadratic:
    if spec.kind != "quadratic" or len(spec.shape) != 1:
        checks.mismatch(cfg.name, "a quadratic problem", spec)
    return Quadratic(spec.shape[0])
