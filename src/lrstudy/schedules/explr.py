"""Li & Arora's exponential LR schedules (PAPERS.md 2.3, 2.4, 2.9): ExpLR, TEXP and TEXP++.

On a scale-invariant network, SGD with weight decay lambda, momentum gamma and LR eta trains the
same functions as SGD with momentum gamma, no weight decay and a growing LR. Run these schedules
with optimizer.weight_decay=0 and optimizer.momentum equal to schedule.momentum; ``t`` is the
optimizer step (t = 0 is the first update), the convention under which the equivalence is exact
for torch.optim.SGD. (Exactness from step 0 also needs the momentum buffer started at
v_0 = (alpha - 1) * theta_0 / (eta * alpha), which is the training loop's business.)
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lrstudy.schedules.base import LRFunction, check_gamma, check_milestones, require


def alpha_root(lr: float, weight_decay: float, momentum: float) -> float:
    """Larger root of x^2 - (1 + momentum - weight_decay * lr) x + momentum = 0 (Thm 1.1)."""
    b = 1 + momentum - weight_decay * lr
    discriminant = b * b - 4 * momentum
    if discriminant < 0:
        raise ValueError(f"no real ExpLR alpha: weight_decay * lr = {weight_decay * lr} exceeds "
                         f"(1 - sqrt(momentum))^2 = {(1 - math.sqrt(momentum)) ** 2}")
    return (b + math.sqrt(discriminant)) / 2


@dataclass(frozen=True)
class PhasedExpLR:
    """Exponentially growing LR in phases: in phase k (steps T_k <= t < T_{k+1}),

        lr_t = scale_k * alpha_k^-(2 (t - T_k) + 1) * prod_{j<k} alpha_j^-2 (T_{j+1} - T_j).

    One phase is ExpLR (lr_t = eta alpha^(-2t-1)); the phases of a step decay with
    scale_k = eta_k are TEXP (the closed form of PAPERS.md 2.9's recursion); scale_k = eta_0 is
    the TEXP++ reconstruction. Computed in logs: the LR reaches 1e12 and more.
    """

    starts: tuple[int, ...]  # first step of each phase; starts[0] = 0
    scales: tuple[float, ...]
    log_alphas: tuple[float, ...]
    log_offsets: tuple[float, ...]  # log of the growth accumulated before each phase

    def __call__(self, step: int) -> float:
        k = bisect_right(self.starts, step) - 1
        exponent = self.log_offsets[k] - (2 * (step - self.starts[k]) + 1) * self.log_alphas[k]
        return self.scales[k] * math.exp(exponent)


def phased_exp_lr(etas: list[float], starts: tuple[int, ...], weight_decay: float,
                  momentum: float, keep_decay: bool) -> PhasedExpLR:
    """The ExpLR equivalent of SGD with LR etas[k] from step starts[k] on (TEXP, or TEXP++)."""
    log_alphas = [math.log(alpha_root(eta, weight_decay, momentum)) for eta in etas]
    offsets = [0.0]
    for k in range(1, len(etas)):
        offsets.append(offsets[-1] - 2 * (starts[k] - starts[k - 1]) * log_alphas[k - 1])
    scales = etas if keep_decay else [etas[0]] * len(etas)
    return PhasedExpLR(starts, tuple(scales), tuple(log_alphas), tuple(offsets))


def _check_equivalent_run(cfg: Mapping[str, Any], base_lr: float) -> tuple[float, float]:
    """weight_decay and momentum of the equivalent run; alpha must be real and positive."""
    weight_decay, momentum = cfg["weight_decay"], cfg["momentum"]
    require(0 <= momentum < 1, f"schedule.momentum={momentum} must lie in [0, 1)")
    bound = (1 - math.sqrt(momentum)) ** 2
    require(0 <= weight_decay * base_lr <= bound and weight_decay * base_lr < 1,
            f"schedule.weight_decay={weight_decay} must lie in [0, {bound / base_lr:.4g}]: "
            f"ExpLR needs weight_decay * optimizer.lr <= (1 - sqrt(schedule.momentum))^2")
    return weight_decay, momentum


def build_exp_lr(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    weight_decay, momentum = _check_equivalent_run(cfg, base_lr)
    return phased_exp_lr([base_lr], (0,), weight_decay, momentum, keep_decay=True)


def _build_texp(cfg: Mapping[str, Any], base_lr: float, spe: int, keep_decay: bool) -> LRFunction:
    weight_decay, momentum = _check_equivalent_run(cfg, base_lr)
    gamma, milestones = check_gamma(cfg), check_milestones(cfg, spe)
    etas = [base_lr * gamma**k for k in range(len(milestones) + 1)]
    return phased_exp_lr(etas, (0, *milestones), weight_decay, momentum, keep_decay)


def build_texp(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    return _build_texp(cfg, base_lr, spe, keep_decay=True)


def build_texp_pp(cfg: Mapping[str, Any], base_lr: float, spe: int, total: int) -> LRFunction:
    """TEXP++ [reconstruction]: TEXP without its instant LR drops, so the LR grows at every step.

    The paper's exact statement is not in our sources (PAPERS.md 2.4). The reconstruction replaces
    each drop by C = eta_{k-1}/eta_k by an equivalent rescaling of the weights by sqrt(C) (and
    the momentum buffer by 1/sqrt(C)), which the training loop would have to do; the schedule
    alone only keeps TEXP's per-phase growth rates.
    """
    return _build_texp(cfg, base_lr, spe, keep_decay=False)


def weight_rescales(cfg: Mapping[str, Any], spe: int) -> dict[int, float]:
    """Step -> factor c by which the training loop multiplies the weights (and divides the
    momentum buffers) just before that step: sqrt(C) at each TEXP++ phase boundary, C the LR
    drop TEXP would make there [reconstruction, PAPERS.md 2.4]; nothing for other schedules."""
    if cfg["name"] != "texp_pp":
        return {}
    return dict.fromkeys(check_milestones(cfg, spe), math.sqrt(1 / check_gamma(cfg)))
