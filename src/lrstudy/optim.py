"""Optimizers from the ``optimizer`` config group.

``build_optimizer(cfg, params)`` returns a torch optimizer whose param groups start at
``cfg.lr``; the engine overwrites each group's LR every step from the schedule (times the
group's optional ``lr_scale``). Weight decay is coupled L2 (added to the gradient) for every
optimizer here, as in torch's SGD and Adam.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch

from lrstudy.errors import ConfigError

Params = Iterable[torch.Tensor] | Iterable[dict[str, Any]]


def _sgd(cfg: Mapping[str, Any], params: Params) -> torch.optim.Optimizer:
    if not 0 <= cfg["momentum"] < 1:
        raise ConfigError(f"optimizer.momentum={cfg['momentum']} must lie in [0, 1)")
    if cfg["nesterov"] and cfg["momentum"] == 0:
        raise ConfigError("optimizer.nesterov=true needs optimizer.momentum > 0")
    return torch.optim.SGD(params, lr=cfg["lr"], momentum=cfg["momentum"],
                           nesterov=cfg["nesterov"], weight_decay=cfg["weight_decay"])


def _adam(cfg: Mapping[str, Any], params: Params) -> torch.optim.Optimizer:
    for key in ("beta1", "beta2"):
        if not 0 <= cfg[key] < 1:
            raise ConfigError(f"optimizer.{key}={cfg[key]} must lie in [0, 1)")
    return torch.optim.Adam(params, lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]),
                            eps=cfg["eps"], weight_decay=cfg["weight_decay"])


OPTIMIZERS: dict[str, Callable[[Mapping[str, Any], Params], torch.optim.Optimizer]] = {
    "sgd": _sgd,
    "momentum": _sgd,
    "adam": _adam,
}


def build_optimizer(cfg: Mapping[str, Any], params: Params) -> torch.optim.Optimizer:
    """Build the optimizer named by ``cfg.name`` over ``params`` (tensors or param groups)."""
    name = cfg["name"]
    if name not in OPTIMIZERS:
        raise ConfigError(f"optimizer={name!r} is unknown; choose one of {sorted(OPTIMIZERS)}")
    if cfg["lr"] <= 0:
        raise ConfigError(f"optimizer.lr={cfg['lr']} must be > 0")
    if cfg["weight_decay"] < 0:
        raise ConfigError(f"optimizer.weight_decay={cfg['weight_decay']} must be >= 0")
    return OPTIMIZERS[name](cfg, params)
