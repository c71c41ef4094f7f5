"""Sharpness: the top eigenvalue of the Hessian of the loss, from Hessian-vector products.

The Hessian is that of the *mean* loss over the given batches, (1/B) sum_b L_b(theta), the
quantity the warmup paper averages over 10 mini-batches (PAPERS.md 4.3). HVPs are
forward-over-reverse (``torch.func.jvp`` of ``torch.func.grad``), one batch at a time, at a detached
copy of the parameters in ``dtype`` (float64 by default: the paper's float32 solves sometimes
failed to converge), so the model itself is never modified.

Solvers: ``lanczos`` is ARPACK's implicitly restarted Lanczos (``scipy.sparse.linalg.eigsh``) for
the largest algebraic eigenvalue; ``power`` is plain power iteration (finds the eigenvalue of
largest magnitude, which is the top one unless a negative eigenvalue dominates).

The preconditioned variant takes a positive diagonal P and returns the top eigenvalue of
P^{-1/2} H P^{-1/2}, which is symmetric and has the spectrum of P^{-1} H.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from torch import Tensor, nn
from torch.func import grad, jvp

from lrstudy.measure.functional import LossFn, cast_batch, detached_state, loss_at

LANCZOS_VECTORS = 20  # ARPACK's ncv: Krylov vectors kept between restarts


@dataclass(frozen=True)
class TopEigenvalue:
    value: float  # NaN when the loss or its curvature is not finite
    hvps: int  # Hessian-vector products spent (each one costs a forward and backward per batch)
    converged: bool


class NonFiniteCurvature(ArithmeticError):
    """An HVP had non-finite entries: there is no eigenvalue to report."""


class HessianOperator:
    """v -> H v (or P^{-1/2} H P^{-1/2} v) on flat vectors, for the mean loss over ``batches``."""

    def __init__(self, model: nn.Module, loss_fn: LossFn, batches: Iterable[Any],
                 dtype: torch.dtype, precond: Mapping[str, Tensor] | None = None) -> None:
        self.model, self.loss_fn, self.dtype = model, loss_fn, dtype
        self.params, self.buffers = detached_state(model, dtype)
        self.batches = [cast_batch(b, dtype) for b in batches]
        if not self.batches:
            raise ValueError("top_hessian_eigenvalue needs at least one batch")
        self.shapes = {n: p.shape for n, p in self.params.items()}
        self.size = sum(p.numel() for p in self.params.values())
        self.device = next(iter(self.params.values())).device
        self.scale = None
        if precond is not None:
            self.scale = torch.cat([precond[n].to(dtype).reshape(-1) for n in self.params]).rsqrt()
        self.hvps = 0

    def unflatten(self, flat: Tensor) -> dict[str, Tensor]:
        parts = torch.split(flat, [math.prod(s) for s in self.shapes.values()])
        return {n: part.view(self.shapes[n]) for n, part in zip(self.shapes, parts, strict=True)}

    def __call__(self, flat: Tensor) -> Tensor:
        if self.scale is not None:
            flat = flat * self.scale
        tangent = self.unflatten(flat)
        total = torch.zeros(self.size, dtype=self.dtype, device=self.device)
        for index, batch in enumerate(self.batches):
            def batch_loss(p: dict[str, Tensor], batch: Any = batch, index: int = index) -> Tensor:
                return loss_at(self.model, p, self.loss_fn, batch, self.buffers, seed=index)

            _, hv = jvp(grad(batch_loss), (self.params,), (tangent,))
            total += torch.cat([hv[n].reshape(-1) for n in self.params])
        total /= len(self.batches)
        if self.scale is not None:
            total *= self.scale
        self.hvps += 1
        if not torch.isfinite(total).all():
            raise NonFiniteCurvature
        return total


def _lanczos(op: HessianOperator, iters: int, tol: float, seed: int) -> tuple[float, bool]:
    np_dtype = np.float64 if op.dtype == torch.float64 else np.float32

    def matvec(x: np.ndarray) -> np.ndarray:
        v = torch.as_tensor(np.ascontiguousarray(x).reshape(-1), dtype=op.dtype, device=op.device)
        return op(v).cpu().numpy()

    linear = LinearOperator((op.size, op.size), matvec=matvec, dtype=np_dtype)
    start = np.random.default_rng(seed).standard_normal(op.size).astype(np_dtype)
    try:
        values = eigsh(linear, k=1, which="LA", v0=start, ncv=min(op.size, LANCZOS_VECTORS),
                       maxiter=iters, tol=tol, return_eigenvectors=False)
    except ArpackNoConvergence as stop:
        values = stop.eigenvalues
        return (float(values[0]) if len(values) else math.nan), False
    return float(values[0]), True


def _power(op: HessianOperator, iters: int, tol: float, seed: int) -> tuple[float, bool]:
    generator = torch.Generator().manual_seed(seed)
    v = torch.randn(op.size, generator=generator, dtype=op.dtype).to(op.device)
    v /= v.norm()
    value = math.nan
    for _ in range(iters):
        w = op(v)
        previous, value = value, float(v @ w)
        if abs(value - previous) <= tol * abs(value):
            return value, True
        v = w / w.norm()
    return value, False


SOLVERS = {"lanczos": _lanczos, "power": _power}


def hessian_top_eigen(model: nn.Module, loss_fn: LossFn, batches: Iterable[Any],
                      iters: int = 100, dtype: torch.dtype = torch.float64, *,
                      precond: Mapping[str, Tensor] | None = None, method: str = "lanczos",
                      tol: float | None = None, seed: int = 0) -> TopEigenvalue:
    """Like :func:`top_hessian_eigenvalue`, also reporting the HVPs spent and convergence."""
    if method not in SOLVERS:
        raise ValueError(f"method={method!r} must be one of {sorted(SOLVERS)}")
    op = HessianOperator(model, loss_fn, batches, dtype, precond)
    if op.size < 2 and method == "lanczos":
        raise ValueError("Lanczos needs at least two parameters; use method='power'")
    tol = tol if tol is not None else (1e-9 if dtype == torch.float64 else 1e-5)
    try:
        value, converged = SOLVERS[method](op, iters, tol, seed)
    except NonFiniteCurvature:
        value, converged = math.nan, False
    return TopEigenvalue(value, op.hvps, converged)


def top_hessian_eigenvalue(model: nn.Module, loss_fn: LossFn, batches: Iterable[Any],
                           iters: int = 100, dtype: torch.dtype = torch.float64, *,
                           precond: Mapping[str, Tensor] | None = None,
                           method: str = "lanczos", tol: float | None = None,
                           seed: int = 0) -> float:
    """lambda_max of the Hessian of the mean loss over ``batches`` at the model's parameters.

    ``loss_fn(model, batch)`` follows the convention of :mod:`lrstudy.measure.functional`: it
    receives a stand-in for the model (same call signature) and returns the scalar mean loss of
    the batch. ``iters`` caps the solver: ARPACK restarts for ``lanczos`` (each restart spends at
    most 20 HVPs), HVPs for ``power``. ``tol`` is the relative accuracy (default 1e-9 in float64,
    1e-5 in float32). ``precond`` (parameter name -> positive diagonal P, same shapes) gives the
    top eigenvalue of P^{-1} H instead, e.g. Adam's preconditioned sharpness with
    :func:`lrstudy.measure.adam_preconditioner`. NaN when the curvature is not finite.
    """
    return hessian_top_eigen(model, loss_fn, batches, iters, dtype, precond=precond,
                             method=method, tol=tol, seed=seed).value
