"""Linear warmup wrapped around any schedule (the ``none`` and ``linear_warmup`` options).

Warmup is not a schedule: it composes with one. With a warmup of W steps the schedule runs on
the steps after warmup (timm's ``warmup_prefix=True``), so a cosine still ends at its min_lr.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lrstudy.errors import ConfigError
from lrstudy.schedules import LRFunction, build_schedule

# init options whose LR depends on the run itself (forward passes at theta_t): built by
# lrstudy.init.build_lr_control, not as a pure function of the step
SEARCHED = ("catapult", "persistent_catapult")


@dataclass(frozen=True)
class LinearWarmup:
    """eta_t = init_lr + (target - init_lr) * t / W for t < W, then the schedule from its step 0."""

    inner: LRFunction
    warmup_steps: int
    init_lr: float

    def __call__(self, step: int) -> float:
        if step >= self.warmup_steps:
            return self.inner(step - self.warmup_steps)
        target = self.inner(0)
        return self.init_lr + (target - self.init_lr) * step / self.warmup_steps


def warmup_steps(init_cfg: Mapping[str, Any], steps_per_epoch: int) -> int:
    """Warmup length in optimizer steps (warmup_steps + warmup_epochs converted)."""
    return int(init_cfg["warmup_steps"]) + round(init_cfg["warmup_epochs"] * steps_per_epoch)


def check_warmup(init_cfg: Mapping[str, Any], steps_per_epoch: int, total_steps: int) -> int:
    """The warmup length, checked to leave the schedule at least one step."""
    warm = warmup_steps(init_cfg, steps_per_epoch)
    if warm < 0 or warm >= total_steps:
        raise ConfigError(f"init warmup of {warm} steps must lie in [0, {total_steps}) steps")
    return warm


def build_lr_schedule(schedule_cfg: Mapping[str, Any], init_cfg: Mapping[str, Any],
                      base_lr: float, steps_per_epoch: int, total_steps: int) -> LRFunction:
    """The LR actually used by a run: the schedule, behind the init group's warmup if any."""
    if init_cfg["name"] in SEARCHED:
        raise ConfigError(f"init={init_cfg['name']} picks its LR during the run (forward passes "
                          "at the run's parameters); its LR is in history.csv")
    warm = check_warmup(init_cfg, steps_per_epoch, total_steps)
    if init_cfg["init_lr"] < 0:
        raise ConfigError(f"init.init_lr={init_cfg['init_lr']} must be >= 0")
    inner = build_schedule(schedule_cfg, base_lr, steps_per_epoch, total_steps - warm)
    return LinearWarmup(inner, warm, init_cfg["init_lr"]) if warm else inner
