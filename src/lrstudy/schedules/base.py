"""What every schedule shares: the callable type, parameter checks, epoch conversion and holding."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from lrstudy.errors import ConfigError

LRFunction = Callable[[int], float]
# builder(schedule_cfg, base_lr, steps_per_epoch, total_steps) -> lr_at; validates its parameters
Builder = Callable[[Mapping[str, Any], float, int, int], LRFunction]


def require(ok: bool, message: str) -> None:
    """Raise the one-line ConfigError ``message`` (which names the key) unless ``ok``."""
    if not ok:
        raise ConfigError(message)


def to_steps(epochs: float, steps_per_epoch: int) -> int:
    """An epoch-denominated event time (a milestone, a decay period) in whole optimizer steps."""
    return round(epochs * steps_per_epoch)


def check_gamma(cfg: Mapping[str, Any]) -> float:
    """A decay factor: 0 < gamma <= 1 (a gamma of 10 meant as "divide by 10" fails here)."""
    gamma = cfg["gamma"]
    require(0 < gamma <= 1, f"schedule.gamma={gamma} must lie in (0, 1]")
    return gamma


def check_milestones(cfg: Mapping[str, Any], steps_per_epoch: int) -> tuple[int, ...]:
    """``milestones_epochs`` (positive, strictly increasing) as optimizer steps."""
    epochs: Sequence[float] = list(cfg["milestones_epochs"])
    require(all(m > 0 for m in epochs) and all(a < b for a, b in pairwise(epochs)),
            f"schedule.milestones_epochs={epochs} must be positive and strictly increasing")
    return tuple(to_steps(m, steps_per_epoch) for m in epochs)


def check_min_lr(cfg: Mapping[str, Any], base_lr: float) -> float:
    min_lr = cfg["min_lr"]
    require(0 <= min_lr <= base_lr,
            f"schedule.min_lr={min_lr} must lie in [0, optimizer.lr={base_lr}]")
    return min_lr


@dataclass(frozen=True)
class EpochHeld:
    """Holds the wrapped schedule's value for a whole epoch (DeepOBS-style per-epoch schedules)."""

    inner: LRFunction
    steps_per_epoch: int

    def __call__(self, step: int) -> float:
        return self.inner(step - step % self.steps_per_epoch)
