"""``build_optimizer``: the ``optimizer`` config group to a torch optimizer.

Library implementations are used wherever they are faithful (torch.optim, timm.optim); the
options' YAML comments say where they differ from the TensorFlow optimizers of the crowded-valley
benchmark. Weight decay is coupled L2 (added to the gradient, as DeepOBS's L2 term in the loss)
for every option except adamw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

import torch

from lrstudy.errors import ConfigError
from lrstudy.optim.adabound import AdaBound
from lrstudy.optim.explr import init_explr_buffers
from lrstudy.optim.gi_adam import GIAdam, RIAdam
from lrstudy.optim.search import check_search_space

Params = Iterable[torch.Tensor] | Iterable[dict[str, Any]]
Builder = Callable[[Mapping[str, Any], list[dict[str, Any]]], torch.optim.Optimizer]
DATA_KEYS = ("name", "oneshot", "search_space")  # config keys that are not hyperparameters


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


# Valid values per hyperparameter name; the options share names, so one table checks them all.
_POSITIVE = (lambda v: v > 0, "must be > 0")
_NON_NEGATIVE = (lambda v: v >= 0, "must be >= 0")
_UNIT = (lambda v: 0 <= v < 1, "must lie in [0, 1)")
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "lr": _POSITIVE,
    "final_lr": _POSITIVE,
    "gamma": _POSITIVE,
    "weight_decay": _NON_NEGATIVE,
    "explr_weight_decay": _NON_NEGATIVE,
    "eps": _NON_NEGATIVE,
    "initial_accumulator_value": _NON_NEGATIVE,
    "momentum": _UNIT,
    "beta1": _UNIT,
    "beta2": _UNIT,
    "rho": _UNIT,
    "decay": _UNIT,
    "alpha": (lambda v: 0 < v <= 1, "must lie in (0, 1]"),
    "k": (lambda v: v >= 1, "must be >= 1"),
}


def check_values(values: Mapping[str, Any], prefix: str = "optimizer") -> None:
    for key, value in values.items():
        if key in RULES:
            test, requirement = RULES[key]
            _require(test(value), f"{prefix}.{key}={value} {requirement}")


def param_groups(params: Params, lr: float) -> list[dict[str, Any]]:
    """Param groups starting at lr * lr_scale: the engine sets each group's LR the same way."""
    items = list(params)
    groups = items if items and isinstance(items[0], Mapping) else [{"params": items}]
    for group in groups:
        if "lr" in group:
            raise ValueError("param groups scale the LR with 'lr_scale'; the engine overwrites "
                             "'lr' every step")
    return [{**group, "lr": lr * group.get("lr_scale", 1.0)} for group in groups]


# --- builders ------------------------------------------------------------------------------


def _explr(cfg: Mapping[str, Any], optimizer: torch.optim.SGD) -> None:
    lam = cfg["explr_weight_decay"]
    _require(cfg["weight_decay"] == 0, f"optimizer.explr_weight_decay={lam} replaces weight "
             f"decay in an ExpLR run; set optimizer.weight_decay=0")
    _require(not cfg["nesterov"], f"optimizer.explr_weight_decay={lam} needs heavy-ball "
             "momentum (optimizer.nesterov=false)")
    if cfg["momentum"] == 0:
        return  # without momentum the ExpLR equivalence needs no buffer
    limit = (1 - math.sqrt(cfg["momentum"])) ** 2
    for group in optimizer.param_groups:
        _require(lam * group["lr"] <= limit, f"optimizer.explr_weight_decay={lam} times the LR "
                 f"{group['lr']} exceeds (1 - sqrt(momentum))^2 = {limit:.4g}: no real alpha")
    init_explr_buffers(optimizer, lam)


def _sgd(cfg: Mapping[str, Any], groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    _require(not cfg["nesterov"] or cfg["momentum"] > 0,
             "optimizer.nesterov=true needs optimizer.momentum > 0")
    optimizer = torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg["momentum"],
                                nesterov=cfg["nesterov"], weight_decay=cfg["weight_decay"])
    if cfg["explr_weight_decay"] > 0:
        _explr(cfg, optimizer)
    return optimizer


def _adam(cls: type[torch.optim.Optimizer], cfg: Mapping[str, Any], groups: list[dict[str, Any]],
          **extra: Any) -> torch.optim.Optimizer:
    """Adam and its relatives: lr, (beta1, beta2), eps, weight_decay, plus ``extra``."""
    return cls(groups, lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"],
               weight_decay=cfg["weight_decay"], **extra)


def _ri_adam(cfg: Mapping[str, Any], groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    return _adam(RIAdam, cfg, groups, v0_seed=cfg["v0_seed"])


def _adabound(cfg: Mapping[str, Any], groups: list[dict[str, Any]],
              amsbound: bool) -> torch.optim.Optimizer:
    return _adam(AdaBound, cfg, groups, final_lr=cfg["final_lr"], gamma=cfg["gamma"],
                 amsbound=amsbound)


def _adabelief(cfg: Mapping[str, Any], groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    from timm.optim import AdaBelief  # timm takes seconds to import: only when used

    return _adam(AdaBelief, cfg, groups, rectify=cfg["rectify"], decoupled_decay=False)


def _adagrad(cfg: Mapping[str, Any], groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    _require(cfg["initial_accumulator_value"] > 0 or cfg["eps"] > 0,
             "optimizer.eps=0 needs optimizer.initial_accumulator_value > 0 (else 0/0)")
    return torch.optim.Adagrad(groups, lr=cfg["lr"], eps=cfg["eps"],
                               initial_accumulator_value=cfg["initial_accumulator_value"],
                               weight_decay=cfg["weight_decay"])


def _adadelta(cfg: Mapping[str, Any], groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    _require(cfg["eps"] > 0, f"optimizer.eps={cfg['eps']} must be > 0 (Adadelta's first steps "
             "are proportional to sqrt(eps))")
    return torch.optim.Adadelta(groups, lr=cfg["lr"], rho=cfg["rho"], eps=cfg["eps"],
                                weight_decay=cfg["weight_decay"])


def _rmsprop(cfg: Mapping[str, Any], groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    from timm.optim import RMSpropTF  # TF1 semantics; timm is imported only when used

    return RMSpropTF(groups, lr=cfg["lr"], alpha=cfg["decay"], eps=cfg["eps"],
                     momentum=cfg["momentum"], centered=cfg["centered"],
                     weight_decay=cfg["weight_decay"])


def _lookahead(base: Builder) -> Builder:
    def build(cfg: Mapping[str, Any], groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
        from lrstudy.optim.lookahead import Lookahead  # imports timm: only when used

        return Lookahead(base(cfg, groups), alpha=cfg["alpha"], k=cfg["k"])

    return build


OPTIMIZERS: dict[str, Builder] = {
    "sgd": _sgd,
    "momentum": _sgd,
    "nag": _sgd,
    "adam": partial(_adam, torch.optim.Adam),
    "amsgrad": partial(_adam, torch.optim.Adam, amsgrad=True),
    "adamw": partial(_adam, torch.optim.AdamW),
    "radam": partial(_adam, torch.optim.RAdam),
    "nadam": partial(_adam, torch.optim.NAdam),
    "gi_adam": partial(_adam, GIAdam),
    "ri_adam": _ri_adam,
    "adabound": partial(_adabound, amsbound=False),
    "amsbound": partial(_adabound, amsbound=True),
    "adabelief": _adabelief,
    "adagrad": _adagrad,
    "adadelta": _adadelta,
    "rmsprop": _rmsprop,
    "lookahead_momentum": _lookahead(_sgd),
    "lookahead_radam": _lookahead(partial(_adam, torch.optim.RAdam)),
}


def build_optimizer(cfg: Mapping[str, Any], params: Params) -> torch.optim.Optimizer:
    """Build the optimizer named by ``cfg.name`` over ``params`` (tensors or param groups).

    Groups may carry ``lr_scale``; each starts at cfg.lr * lr_scale. Every value is checked
    first, the one-shot defaults and the search space included, so a bad one fails in one line
    naming its key before any data is touched.
    """
    name = cfg["name"]
    _require(name in OPTIMIZERS, f"optimizer={name!r} is unknown; choose one of "
             f"{sorted(OPTIMIZERS)}")
    hyperparameters = {key for key in cfg if key not in DATA_KEYS}
    check_values({key: cfg[key] for key in hyperparameters})
    for key in cfg["oneshot"]:
        _require(key in hyperparameters, f"optimizer.oneshot.{key} is not a hyperparameter of "
                 f"optimizer={name}; choose from {sorted(hyperparameters)}")
    check_values(cfg["oneshot"], prefix="optimizer.oneshot")
    check_search_space(cfg["search_space"], hyperparameters)
    return OPTIMIZERS[name](cfg, param_groups(params, cfg["lr"]))
