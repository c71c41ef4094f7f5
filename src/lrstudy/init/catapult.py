"""The loss-catapult search for the critical LR eta_c (Kalra & Barkeshli, Algorithms 1-2).

eta_c is the smallest LR (to a tolerance delta) at which one optimizer step from the current
parameters raises the loss on a fixed batch: L(theta_1(eta)) > L_0. The search uses forward passes
only. For SGD, momentum, Nesterov, Adam(W), RAdam and GI-/RI-Adam the step is linear in the LR
given the optimizer state: theta_1(eta) = theta - eta * u. So u is computed once, by one real step
at LR 1 (times each group's lr_scale) on a copy of the model and optimizer, and every candidate
is then a forward pass at theta - eta * u (``torch.func.functional_call``): the model, the
optimizer and the RNG stream of the run are untouched. An optimizer whose step is not linear in
the LR would be searched along the wrong line; none of the options here is such.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from lrstudy.measure.functional import LossFn, frozen_rng, loss_at, trainable

MAX_BISECTIONS = 50  # the bracket then spans 2^-50 of its width: far below any useful delta


@dataclass(frozen=True)
class SearchResult:
    eta_c: float
    loss_0: float  # L(theta) on the fixed batch, the reference the candidates are compared to
    forward_passes: int  # L_0 and every candidate


def search_eta_c(loss_after_step: Callable[[float], float], loss_0: float, lr0: float,
                 target: float, growth: float = 2.0, delta: float = 0.1) -> tuple[float, int]:
    """(eta_c, loss evaluations): exponential search from lr0 (Algorithm 1), then bisection until
    the upper end raises the loss by at most delta * |L_0| (Algorithm 2). Capped at target: with
    no rise up to the target, eta_c = target. A non-finite loss counts as a rise."""
    evaluations = 0

    def loss(eta: float) -> float:
        nonlocal evaluations
        evaluations += 1
        value = loss_after_step(eta)
        return value if math.isfinite(value) else math.inf

    eta = min(lr0, target)
    value = loss(eta)
    if value >= loss_0:  # the loss rises already at the first candidate
        return eta, evaluations
    lower = eta
    while value < loss_0:
        if eta >= target:
            return target, evaluations
        lower, eta = eta, min(growth * eta, target)
        value = loss(eta)
    upper, upper_loss = eta, value
    for _ in range(MAX_BISECTIONS):
        if upper_loss <= loss_0 + delta * abs(loss_0):
            break
        middle = (lower + upper) / 2
        middle_loss = loss(middle)
        if middle_loss < loss_0:
            lower = middle
        else:
            upper, upper_loss = middle, middle_loss
    return upper, evaluations


class CatapultProbe:
    """The run's model, optimizer and one fixed batch (the first training batch): L at the
    current parameters, and the catapult search from them."""

    def __init__(self, module: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: LossFn,
                 batch: Any, grad_clip: float | None = None) -> None:
        self.module, self.optimizer, self.loss_fn = module, optimizer, loss_fn
        self.batch, self.grad_clip = batch, grad_clip

    def parameters(self) -> dict[str, Tensor]:
        return {n: p.detach() for n, p in trainable(self.module).items()}

    @torch.no_grad()
    def loss(self, params: dict[str, Tensor] | None = None) -> float:
        """L on the fixed batch at ``params`` (default: the current parameters); one forward."""
        params = self.parameters() if params is None else params
        return float(loss_at(self.module, params, self.loss_fn, self.batch))

    def step_direction(self) -> dict[str, Tensor]:
        """u with theta_1(eta) = theta - eta * u: one real step at LR 1 on a copy."""
        module, optimizer = copy.deepcopy((self.module, self.optimizer))
        before = {n: p.detach().clone() for n, p in trainable(module).items()}
        for group in optimizer.param_groups:
            group["lr"] = group.get("lr_scale", 1.0)
        optimizer.zero_grad(set_to_none=True)
        with frozen_rng(next(module.parameters()).device, seed=0):  # loss_at's dropout masks
            self.loss_fn(module, self.batch).backward()
        if self.grad_clip:
            nn.utils.clip_grad_norm_(module.parameters(), self.grad_clip)
        optimizer.step()
        return {n: before[n] - p.detach() for n, p in trainable(module).items()}

    def search(self, target: float, lr0: float, growth: float, delta: float) -> SearchResult:
        """eta_c from the current parameters and optimizer state (Algorithms 1-2)."""
        theta = self.parameters()
        u = self.step_direction()
        loss_0 = self.loss(theta)
        eta_c, evaluations = search_eta_c(
            lambda eta: self.loss({n: theta[n] - eta * u[n] for n in theta}),
            loss_0, lr0, target, growth, delta)
        return SearchResult(eta_c, loss_0, evaluations + 1)
