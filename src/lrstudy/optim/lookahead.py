"""Lookahead (Zhang et al., 2019) with the slow weights starting at theta_0.

timm's wrapper creates the slow copy at the first sync, after k fast steps, which makes that
sync a no-op and delays the method by k steps. This subclass takes the copy just before the
first fast step, as Algorithm 1 of the paper does. The copy lives in the base optimizer's state
under timm's key, so checkpoints carry it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from timm.optim import Lookahead as TimmLookahead

SLOW = "lookahead_slow_buff"


class Lookahead(TimmLookahead):
    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        base_state = self._base_optimizer.state
        start = {p: p.clone() for group in self.param_groups for p in group["params"]
                 if p.grad is not None and SLOW not in base_state[p]}
        self._base_optimizer.step()
        for p, theta0 in start.items():  # after the base step, whose lazy init wants empty state
            base_state[p][SLOW] = theta0
        for group in self.param_groups:
            group["lookahead_step"] += 1
            if group["lookahead_step"] % group["lookahead_k"] == 0:
                self.update_slow(group)
        return loss
