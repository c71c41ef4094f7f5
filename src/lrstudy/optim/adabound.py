"""AdaBound and AMSBound (Luo et al., ICLR 2019), which no well-kept library ships.

The update follows the authors' reference implementation (github.com/Luolc/AdaBound), which is
what the benchmark's TensorFlow port and later papers use, rather than the paper's Algorithm 2:
Adam's bias-corrected step size lr sqrt(1 - beta2^t) / (1 - beta1^t) / (sqrt(v_t) + eps), with
eps on the uncorrected sqrt(v_t), is clipped per coordinate to

    [final_lr (1 - 1 / (gamma t + 1)),  final_lr (1 + 1 / (gamma t))]

and multiplies m_t. The bounds close in on SGD with LR final_lr. final_lr follows the LR
schedule (final_lr * lr / base_lr, base_lr the group's LR at construction), as in the reference.
Weight decay is coupled L2. AMSBound uses max_s v_s in place of v_t.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch


class AdaBound(torch.optim.Optimizer):
    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), final_lr: float = 0.1,
                 gamma: float = 1e-3, eps: float = 1e-8, weight_decay: float = 0.0,
                 amsbound: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "final_lr": final_lr, "gamma": gamma, "eps": eps,
                    "weight_decay": weight_decay, "amsbound": amsbound}
        super().__init__(params, defaults)
        for group in self.param_groups:
            if group["lr"] <= 0:
                raise ValueError(f"AdaBound needs a positive initial LR, got {group['lr']}")
            group.setdefault("base_lr", group["lr"])

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            final_lr = group["final_lr"] * group["lr"] / group["base_lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if group["weight_decay"]:
                    grad = grad.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if group["amsbound"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                exp_avg, second = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                second.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if group["amsbound"]:
                    second = torch.maximum(state["max_exp_avg_sq"], second,
                                           out=state["max_exp_avg_sq"])
                step_size = group["lr"] * math.sqrt(1 - beta2**t) / (1 - beta1**t)
                lower = final_lr * (1 - 1 / (group["gamma"] * t + 1))
                upper = final_lr * (1 + 1 / (group["gamma"] * t))
                bounded = (step_size / (second.sqrt() + group["eps"])).clamp_(lower, upper)
                p.addcmul_(bounded, exp_avg, value=-1)
        return loss
