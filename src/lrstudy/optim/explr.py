"""Li & Arora's momentum-buffer correction for exponential-LR runs (PAPERS.md 2.3).

SGD with momentum gamma, constant LR eta and weight decay lambda on a scale-invariant network is
equivalent to SGD without weight decay whose LR grows as eta * alpha^(-2t-1), alpha the larger
root of x^2 - (1 + gamma - lambda eta) x + gamma = 0. The equivalence is exact only if the ExpLR
run's momentum buffer starts at v_0 = (alpha - 1) theta_0 / (eta alpha) (PyTorch convention)
instead of 0; with v_0 = 0 the directions drift apart by about 1e-2.
"""

from __future__ import annotations

import torch

from lrstudy.schedules.explr import alpha_root as explr_alpha


@torch.no_grad()
def init_explr_buffers(optimizer: torch.optim.SGD, weight_decay: float) -> None:
    """Start every momentum buffer at (alpha - 1) theta_0 / (eta alpha), eta the group's LR now."""
    for group in optimizer.param_groups:
        alpha = explr_alpha(group["lr"], weight_decay, group["momentum"])
        scale = (alpha - 1) / (group["lr"] * alpha)
        for p in group["params"]:
            optimizer.state[p]["momentum_buffer"] = p.detach() * scale


@torch.no_grad()
def rescale_weights(optimizer: torch.optim.Optimizer, factor: float) -> None:
    """(theta, v) -> (c theta, v / c): on a scale-invariant network, training on with the LR
    times c^2 computes the same functions (Li & Arora, Lemma 2), so an LR drop by c^2 can be
    traded for this rescaling (TEXP++)."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.mul_(factor)
            buffer = optimizer.state[p].get("momentum_buffer")
            if buffer is not None:
                buffer.div_(factor)
