"""Schedules with SGDR-style restarts: cosine with warm restarts and cyclical log annealing."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lrstudy.schedules.base import LRFunction, check_min_lr, require


def restart_cycle(step: int, first_cycle: float, t_mult: float) -> tuple[float, float]:
    """(steps since the last restart, length of the current cycle) for SGDR-style cycles."""
    start, length = 0.0, first_cycle
    while step >= start + length:
        start, length = start + length, length * t_mult
    return step - start, length


@dataclass(frozen=True)
class CosineWarmRestarts:
    """SGDR: a half-cosine base_lr -> min_lr per cycle (torch CosineAnnealingWarmRestarts)."""

    base_lr: float
    min_lr: float
    first_cycle: float  # steps
    t_mult: float

    def __call__(self, step: int) -> float:
        since_restart, cycle = restart_cycle(step, self.first_cycle, self.t_mult)
        cosine = 1 + math.cos(math.pi * since_restart / cycle)
        return self.min_lr + 0.5 * (self.base_lr - self.min_lr) * cosine


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


def _check_cycles(cfg: Mapping[str, Any]) -> None:
    require(cfg["t0_epochs"] > 0, f"schedule.t0_epochs={cfg['t0_epochs']} must be > 0")
    require(cfg["t_mult"] >= 1, f"schedule.t_mult={cfg['t_mult']} must be >= 1")


def build_cosine_wr(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    _check_cycles(cfg)
    return CosineWarmRestarts(base_lr, check_min_lr(cfg, base_lr), cfg["t0_epochs"] * spe,
                              cfg["t_mult"])


def build_log_anneal(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    require(0 < cfg["min_lr"] < min(base_lr, 1.0),
            f"schedule.min_lr={cfg['min_lr']} must lie in (0, min(optimizer.lr={base_lr}, 1))")
    _check_cycles(cfg)
    require(cfg["base"] in ("inv_min_lr", "min_lr"),
            f"schedule.base={cfg['base']!r} must be 'inv_min_lr' or 'min_lr'")
    return LogAnneal(base_lr, cfg["min_lr"], cfg["t0_epochs"] * spe, cfg["t_mult"], cfg["base"],
                     cfg["clip"])
