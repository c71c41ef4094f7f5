"""Per-tensor weight norms and the angle each tensor turned through since the last evaluation.

``trainer.layer_stats`` writes these to layers.csv at every evaluation: on scale-invariant
networks the norm and the angular update, not the raw weights, describe training (Li & Arora's
||w||^2 / lr equilibrium, the angle curves that show TEXP and step decay move alike).
"""

from __future__ import annotations

import math

import torch
from torch import nn

LAYER_COLUMNS = ("step", "epoch", "layer", "sq_norm", "angle")
WHOLE = "all"  # the whole network: every trainable tensor, concatenated


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """Trainable weights as float64 CPU copies (angles of a few milliradians need float64)."""
    return {name: p.detach().to("cpu", torch.float64, copy=True)
            for name, p in model.named_parameters() if p.requires_grad}


def angle(a: torch.Tensor, b: torch.Tensor) -> float:
    """Angle between a and b, accurate for small angles: 2 atan2(|u - v|, |u + v|)."""
    u, v = a.flatten() / a.norm(), b.flatten() / b.norm()
    return 2 * math.atan2(float((u - v).norm()), float((u + v).norm()))


def _with_whole(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {**weights, WHOLE: torch.cat([w.flatten() for w in weights.values()])}


def layer_rows(step: int, epoch: float, now: dict[str, torch.Tensor],
               before: dict[str, torch.Tensor] | None) -> list[tuple[object, ...]]:
    """layers.csv rows: squared norm of every tensor (and of all of them), angle to ``before``
    (NaN at the first evaluation)."""
    now = _with_whole(now)
    before = _with_whole(before) if before is not None else None
    return [(step, epoch, name, float(w.pow(2).sum()),
             angle(w, before[name]) if before is not None else math.nan)
            for name, w in now.items()]
