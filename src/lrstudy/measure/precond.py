"""Adam's diagonal preconditioner, for the preconditioned sharpness lambda_max(P^{-1} H).

P is the preconditioner of the *next* Adam step at the optimizer's current state, as in the
warmup paper's code (PAPERS.md 4.2, ``compute_Pdiag``): the second moment is first advanced with
the gradient g at the measured point, then

    P = (1 - beta1^t) * (sqrt(v_t / (1 - beta2^t)) + eps) / lr_scale

so that Adam's step is exactly -lr * m_t / P (torch's update, bias correction of m folded in).
The hypothetical step is taken by a copy of the optimizer at LR 0, so GI-Adam's and RI-Adam's
v_0 (set on their first step) and coupled weight decay enter exactly as the real next step would
see them, and the real optimizer is not touched. ``lr_scale`` (per-layer multipliers, e.g. muP)
is folded in so that the threshold (2 + 2 beta1) / (eta (1 - beta1)) uses the schedule's eta.
Using v_t before the advance (Eq. 6 as transcribed) would leave P undefined at initialisation,
where the paper reports lambda^{P^-1 H}_0.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from lrstudy.measure.functional import trainable

ADAM_FAMILY = (torch.optim.Adam, torch.optim.AdamW, torch.optim.NAdam, torch.optim.RAdam)


def _inner(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """timm's Lookahead keeps the wrapped optimizer (and its state) in ``_base_optimizer``."""
    return getattr(optimizer, "_base_optimizer", optimizer)


def is_adam_family(optimizer: torch.optim.Optimizer) -> bool:
    """Adam and the optimizers that share its preconditioner (AdamW, NAdam, RAdam, GI-Adam, ...)."""
    return isinstance(_inner(optimizer), ADAM_FAMILY)


@torch.no_grad()
def adam_preconditioner(model: nn.Module, optimizer: torch.optim.Optimizer,
                        grads: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """P of the next step (see the module docstring), by parameter name, in the grads' dtype."""
    if not is_adam_family(optimizer):
        raise TypeError(f"{type(optimizer).__name__} has no Adam preconditioner")
    model_copy, opt_copy = copy.deepcopy((model, optimizer))
    params = trainable(model_copy)
    names = {id(p): name for name, p in params.items()}
    for name, p in params.items():
        p.grad = grads[name].to(p.dtype)
    for group in opt_copy.param_groups:
        group["lr"] = 0.0
    opt_copy.step()
    state, result = _inner(opt_copy).state, {}
    for group in opt_copy.param_groups:
        beta1, beta2 = group["betas"]
        scale = group.get("lr_scale", 1.0)
        for p in group["params"]:
            name, s = names[id(p)], state[p]
            t = float(s["step"])
            v = s["max_exp_avg_sq"] if group.get("amsgrad") else s["exp_avg_sq"]
            v = v.to(grads[name].dtype)
            result[name] = (1 - beta1**t) * ((v / (1 - beta2**t)).sqrt() + group["eps"]) / scale
    return result
