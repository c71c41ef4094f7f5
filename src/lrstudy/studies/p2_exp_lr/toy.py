"""P2-C7: the BN + weight-decay toy [reconstruction of the paper's Section 3; PAPERS.md 2.6].

The abstract says that gradient descent reaches the global minimum with either weight decay or BN
alone but fails to converge with both; the paper's exact statement is not in our sources. The
reconstruction: logistic regression of a last linear layer w in R^m on x ~ N(0, I_m) with labels
y = sign(x^T w*), a fraction of them flipped; full-batch GD without momentum from one w_0 on

    bn     mean softplus(-y x^T w / |w|)                   BN on the output (the population
                                                           variance of x^T w is |w|^2)
    wd     mean softplus(-y x^T w) + lambda/2 |w|^2         no BN: strongly convex
    bn_wd  mean softplus(-y x^T w / |w|) + lambda/2 |w|^2

Recorded per step: the excess loss over the setting's optimum (L-BFGS in float64) and |w|. For
bn_wd the excess is that of the scale-invariant loss, whose minimum is the objective's infimum
(approached as w -> 0 in the best direction): converging GD would drive it to 0.

Run by ``python -m lrstudy.studies.p2_exp_lr.numerics``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.optimize

SETTINGS = ("bn", "wd", "bn_wd")


@dataclass(frozen=True)
class Toy:
    dim: int = 10
    samples: int = 256
    label_noise: float = 0.1  # fraction of flipped labels: the optimum is not at infinity
    lr: float = 0.1
    weight_decay: float = 0.01
    steps: int = 12000  # bn_wd's first loss spike comes after ~2500 steps, then every ~1000
    seed: int = 0


@dataclass(frozen=True)
class Problem:
    x: np.ndarray  # (samples, dim)
    y: np.ndarray  # (samples,) in {-1, 1}
    w0: np.ndarray

    @classmethod
    def draw(cls, toy: Toy) -> Problem:
        rng = np.random.default_rng(toy.seed)
        x = rng.standard_normal((toy.samples, toy.dim))
        w_star = rng.standard_normal(toy.dim)
        flip = rng.random(toy.samples) < toy.label_noise
        return cls(x, np.where(flip, -1.0, 1.0) * np.sign(x @ w_star), rng.standard_normal(toy.dim))


def objective(setting: str, toy: Toy, p: Problem, w: np.ndarray) -> tuple[float, np.ndarray]:
    """The setting's loss and its gradient. With BN the logits are x^T u, u = w / |w|, and the
    gradient (I - u u^T) g_u / |w| is orthogonal to w (Lemma 1)."""
    norm = np.linalg.norm(w)
    bn = setting != "wd"
    margins = p.y * (p.x @ (w / norm if bn else w))
    loss = np.logaddexp(0.0, -margins).mean()
    grad = p.x.T @ (-p.y * np.exp(-np.logaddexp(0.0, margins))) / len(p.y)
    if bn:
        u = w / norm
        grad = (grad - u * (u @ grad)) / norm
    if "wd" in setting:
        loss += toy.weight_decay / 2 * w @ w
        grad = grad + toy.weight_decay * w
    return float(loss), grad


def tracked_loss(setting: str, toy: Toy, p: Problem, w: np.ndarray) -> float:
    """What must reach its minimum: the objective, except for bn_wd its scale-invariant part."""
    return objective("bn" if setting == "bn_wd" else setting, toy, p, w)[0]


def optimum(setting: str, toy: Toy, p: Problem) -> float:
    """The minimum of tracked_loss by L-BFGS (bn and bn_wd share it)."""
    target = "bn" if setting == "bn_wd" else setting
    result = scipy.optimize.minimize(lambda w: objective(target, toy, p, w), p.w0, jac=True,
                                     method="L-BFGS-B", options={"gtol": 1e-14, "ftol": 1e-16,
                                                                 "maxiter": 10000})
    return tracked_loss(target, toy, p, result.x)


def gradient_descent(setting: str, toy: Toy) -> pd.DataFrame:
    """Full-batch GD on one setting; one row per step: loss excess over the optimum, |w|."""
    p = Problem.draw(toy)
    w = p.w0.copy()
    losses, norms = [], []
    for _ in range(toy.steps):
        w = w - toy.lr * objective(setting, toy, p, w)[1]
        losses.append(tracked_loss(setting, toy, p, w))
        norms.append(float(np.linalg.norm(w)))
    best = min(optimum(setting, toy, p), *losses)  # excess >= 0 up to round-off
    return pd.DataFrame({"setting": setting, "step": range(1, toy.steps + 1),
                         "excess_loss": np.asarray(losses) - best, "w_norm": norms})


def run_toy(toy: Toy = Toy()) -> pd.DataFrame:
    return pd.concat([gradient_descent(s, toy) for s in SETTINGS], ignore_index=True)
