"""P2-C1, C5, C6: fixed LR + weight decay and its exponential-LR equivalents train the same
functions (Li & Arora, Thm 1.1; PAPERS.md 2.3, 2.4).

Run by ``python -m lrstudy.studies.p2_exp_lr.numerics`` on
conf/experiment/p2_exp_lr/equivalence.yaml.

Each case runs a reference and its equivalents in lockstep, in float64, on identical batches and
from identical initial weights, on a scale-invariant PreResNet (norm layers without affine
parameters, frozen last layer):

    reference    SGD(lr, momentum, weight_decay) under the case's schedule (constant or cosine)
    corrected    SGD(momentum) without weight decay under the equivalent exponential LR, momentum
                 buffer started at (alpha - 1) theta_0 / (lr alpha) (optimizer.explr_weight_decay)
    uncorrected  the same with the buffer started at 0

Cases: one per norm type (study.norms) with the norm layers' eps at study.norm_eps; batch norm
with PyTorch's default eps; and a cosine reference against its exact exponential counterpart.
After every step we record the deviation, the max over trainable tensors w of
|| w/|w| - w~/|w~| ||, and the scale error |theta~| / |theta| / s - 1 against the predicted scale s
(alpha^-t for ExpLR).

Exact scale invariance needs eps -> 0: a norm layer computes x / sqrt(var + eps), which changes
when the weights before it are scaled. BatchNorm refuses eps = 0 in training, hence a tiny eps.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from lrstudy.data import load_data, make_train_batches
from lrstudy.engine.run import apply_profile, count_steps
from lrstudy.engine.tasks import classification
from lrstudy.engine.validate import validate_config
from lrstudy.models import build_model
from lrstudy.optim import build_optimizer, explr_alpha
from lrstudy.schedules import build_schedule

COLUMNS = ("case", "data", "model", "norm", "eps", "schedule", "variant", "step", "deviation",
           "scale_error")


@dataclass(frozen=True)
class Case:
    name: str
    norm: str
    eps: float | None  # None: the norm layers keep PyTorch's default
    schedule: str  # the reference's schedule: constant (against exp_lr) or cosine
    variants: tuple[str, ...]


def cases(study: DictConfig) -> list[Case]:
    both = ("corrected", "uncorrected")
    return [*(Case(norm, norm, study.norm_eps, "constant", both) for norm in study.norms),
            Case("batch_default_eps", "batch", None, "constant", ("corrected",)),
            Case("batch_cosine", "batch", study.norm_eps, "cosine", ("corrected",))]


def exponential_counterpart(lrs: Sequence[float], weight_decay: float,
                            momentum: float) -> tuple[list[float], list[float]]:
    """The no-weight-decay LRs equivalent to SGD with LRs ``lrs`` and weight decay, for any
    schedule (PAPERS.md 2.4's exact variant), and the predicted scale |theta~|/|theta| after each
    step. With r_t = lr_t / lr_{t-1}:

        a_t = 1 + r_t momentum - lr_t weight_decay - r_t momentum / a_{t-1},   c_t = c_{t-1} / a_t
        lr~_t = lr_t c_{t-1} c_t

    started at a_{-1} = alpha(lr_0), c_{-1} = 1, lr_{-1} = lr_0; it needs the same momentum
    buffer correction as ExpLR, and on a constant LR it is ExpLR (lr alpha^(-2t-1)). Derived from
    theta~_t = c_{t-1} theta_t and checked to float64 precision on the scale-invariant toy of
    tests/test_schedules.py; the initial values are ours (PAPERS.md: not stated).
    """
    a_prev, c_prev, lr_prev = explr_alpha(lrs[0], weight_decay, momentum), 1.0, lrs[0]
    equivalent, scales = [], []
    for lr in lrs:
        r = lr / lr_prev
        a = 1 + r * momentum - lr * weight_decay - r * momentum / a_prev
        c = c_prev / a
        equivalent.append(lr * c_prev * c)
        scales.append(c)
        a_prev, c_prev, lr_prev = a, c, lr
    return equivalent, scales


@dataclass
class Trajectory:
    variant: str
    model: nn.Module
    optimizer: torch.optim.Optimizer
    lrs: list[float]
    scales: list[float]  # predicted |theta~| / |theta| after each step (reference: 1)

    @property
    def weights(self) -> list[torch.Tensor]:
        return [p.detach() for p in self.model.parameters() if p.requires_grad]

    def step(self, t: int, x: torch.Tensor, y: torch.Tensor) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.lrs[t]
        self.optimizer.zero_grad(set_to_none=True)
        classification(self.model, x, y, None).loss.backward()
        self.optimizer.step()


def deviation(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> float:
    """max over tensors of || a/|a| - b/|b| ||: per-layer directions, what the network computes
    up to the scale it is invariant to."""
    return max(float((u / u.norm() - v / v.norm()).norm()) for u, v in zip(a, b, strict=True))


def _norm(weights: Sequence[torch.Tensor]) -> float:
    return math.sqrt(sum(float(w.pow(2).sum()) for w in weights))


def scale_invariant_model(cfg: DictConfig, case: Case, spec: Any) -> nn.Module:
    model_cfg = OmegaConf.merge(cfg.model, {"norm": case.norm})
    torch.manual_seed(cfg.seed)
    model = build_model(model_cfg, spec)
    for module in model.modules():
        if case.eps is not None and isinstance(module, nn.BatchNorm2d | nn.GroupNorm):
            module.eps = case.eps
    return model.to(torch.float64)


def schedules(case: Case, cfg: DictConfig, spe: int,
              total: int) -> tuple[list[float], list[float], list[float]]:
    """Per step: the reference's LR, its exponential equivalent's, and the predicted
    |theta~| / |theta| after the step."""
    lr, momentum = cfg.optimizer.lr, cfg.optimizer.momentum
    weight_decay = cfg.optimizer.weight_decay
    reference = build_schedule({"name": case.schedule, "min_lr": 0.0}, lr, spe, total)
    reference_lrs = [reference(t) for t in range(total)]
    if case.schedule != "constant":
        return reference_lrs, *exponential_counterpart(reference_lrs, weight_decay, momentum)
    exp_lr = build_schedule({"name": "exp_lr", "weight_decay": weight_decay,
                             "momentum": momentum}, lr, spe, total)
    alpha = explr_alpha(lr, weight_decay, momentum)
    return reference_lrs, [exp_lr(t) for t in range(total)], [alpha ** -(t + 1)
                                                              for t in range(total)]


def trajectories(case: Case, cfg: DictConfig, spec: Any, spe: int,
                 total: int) -> list[Trajectory]:
    """The reference first, then its equivalents, all from the same initial weights."""
    reference_lrs, lrs, scales = schedules(case, cfg, spe, total)
    model = scale_invariant_model(cfg, case, spec)
    runs = [Trajectory("reference", model, build_optimizer(cfg.optimizer, _trainable(model)),
                       reference_lrs, [1.0] * total)]
    for variant in case.variants:
        twin = copy.deepcopy(model)
        optimizer_cfg = OmegaConf.merge(cfg.optimizer, {
            "weight_decay": 0.0,
            "explr_weight_decay": cfg.optimizer.weight_decay if variant == "corrected" else 0.0})
        runs.append(Trajectory(variant, twin, build_optimizer(optimizer_cfg, _trainable(twin)),
                               lrs, scales))
    return runs


def run_case(cfg_container: dict[str, Any], case: Case) -> pd.DataFrame:
    """One case's trajectories in lockstep; one row per equivalent and step."""
    torch.set_num_threads(1)
    cfg = OmegaConf.create(cfg_container)
    data = load_data(cfg.data, Path(cfg.paths.data), torch.device("cpu"), torch.float64)
    batches = make_train_batches(data, cfg.data, cfg.seed, torch.float64)
    spe = batches.steps_per_epoch
    total = count_steps(cfg, spe)
    reference, *others = trajectories(case, cfg, data.spec, spe, total)
    eps = "default" if case.eps is None else f"{case.eps:g}"
    where = (f"{cfg.data.name}, {total} steps of {cfg.data.batch_size}, float64",
             f"preresnet{cfg.model.depth} w{cfg.model.width} ({case.norm} norm, eps {eps})")
    rows = []
    for t in range(total):
        x, y = next(batches.epoch(t // spe, t % spe))
        for trajectory in (reference, *others):
            trajectory.step(t, x, y)
        for other in others:
            ratio = _norm(other.weights) / _norm(reference.weights)
            rows.append((case.name, *where, case.norm, case.eps, case.schedule, other.variant,
                         t + 1, deviation(reference.weights, other.weights),
                         ratio / other.scales[t] - 1))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _trainable(model: nn.Module) -> list[torch.Tensor]:
    return [p for p in model.parameters() if p.requires_grad]


def run_equivalence(cfg: DictConfig, jobs: int = 1) -> pd.DataFrame:
    """Every case of the experiment ``cfg`` (composed), ``jobs`` cases at a time."""
    cfg = apply_profile(cfg)
    validate_config(cfg)
    container = OmegaConf.to_container(cfg, resolve=True)
    todo = cases(cfg.study)
    if jobs <= 1:
        frames = [run_case(container, case) for case in todo]
    else:  # spawned workers: torch's thread pools do not survive a fork
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            frames = list(pool.map(run_case, [container] * len(todo), todo))
    return pd.concat(frames, ignore_index=True)
