"""Sharpness: exact on least squares and quadratics, equal to the dense Hessian's eigenvalue on a
tiny MLP, Adam's preconditioner as torch's Adam steps, and the history.csv columns of a run."""

from __future__ import annotations

import copy
import csv
import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from lrstudy.engine.run import run_training
from lrstudy.engine.rundir import HISTORY_COLUMNS
from lrstudy.measure import (
    adam_preconditioner,
    hessian_top_eigen,
    mean_loss_gradient,
    top_hessian_eigenvalue,
)
from lrstudy.optim.gi_adam import GIAdam


def squared_error(model, batch):
    x, y = batch
    return 0.5 * (model(x).squeeze(-1) - y).pow(2).mean()


def cross_entropy(model, batch):
    x, y = batch
    return F.cross_entropy(model(x), y)


class Quadratic(nn.Module):
    """loss = 0.5 theta^T A theta: the Hessian is A."""

    def __init__(self, a: torch.Tensor) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.randn(a.shape[0]))
        self.register_buffer("a", a)

    def forward(self, _: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.theta @ self.a @ self.theta


def quadratic_loss(model, batch):
    return model(batch)


def spd(eigenvalues: list[float], seed: int = 0) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(len(eigenvalues), len(eigenvalues),
                                       generator=torch.Generator().manual_seed(seed)))
    return q @ torch.diag(torch.tensor(eigenvalues)) @ q.T


def test_linear_least_squares_is_exact_and_averages_the_batches():
    torch.manual_seed(0)
    model = nn.Linear(6, 1, bias=False)
    x1, y1, x2, y2 = torch.randn(40, 6), torch.randn(40), torch.randn(25, 6) * 2, torch.randn(25)
    # Hessian of the mean over batches of each batch's mean loss: mean of X_b^T X_b / n_b
    hessian = (x1.double().T @ x1.double() / 40 + x2.double().T @ x2.double() / 25) / 2
    lam = top_hessian_eigenvalue(model, squared_error, [(x1, y1), (x2, y2)])
    assert lam == pytest.approx(torch.linalg.eigvalsh(hessian)[-1].item(), rel=1e-10)


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_quadratic_gives_its_top_eigenvalue(method):
    torch.manual_seed(0)
    model = Quadratic(spd([5.0, 3.0, 1.0, 0.5, -0.2, 0.1]))
    result = hessian_top_eigen(model, quadratic_loss, [torch.zeros(1)], iters=500, method=method)
    assert result.converged and result.value == pytest.approx(5.0, rel=1e-8)
    assert result.hvps > 0


def _dense_hessian(model: nn.Module, loss_fn, batches) -> torch.Tensor:
    model64 = copy.deepcopy(model).double()
    names = [n for n, _ in model64.named_parameters()]
    shapes = [p.shape for _, p in model64.named_parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model64.parameters()])

    def mean_loss(vector):
        parts = torch.split(vector, [math.prod(s) for s in shapes])
        params = {n: t.view(s) for n, t, s in zip(names, parts, shapes, strict=True)}
        losses = [loss_fn(lambda x: functional_call(model64, params, (x.double(),)), b)
                  for b in batches]
        return sum(losses) / len(losses)

    return torch.autograd.functional.hessian(mean_loss, flat)


def _tiny_mlp_and_batches():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    batches = [(torch.randn(16, 5), torch.randint(0, 3, (16,))) for _ in range(3)]
    return model, batches


def test_tiny_mlp_matches_the_dense_hessian_and_leaves_the_model_alone():
    model, batches = _tiny_mlp_and_batches()
    before = copy.deepcopy(model.state_dict())
    rng = torch.get_rng_state()
    dense = torch.linalg.eigvalsh(_dense_hessian(model, cross_entropy, batches))[-1].item()
    assert top_hessian_eigenvalue(model, cross_entropy, batches) == pytest.approx(dense, rel=1e-6)
    assert top_hessian_eigenvalue(model, cross_entropy, batches, dtype=torch.float32) == \
        pytest.approx(dense, rel=1e-3)
    assert all(torch.equal(v, before[k]) and v.dtype == torch.float32
               for k, v in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)


def test_batchnorm_and_dropout_give_a_deterministic_loss_and_keep_their_buffers():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(8, 2))
    batches = [(torch.randn(10, 4), torch.randint(0, 2, (10,)))]
    stats = model[1].running_mean.clone()
    first = top_hessian_eigenvalue(model, cross_entropy, batches)
    assert top_hessian_eigenvalue(model, cross_entropy, batches) == first
    assert torch.equal(model[1].running_mean, stats) and model[1].num_batches_tracked == 0


def test_non_finite_loss_gives_nan():
    model = Quadratic(spd([1.0, 2.0]))
    with torch.no_grad():
        model.theta.fill_(math.inf)
    assert math.isnan(top_hessian_eigenvalue(model, quadratic_loss, [torch.zeros(1)]))


def _after_adam_steps(optimizer_cls, steps: int):
    model, batches = _tiny_mlp_and_batches()
    optimizer = optimizer_cls(model.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    for step in range(steps):
        optimizer.zero_grad()
        cross_entropy(model, batches[step % len(batches)]).backward()
        optimizer.step()
    return model, optimizer, batches


def test_preconditioner_is_that_of_torchs_next_adam_step():
    model, optimizer, batches = _after_adam_steps(torch.optim.Adam, steps=3)
    grads = mean_loss_gradient(model, cross_entropy, batches)
    precond = adam_preconditioner(model, optimizer, grads)
    # the next real step with this gradient moves theta by -lr * m_{t+1} / P
    momenta = {n: 0.9 * optimizer.state[p]["exp_avg"].double() + 0.1 * grads[n]
               for n, p in model.named_parameters()}
    before = {n: p.detach().double().clone() for n, p in model.named_parameters()}
    for name, p in model.named_parameters():
        p.grad = grads[name].float()
    optimizer.step()
    for name, p in model.named_parameters():
        expected = -0.01 * momenta[name] / precond[name]
        assert torch.allclose(p.detach().double() - before[name], expected, rtol=1e-4,
                              atol=1e-9)


def test_preconditioned_sharpness_matches_the_dense_symmetric_form():
    model, optimizer, batches = _after_adam_steps(torch.optim.Adam, steps=4)
    precond = adam_preconditioner(model, optimizer,
                                  mean_loss_gradient(model, cross_entropy, batches))
    scale = torch.cat([precond[n].reshape(-1) for n, _ in model.named_parameters()]).rsqrt()
    hessian = _dense_hessian(model, cross_entropy, batches)
    dense = torch.linalg.eigvalsh(scale[:, None] * hessian * scale[None, :])[-1].item()
    ours = top_hessian_eigenvalue(model, cross_entropy, batches, precond=precond)
    assert ours == pytest.approx(dense, rel=1e-6)
    assert ours > 10 * top_hessian_eigenvalue(model, cross_entropy, batches)


def test_gi_adam_lowers_the_initial_preconditioned_sharpness_by_sqrt_one_minus_beta2():
    values = {}
    for cls in (torch.optim.Adam, GIAdam):
        model, optimizer, batches = _after_adam_steps(cls, steps=0)
        precond = adam_preconditioner(model, optimizer,
                                      mean_loss_gradient(model, cross_entropy, batches))
        values[cls] = top_hessian_eigenvalue(model, cross_entropy, batches, precond=precond)
    assert values[GIAdam] / values[torch.optim.Adam] == pytest.approx(math.sqrt(1e-3), rel=1e-3)


def _history(path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_sharpness_every_writes_history_columns_and_its_cost(make_cfg, tmp_path, optimizer):
    cfg = make_cfg(f"optimizer={optimizer}", "model.width=32", "trainer.max_steps=5",
                   "trainer.sharpness_every=2", "trainer.sharpness_batches=2",
                   "trainer.eval_at_start=false")
    run_training(cfg, tmp_path)
    rows = _history(tmp_path / "history.csv")
    extra = ["sharpness"] + (["precond_sharpness"] if optimizer == "adam" else [])
    assert list(rows[0]) == [*HISTORY_COLUMNS, *extra]
    for row in rows:
        measured = int(row["step"]) % 2 == 0
        assert all((row[c] != "") == measured for c in extra)
        assert all(float(row[c]) > 0 for c in extra if measured)
    cost = json.loads((tmp_path / "metrics.json").read_text())["sharpness"]
    assert cost["measurements"] == 3 and cost["hvps_per_measurement"] >= 1
    assert 0 < cost["share_of_run_time"] < 1
    if optimizer == "adam":  # Adam's preconditioned sharpness is far above the plain one
        assert float(rows[0]["precond_sharpness"]) > 10 * float(rows[0]["sharpness"])
