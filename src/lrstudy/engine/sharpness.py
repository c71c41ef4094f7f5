"""Sharpness logged during training (``trainer.sharpness_every``): history.csv columns.

Every k steps, before the optimizer step, the top Hessian eigenvalue of the mean loss over the
first ``trainer.sharpness_batches`` training batches (fixed for the whole run, so the series is
smooth) at the parameters that step starts from; for Adam-family optimizers also the
preconditioned sharpness lambda_max(P^{-1} H) with P of the step about to be taken
(lrstudy.measure.precond). Each measurement ends in a host sync. The HVPs spent and the time
measured are accumulated, checkpointed and reported in metrics.json, since measuring can cost far
more than training.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import torch
from torch import nn

from lrstudy.data import TrainBatches
from lrstudy.measure import (
    LossFn,
    adam_preconditioner,
    hessian_top_eigen,
    is_adam_family,
    mean_loss_gradient,
)


def fixed_batches(batches: TrainBatches, count: int) -> list[Any]:
    """The run's first ``count`` training batches (several epochs if one is too short)."""
    stream = itertools.chain.from_iterable(batches.epoch(e) for e in itertools.count())
    return list(itertools.islice(stream, count))


class SharpnessMonitor:
    def __init__(self, trainer_cfg: Any, module: nn.Module, optimizer: torch.optim.Optimizer,
                 loss_fn: LossFn, batches: list[Any]) -> None:
        self.every = int(trainer_cfg.sharpness_every)
        self.iters = int(trainer_cfg.sharpness_iters)
        self.dtype = getattr(torch, trainer_cfg.sharpness_dtype)
        self.module, self.optimizer, self.loss_fn = module, optimizer, loss_fn
        self.batches = batches
        self.preconditioned = is_adam_family(optimizer)
        self.columns = ("sharpness", "precond_sharpness") if self.preconditioned \
            else ("sharpness",)

    def due(self, step: int) -> bool:
        return step % self.every == 0

    def measure(self, totals: dict[str, float]) -> dict[str, float]:
        """This step's values by column; adds the HVPs and seconds spent to ``totals``."""
        started = time.perf_counter()
        plain = hessian_top_eigen(self.module, self.loss_fn, self.batches, self.iters, self.dtype)
        values, hvps = {"sharpness": plain.value}, plain.hvps
        if self.preconditioned:
            grads = mean_loss_gradient(self.module, self.loss_fn, self.batches, self.dtype)
            precond = adam_preconditioner(self.module, self.optimizer, grads)
            pre = hessian_top_eigen(self.module, self.loss_fn, self.batches, self.iters,
                                    self.dtype, precond=precond)
            values["precond_sharpness"], hvps = pre.value, hvps + pre.hvps
        totals["measurements"] += 1
        totals["hvps"] += hvps
        totals["seconds"] += time.perf_counter() - started
        return values

    def summary(self, totals: dict[str, float], wall_time_s: float) -> dict[str, Any]:
        n = totals["measurements"]
        return {"every": self.every, "batches": len(self.batches),
                "columns": list(self.columns), "measurements": n, "hvps": totals["hvps"],
                "hvps_per_measurement": totals["hvps"] / n if n else None,
                "seconds": round(totals["seconds"], 3),
                "share_of_run_time": totals["seconds"] / wall_time_s if wall_time_s else None}
