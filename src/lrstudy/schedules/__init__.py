"""Learning-rate schedules as pure functions of the optimizer step.

``build_schedule(cfg, base_lr, steps_per_epoch, total_steps)`` returns ``lr_at(step) -> float``,
the absolute LR used for optimizer step ``step`` (0-based). Schedules hold no state, so resuming
a run needs nothing but the step, and the same code draws the schedule figures. Every schedule is
a small picklable callable object (not a lambda) so it can cross process boundaries.

``base_lr`` is the peak (target) LR, ``optimizer.lr``. Epoch-denominated parameters are converted
with steps_per_epoch: cycle lengths stay fractional, event times (milestones, decay periods) are
rounded to whole steps. ``granularity: epoch`` holds each epoch's first value for the whole epoch,
as DeepOBS does. Warmup is not a schedule: the ``init`` group wraps any of these (lrstudy.init).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrstudy.schedules.base import Builder, EpochHeld, LRFunction, require
from lrstudy.schedules.cyclic import build_cosine_wr, build_log_anneal
from lrstudy.schedules.decay import (
    build_constant,
    build_cosine,
    build_exponential,
    build_linear,
    build_multistep,
    build_onecycle,
    build_polynomial,
    build_step,
    build_trapezoidal,
)
from lrstudy.schedules.explr import build_exp_lr, build_texp, build_texp_pp, weight_rescales

__all__ = ["SCHEDULES", "LRFunction", "build_schedule", "weight_rescales"]

SCHEDULES: dict[str, Builder] = {
    "constant": build_constant,
    "step": build_step,
    "multistep": build_multistep,
    "exponential": build_exponential,
    "linear": build_linear,
    "polynomial": build_polynomial,
    "cosine": build_cosine,
    "cosine_wr": build_cosine_wr,
    "log_anneal": build_log_anneal,
    "trapezoidal": build_trapezoidal,
    "onecycle": build_onecycle,
    "exp_lr": build_exp_lr,
    "texp": build_texp,
    "texp_pp": build_texp_pp,
}


def build_schedule(cfg: Mapping[str, Any], base_lr: float, steps_per_epoch: int,
                   total_steps: int) -> LRFunction:
    """Build ``lr_at(step)`` from a composed ``schedule`` config node; validates its parameters."""
    name = cfg["name"]
    require(name in SCHEDULES, f"schedule={name!r} is unknown; choose one of {sorted(SCHEDULES)}")
    require(base_lr > 0, f"optimizer.lr={base_lr} must be > 0")
    require(steps_per_epoch > 0, f"steps per epoch is {steps_per_epoch}: data.batch_size is "
            "larger than the training set")
    require(total_steps > 0, f"the run has {total_steps} steps: raise trainer.epochs")
    granularity = cfg.get("granularity", "step")
    require(granularity in ("step", "epoch"),
            f"schedule.granularity={granularity!r} must be 'step' or 'epoch'")
    lr_at = SCHEDULES[name](cfg, base_lr, steps_per_epoch, total_steps)
    return EpochHeld(lr_at, steps_per_epoch) if granularity == "epoch" else lr_at
