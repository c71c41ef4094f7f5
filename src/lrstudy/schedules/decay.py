"""Single-shot schedules: constant, cosine, linear/polynomial, step, multistep, exponential,
trapezoidal and one-cycle. Each is the LR at an optimizer step, written in closed form."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lrstudy.schedules.base import (
    LRFunction,
    check_gamma,
    check_milestones,
    check_min_lr,
    require,
    to_steps,
)


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


@dataclass(frozen=True)
class Polynomial:
    """min_lr + (base_lr - min_lr) * (1 - t/T)^power (timm PolyLRScheduler); power 1 is linear."""

    base_lr: float
    min_lr: float
    total_steps: int
    power: float

    def __call__(self, step: int) -> float:
        remaining = 1 - min(step, self.total_steps) / self.total_steps
        return self.min_lr + (self.base_lr - self.min_lr) * remaining**self.power


@dataclass(frozen=True)
class StepDecay:
    """base_lr * gamma^(number of whole periods done): torch StepLR."""

    base_lr: float
    gamma: float
    period: int  # steps

    def __call__(self, step: int) -> float:
        return self.base_lr * self.gamma ** (step // self.period)


@dataclass(frozen=True)
class MultiStepDecay:
    """base_lr * gamma^(number of milestones reached): torch MultiStepLR."""

    base_lr: float
    gamma: float
    milestones: tuple[int, ...]  # steps

    def __call__(self, step: int) -> float:
        return self.base_lr * self.gamma ** bisect_right(self.milestones, step)


@dataclass(frozen=True)
class Exponential:
    """base_lr * gamma^(step / steps_per_epoch): gamma per epoch, applied smoothly per step."""

    base_lr: float
    gamma: float
    steps_per_epoch: int

    def __call__(self, step: int) -> float:
        return self.base_lr * self.gamma ** (step / self.steps_per_epoch)


@dataclass(frozen=True)
class Trapezoid:
    """Linear up over ``warmup`` steps, flat at base_lr, linear down over the last ``decay`` steps.

    The ramps are offset by one ``unit`` (one step, or one epoch under granularity=epoch) so that
    no unit runs at LR 0: per epoch this is exactly the DeepOBS factor list of the Crowded Valley
    results (``ltr``): e/W for e = 1..W, then 1, then linspace(1, 0, D + 2)[1:-1], the k-th factor
    used by the k-th epoch trained.
    """

    base_lr: float
    warmup: float  # steps
    decay: float  # steps
    total_steps: int
    unit: int

    def __call__(self, step: int) -> float:
        up = (step + self.unit) / max(self.warmup, self.unit)
        down = (self.total_steps - step) / (self.decay + self.unit)
        return self.base_lr * max(0.0, min(1.0, up, down))


@dataclass(frozen=True)
class OneCycle:
    """torch OneCycleLR's LR (its momentum cycling is the optimizer's business, not done here).

    ``phases`` are (last step, start lr, end lr); steps past the run hold the final value.
    """

    phases: tuple[tuple[float, float, float], ...]
    linear: bool

    def __call__(self, step: int) -> float:
        start = 0.0
        *early, last = self.phases
        for end, lr_from, lr_to in early:
            if step <= end:
                return self._anneal(step, start, end, lr_from, lr_to)
            start = end
        return self._anneal(step, start, *last)

    def _anneal(self, step: int, start: float, end: float, lr_from: float, lr_to: float) -> float:
        pct = min((step - start) / (end - start), 1.0) if end > start else 1.0
        if self.linear:
            return lr_from + (lr_to - lr_from) * pct
        return lr_to + (lr_from - lr_to) / 2.0 * (math.cos(math.pi * pct) + 1)


def build_constant(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    return Constant(base_lr)


def build_cosine(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    return Cosine(base_lr, check_min_lr(cfg, base_lr), total)


def build_linear(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    return Polynomial(base_lr, check_min_lr(cfg, base_lr), total, 1.0)


def build_polynomial(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    require(cfg["power"] > 0, f"schedule.power={cfg['power']} must be > 0")
    return Polynomial(base_lr, check_min_lr(cfg, base_lr), total, cfg["power"])


def build_step(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    require(cfg["step_epochs"] > 0, f"schedule.step_epochs={cfg['step_epochs']} must be > 0")
    return StepDecay(base_lr, check_gamma(cfg), max(1, to_steps(cfg["step_epochs"], spe)))


def build_multistep(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    return MultiStepDecay(base_lr, check_gamma(cfg), check_milestones(cfg, spe))


def build_exponential(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    return Exponential(base_lr, check_gamma(cfg), spe)


def build_trapezoidal(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    up, down = cfg["warmup_frac"], cfg["decay_frac"]
    require(up >= 0, f"schedule.warmup_frac={up} must be >= 0")
    require(down >= 0 and up + down <= 1,
            f"schedule.decay_frac={down} must be >= 0 with warmup_frac + decay_frac <= 1")
    unit = spe if cfg.get("granularity", "step") == "epoch" else 1
    return Trapezoid(base_lr, up * total, down * total, total, unit)


def build_onecycle(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    pct, three_phase = cfg["pct_start"], cfg["three_phase"]
    upper = 0.5 if three_phase else 1.0
    require(0 < pct < upper, f"schedule.pct_start={pct} must lie in (0, {upper})"
            + (" with three_phase" if three_phase else ""))
    require(cfg["div_factor"] > 0, f"schedule.div_factor={cfg['div_factor']} must be > 0")
    require(cfg["final_div_factor"] > 0,
            f"schedule.final_div_factor={cfg['final_div_factor']} must be > 0")
    require(cfg["anneal_strategy"] in ("cos", "linear"),
            f"schedule.anneal_strategy={cfg['anneal_strategy']!r} must be 'cos' or 'linear'")
    initial = base_lr / cfg["div_factor"]
    final = initial / cfg["final_div_factor"]
    up = (pct * total - 1, initial, base_lr)
    if three_phase:
        phases = (up, (2 * pct * total - 2, base_lr, initial), (total - 1, initial, final))
    else:
        phases = (up, (total - 1, base_lr, final))
    return OneCycle(phases, cfg["anneal_strategy"] == "linear")
