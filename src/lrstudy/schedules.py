"""Learning-rate schedules as pure functions of the optimizer step.

``build_schedule(cfg, base_lr, steps_per_epoch, total_steps)`` returns ``lr_at(step) -> float``,
the absolute LR used for optimizer step ``step`` (0-based). Schedules hold no state, so resuming
a run needs nothing but the step, and the same code draws the schedule figures. Every schedule is
a small picklable callable object (not a lambda) so it can cross process boundaries.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lrstudy.errors import ConfigError

LRFunction = Callable[[int], float]


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass(frozen=True)
class Constant:
    base_lr: float

    def __call__(self, step: int) -> float:
        return self.base_lr


@dataclass(frozen=True)
class Cosine:
    """Half-cosine from base_lr to min_lr over total_steps (torch CosineAnnealingLR)."""

    base_lr: float
    min_lr: float
    total_steps: int

    def __call__(self, step: int) -> float:
        progress = min(step, self.total_steps) / self.total_steps
        return self.min_lr + 0.5 * (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * progress))


def restart_cycle(step: int, first_cycle: float, t_mult: float) -> tuple[float, float]:
    """(steps since the last restart, length of the current cycle) for SGDR-style cycles."""
    start, length = 0.0, first_cycle
    while step >= start + length:
        start, length = start + length, length * t_mult
    return step - start, length


@dataclass(frozen=True)
class LogAnneal:
    """Cyclical log annealing: |min + (max - min)/2 * (1 + log_B(pi * T_i / T_cur))|.

    T_cur counts steps since the restart and starts at 1 step (the formula is undefined at 0).
    ``base`` picks the reading of the paper's log base: ``inv_min_lr`` (B = 1/min_lr) or
    ``min_lr`` (B = min_lr); ``clip`` clips the value to [min_lr, base_lr].
    """

    base_lr: float
    min_lr: float
    first_cycle: float  # steps
    t_mult: float
    base: str
    clip: bool

    def __call__(self, step: int) -> float:
        since_restart, cycle = restart_cycle(step, self.first_cycle, self.t_mult)
        t_cur = since_restart + 1.0
        log_base = -math.log(self.min_lr) if self.base == "inv_min_lr" else math.log(self.min_lr)
        log_term = math.log(math.pi * cycle / t_cur) / log_base
        lr = abs(self.min_lr + 0.5 * (self.base_lr - self.min_lr) * (1.0 + log_term))
        return min(max(lr, self.min_lr), self.base_lr) if self.clip else lr


@dataclass(frozen=True)
class EpochHeld:
    """Holds the wrapped schedule's value for a whole epoch (DeepOBS-style per-epoch schedules)."""

    inner: LRFunction
    steps_per_epoch: int

    def __call__(self, step: int) -> float:
        return self.inner(step - step % self.steps_per_epoch)


def _constant(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    return Constant(base_lr)


def _cosine(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    _require(0 <= cfg["min_lr"] <= base_lr,
             f"schedule.min_lr={cfg['min_lr']} must lie in [0, optimizer.lr={base_lr}]")
    return Cosine(base_lr, cfg["min_lr"], total)


def _log_anneal(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    _require(0 < cfg["min_lr"] < min(base_lr, 1.0),
             f"schedule.min_lr={cfg['min_lr']} must lie in (0, min(optimizer.lr={base_lr}, 1))")
    _require(cfg["t0_epochs"] > 0, f"schedule.t0_epochs={cfg['t0_epochs']} must be > 0")
    _require(cfg["t_mult"] >= 1, f"schedule.t_mult={cfg['t_mult']} must be >= 1")
    _require(cfg["base"] in ("inv_min_lr", "min_lr"),
             f"schedule.base={cfg['base']!r} must be 'inv_min_lr' or 'min_lr'")
    return LogAnneal(base_lr, cfg["min_lr"], cfg["t0_epochs"] * spe, cfg["t_mult"], cfg["base"],
                     cfg["clip"])


SCHEDULES: dict[str, Callable[[Mapping[str, Any], float, int, int], LRFunction]] = {
    "constant": _constant,
    "cosine": _cosine,
    "log_anneal": _log_anneal,
}


def build_schedule(cfg: Mapping[str, Any], base_lr: float, steps_per_epoch: int,
                   total_steps: int) -> LRFunction:
    """Build ``lr_at(step)`` from a composed ``schedule`` config node; validates its parameters."""
    name = cfg["name"]
    _require(name in SCHEDULES, f"schedule={name!r} is unknown; choose one of {sorted(SCHEDULES)}")
    _require(base_lr > 0, f"optimizer.lr={base_lr} must be > 0")
    _require(steps_per_epoch > 0, f"steps per epoch is {steps_per_epoch}: data.batch_size is "
             "larger than the training set")
    _require(total_steps > 0, f"the run has {total_steps} steps: raise trainer.epochs")
    granularity = cfg.get("granularity", "step")
    _require(granularity in ("step", "epoch"),
             f"schedule.granularity={granularity!r} must be 'step' or 'epoch'")
    lr_at = SCHEDULES[name](cfg, base_lr, steps_per_epoch, total_steps)
    return EpochHeld(lr_at, steps_per_epoch) if granularity == "epoch" else lr_at
