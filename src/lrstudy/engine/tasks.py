"""Losses per task: what a batch costs and how many predictions it got right.

A model declares its ``task``; each task function maps ``(model, x, y, state)`` to a
``BatchResult`` holding the mean loss (differentiable), the number of correct predictions (or
None where accuracy is meaningless) and the number of examples/tokens counted. ``state`` is the
LSTM state a char-level model carries across consecutive batches (None for other tasks).
``batch_loss`` adapts a task to the ``loss_fn(model, batch)`` convention of lrstudy.measure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lrstudy.measure import LossFn


@dataclass
class BatchResult:
    loss: torch.Tensor
    correct: torch.Tensor | None
    count: int
    state: Any = None


def classification(model: nn.Module, x: torch.Tensor, y: torch.Tensor, state: Any,
                   loss: str = "cross_entropy", **_: Any) -> BatchResult:
    logits = model(x)
    if loss == "mse":  # 0.5 * squared error to one-hot targets, summed over classes
        target = F.one_hot(y, logits.shape[-1]).to(logits.dtype)
        value = 0.5 * (logits - target).pow(2).sum(-1).mean()
    else:
        value = F.cross_entropy(logits, y)
    return BatchResult(value, (logits.argmax(-1) == y).sum(), y.shape[0])


def vae(model: nn.Module, x: torch.Tensor, y: torch.Tensor, state: Any, **_: Any) -> BatchResult:
    """DeepOBS VAE loss: squared reconstruction error summed over pixels plus the KL term."""
    recon, mean, log_std = model(x)
    image_loss = (recon - x.reshape(recon.shape)).pow(2).flatten(1).sum(1)
    latent_loss = -0.5 * (1 + 2 * log_std - mean.pow(2) - torch.exp(2 * log_std)).sum(1)
    return BatchResult((image_loss + latent_loss).mean(), None, x.shape[0])


def char_lm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, state: Any,
            **_: Any) -> BatchResult:
    """Mean token cross-entropy; the returned state is detached (truncated BPTT)."""
    logits, state = model(x, state)
    value = F.cross_entropy(logits.flatten(0, 1), y.flatten())
    correct = (logits.argmax(-1) == y).sum()
    detached = tuple(s.detach() for s in state) if state is not None else None
    return BatchResult(value, correct, y.numel(), detached)


def quadratic(model: nn.Module, x: torch.Tensor, y: torch.Tensor, state: Any,
              hessian: torch.Tensor | None = None, **_: Any) -> BatchResult:
    """DeepOBS quadratic: mean over the batch of 0.5 (theta - x)^T Q (theta - x)."""
    residual = model(x)
    value = 0.5 * torch.einsum("bi,ij,bj->b", residual, hessian, residual).mean()
    return BatchResult(value, None, x.shape[0])


TASKS: dict[str, Callable[..., BatchResult]] = {
    "classification": classification,
    "vae": vae,
    "char_lm": char_lm,
    "quadratic": quadratic,
}


def task_options(trainer_cfg: Any, extras: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments every task function gets in a run."""
    return {"loss": trainer_cfg.loss, "hessian": extras.get("hessian")}


def batch_loss(task: str, **task_kwargs: Any) -> LossFn:
    """``loss_fn(model, (x, y))``: the task's mean loss of one batch, starting without carried
    state (sharpness measurements and the catapult search)."""
    task_fn = TASKS[task]

    def loss_fn(model: Callable[..., Any], batch: Any) -> torch.Tensor:
        x, y = batch
        return task_fn(model, x, y, None, **task_kwargs).loss

    return loss_fn


def has_accuracy(task: str) -> bool:
    return task in ("classification", "char_lm")
