"""Schedules against torch's reference schedulers and against the formulas by hand."""

import importlib.util
import math
import pickle
import subprocess
import sys
from itertools import pairwise

import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from conftest import CONF, ROOT
from lrstudy.config import SCHEMAS
from lrstudy.errors import ConfigError
from lrstudy.init import build_lr_schedule
from lrstudy.schedules import SCHEDULES, build_schedule


def torch_lrs(make_scheduler, steps: int, base_lr: float) -> list[float]:
    """The LR torch applies at each of `steps` optimizer steps (scheduler.step() after each)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return lrs


def sched(name: str, **params):
    return OmegaConf.create({"name": name, "granularity": "step", **params})


def test_constant_is_base_lr_everywhere():
    lr_at = build_schedule(sched("constant"), base_lr=0.3, steps_per_epoch=7, total_steps=50)
    assert {lr_at(s) for s in range(50)} == {0.3}


@pytest.mark.parametrize("min_lr", [0.0, 1e-3])
def test_cosine_matches_torch_cosine_annealing(min_lr):
    total = 3000
    lr_at = build_schedule(sched("cosine", min_lr=min_lr), 0.1, steps_per_epoch=30,
                           total_steps=total)
    reference = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
        o, T_max=total, eta_min=min_lr), total, 0.1)
    assert max(abs(lr_at(s) - r) for s, r in enumerate(reference)) < 1e-12


def test_cosine_matches_timm_cosine_scheduler():
    from timm.scheduler import CosineLRScheduler

    total = 2000
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    timm_sched = CosineLRScheduler(opt, t_initial=total, lr_min=1e-4, t_in_epochs=False)
    lr_at = build_schedule(sched("cosine", min_lr=1e-4), 0.1, steps_per_epoch=20,
                           total_steps=total)
    for step in range(total):
        timm_sched.step_update(step)
        assert lr_at(step) == pytest.approx(opt.param_groups[0]["lr"], abs=1e-12)


def test_epoch_granularity_holds_the_epoch_start_value():
    spe, epochs = 13, 40
    lr_at = build_schedule(sched("cosine", min_lr=0.0, granularity="epoch"), 0.1, spe, spe * epochs)
    reference = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
        o, T_max=spe * epochs), spe * epochs, 0.1)
    for step in range(spe * epochs):
        assert lr_at(step) == pytest.approx(reference[step - step % spe], abs=1e-12)


# Hand computations from the formula, PAPERS.md 1.2 (eta_max 0.1, eta_min 0.001, T_i = 10):
# reading A (B = min_lr, with |.|) and reading B (B = 1/min_lr) at T_cur = 1, 3, 5, 10 epochs.
@pytest.mark.parametrize(("base", "t_cur", "expected"), [
    ("min_lr", 1, 0.0258), ("min_lr", 3, 0.0337), ("min_lr", 5, 0.0373), ("min_lr", 10, 0.0423),
    ("inv_min_lr", 1, 0.0752), ("inv_min_lr", 3, 0.0673), ("inv_min_lr", 5, 0.0637),
    ("inv_min_lr", 10, 0.0587),
])
def test_log_anneal_matches_the_papers_table(base, t_cur, expected):
    # one step per epoch, so T_cur (which starts at 1 step) equals t_cur when step = t_cur - 1
    lr_at = build_schedule(sched("log_anneal", t0_epochs=10, t_mult=1.0, min_lr=1e-3, base=base,
                                 clip=False), 0.1, steps_per_epoch=1, total_steps=100)
    assert lr_at(t_cur - 1) == pytest.approx(expected, abs=6e-5)


def test_log_anneal_formula_at_chosen_steps_with_restarts():
    spe, base_lr, min_lr = 50, 0.1, 1e-3
    cfg = sched("log_anneal", t0_epochs=2, t_mult=2.0, min_lr=min_lr, base="inv_min_lr",
                clip=False)
    lr_at = build_schedule(cfg, base_lr, spe, total_steps=2000)

    def by_hand(t_i_steps, t_cur_steps):
        log_term = math.log(math.pi * t_i_steps / t_cur_steps) / math.log(1 / min_lr)
        return abs(min_lr + 0.5 * (base_lr - min_lr) * (1 + log_term))

    # cycle 0: steps [0, 100), cycle 1: [100, 300), cycle 2: [300, 700)
    for step, t_i, t_cur in [(0, 100, 1), (57, 100, 58), (99, 100, 100), (100, 200, 1),
                             (299, 200, 200), (300, 400, 1), (650, 400, 351)]:
        assert lr_at(step) == pytest.approx(by_hand(t_i, t_cur), rel=1e-12)


def test_log_anneal_clip_and_restart_spike():
    cfg = sched("log_anneal", t0_epochs=10, t_mult=1.0, min_lr=1e-3, base="inv_min_lr", clip=True)
    lr_at = build_schedule(cfg, 0.1, steps_per_epoch=100, total_steps=3000)
    values = [lr_at(s) for s in range(3000)]
    assert max(values) == 0.1 and min(values) >= 1e-3
    assert lr_at(1000) == 0.1 > lr_at(999)  # harsh restart back to the top
    assert lr_at(999) > 0.5 * 0.1  # as written it never anneals down to min_lr


@pytest.mark.parametrize(("params", "key"), [
    ({"name": "cosine", "min_lr": 0.5}, "schedule.min_lr"),
    ({"name": "log_anneal", "t0_epochs": 0, "t_mult": 2.0, "min_lr": 1e-3, "base": "min_lr",
      "clip": True}, "schedule.t0_epochs"),
    ({"name": "log_anneal", "t0_epochs": 1, "t_mult": 2.0, "min_lr": 1e-3, "base": "ln",
      "clip": True}, "schedule.base"),
    ({"name": "nope"}, "schedule='nope'"),
])
def test_invalid_schedule_parameters_name_the_key(params, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        build_schedule(sched(**params), 0.1, steps_per_epoch=10, total_steps=100)


def test_linear_warmup_then_schedule_from_its_start():
    init = OmegaConf.create({"name": "linear_warmup", "warmup_steps": 10, "warmup_epochs": 0.0,
                             "init_lr": 0.0})
    lr_at = build_lr_schedule(sched("cosine", min_lr=0.0), init, 0.2, steps_per_epoch=10,
                              total_steps=110)
    assert [lr_at(s) for s in range(0, 11, 5)] == pytest.approx([0.0, 0.1, 0.2])
    assert lr_at(110 - 1) == pytest.approx(0.2 * 0.5 * (1 + math.cos(math.pi * 99 / 100)))


def test_linear_warmup_matches_timm_warmup_prefix():
    from timm.scheduler import CosineLRScheduler

    warm, total = 50, 1000
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    timm_sched = CosineLRScheduler(opt, t_initial=total - warm, lr_min=0.0, warmup_t=warm,
                                   warmup_lr_init=1e-3, warmup_prefix=True, t_in_epochs=False)
    init = OmegaConf.create({"name": "linear_warmup", "warmup_steps": warm, "warmup_epochs": 0.0,
                             "init_lr": 1e-3})
    lr_at = build_lr_schedule(sched("cosine", min_lr=0.0), init, 0.1, 10, total)
    for step in range(total):
        timm_sched.step_update(step)
        assert lr_at(step) == pytest.approx(opt.param_groups[0]["lr"], abs=1e-12)


# --- every schedule of the issue ------------------------------------------------------------

SCHEDULE_OPTIONS = sorted(path.stem for path in (CONF / "schedule").glob("*.yaml"))
SPE = 30  # steps per epoch of the step-level golden tests
TOTAL = 3000


def defaults(name: str, **params):
    """A schedule node with the schema defaults of ``name`` and ``params`` on top."""
    schema = SCHEMAS["schedule"][{"constant": "base", "texp_pp": "texp"}.get(name, name)]
    return OmegaConf.merge(OmegaConf.structured(schema), {"name": name, **params})


def lrs(lr_at, steps: int) -> list[float]:
    return [lr_at(s) for s in range(steps)]


def torch_epoch_lrs(make_scheduler, epochs: int, spe: int, base_lr: float) -> list[float]:
    """The LR at each optimizer step when torch's scheduler is stepped once per epoch."""
    return [lr for lr in torch_lrs(make_scheduler, epochs, base_lr) for _ in range(spe)]


@pytest.mark.parametrize("granularity", ["step", "epoch"])
def test_step_matches_torch_steplr(granularity):
    lr_at = build_schedule(defaults("step", step_epochs=7, gamma=0.5, granularity=granularity),
                           0.1, SPE, TOTAL)
    if granularity == "step":
        reference = torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(
            o, step_size=7 * SPE, gamma=0.5), TOTAL, 0.1)
    else:
        reference = torch_epoch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(
            o, step_size=7, gamma=0.5), TOTAL // SPE, SPE, 0.1)
    assert lrs(lr_at, TOTAL) == pytest.approx(reference, rel=1e-12)


@pytest.mark.parametrize("granularity", ["step", "epoch"])
def test_multistep_matches_torch_multisteplr(granularity):
    milestones = [20, 50, 80]
    lr_at = build_schedule(defaults("multistep", milestones_epochs=milestones, gamma=0.1,
                                    granularity=granularity), 0.1, SPE, TOTAL)
    if granularity == "step":
        reference = torch_lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(
            o, milestones=[m * SPE for m in milestones], gamma=0.1), TOTAL, 0.1)
    else:
        reference = torch_epoch_lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(
            o, milestones=milestones, gamma=0.1), TOTAL // SPE, SPE, 0.1)
    assert lrs(lr_at, TOTAL) == pytest.approx(reference, rel=1e-12)


@pytest.mark.parametrize("granularity", ["step", "epoch"])
def test_exponential_matches_torch_exponentiallr(granularity):
    gamma = 0.95  # per epoch
    lr_at = build_schedule(defaults("exponential", gamma=gamma, granularity=granularity), 0.1,
                           SPE, TOTAL)
    if granularity == "step":
        reference = torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(
            o, gamma=gamma ** (1 / SPE)), TOTAL, 0.1)
    else:
        reference = torch_epoch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(
            o, gamma=gamma), TOTAL // SPE, SPE, 0.1)
    assert lrs(lr_at, TOTAL) == pytest.approx(reference, rel=1e-10)


@pytest.mark.parametrize("min_lr", [0.0, 1e-3])
def test_linear_matches_torch_linearlr(min_lr):
    lr_at = build_schedule(defaults("linear", min_lr=min_lr), 0.1, SPE, TOTAL)
    reference = torch_lrs(lambda o: torch.optim.lr_scheduler.LinearLR(
        o, start_factor=1.0, end_factor=min_lr / 0.1, total_iters=TOTAL), TOTAL, 0.1)
    assert lrs(lr_at, TOTAL) == pytest.approx(reference, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("power", [0.5, 1.0, 2.0])
def test_polynomial_matches_torch_polynomiallr(power):
    lr_at = build_schedule(defaults("polynomial", power=power, min_lr=0.0), 0.1, SPE, TOTAL)
    reference = torch_lrs(lambda o: torch.optim.lr_scheduler.PolynomialLR(
        o, total_iters=TOTAL, power=power), TOTAL, 0.1)
    assert lrs(lr_at, TOTAL) == pytest.approx(reference, rel=1e-9, abs=1e-15)


def test_polynomial_with_min_lr_matches_timm_poly_scheduler():
    from timm.scheduler import PolyLRScheduler

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    timm_sched = PolyLRScheduler(opt, t_initial=TOTAL, power=2.0, lr_min=1e-4, t_in_epochs=False)
    lr_at = build_schedule(defaults("polynomial", power=2.0, min_lr=1e-4), 0.1, SPE, TOTAL)
    for step in range(TOTAL):
        timm_sched.step_update(step)
        assert lr_at(step) == pytest.approx(opt.param_groups[0]["lr"], abs=1e-12)


@pytest.mark.parametrize(("t_mult", "min_lr"), [(1, 0.0), (2, 1e-4), (3, 0.0)])
def test_cosine_wr_matches_torch_warm_restarts(t_mult, min_lr):
    lr_at = build_schedule(defaults("cosine_wr", t0_epochs=10, t_mult=float(t_mult),
                                    min_lr=min_lr), 0.1, SPE, TOTAL)
    reference = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=10 * SPE, T_mult=t_mult, eta_min=min_lr), TOTAL, 0.1)
    assert lrs(lr_at, TOTAL) == pytest.approx(reference, abs=1e-12)


def test_cosine_wr_matches_timm_cosine_scheduler_with_cycles():
    from timm.scheduler import CosineLRScheduler

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    timm_sched = CosineLRScheduler(opt, t_initial=10 * SPE, cycle_mul=2.0, lr_min=1e-4,
                                   cycle_limit=10, t_in_epochs=False)
    lr_at = build_schedule(defaults("cosine_wr", t0_epochs=10, t_mult=2.0, min_lr=1e-4), 0.1,
                           SPE, TOTAL)
    for step in range(TOTAL):
        timm_sched.step_update(step)
        assert lr_at(step) == pytest.approx(opt.param_groups[0]["lr"], abs=1e-12)


@pytest.mark.parametrize(("pct", "strategy", "three_phase", "div", "final_div", "total"), [
    (0.3, "cos", False, 25.0, 1e4, 3000),
    (0.25, "linear", True, 10.0, 100.0, 2999),
    (0.45, "cos", True, 25.0, 1e4, 1001),
    (0.1, "linear", False, 5.0, 1e3, 2000),
])
def test_onecycle_matches_torch_onecyclelr(pct, strategy, three_phase, div, final_div, total):
    cfg = defaults("onecycle", pct_start=pct, anneal_strategy=strategy, three_phase=three_phase,
                   div_factor=div, final_div_factor=final_div)
    lr_at = build_schedule(cfg, 0.1, SPE, total)
    reference = torch_lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.1, total_steps=total, pct_start=pct, anneal_strategy=strategy,
        div_factor=div, final_div_factor=final_div, three_phase=three_phase,
        cycle_momentum=False), total, 0.1)
    assert lrs(lr_at, total) == pytest.approx(reference, abs=1e-12)
    assert lr_at(total + 5) == lr_at(total - 1)  # past the run: held, never rising again


# DeepOBS per-epoch schedules (PAPERS.md 5.5): the factor f(e) multiplies the base LR in epoch e.
def epoch_factors(name: str, epochs: int, spe: int = 3, **params) -> list[float]:
    lr_at = build_schedule(defaults(name, granularity="epoch", **params), 0.2, spe, epochs * spe)
    values = [lr_at(s) / 0.2 for s in range(epochs * spe)]
    assert all(values[e * spe:(e + 1) * spe] == [values[e * spe]] * spe for e in range(epochs))
    return values[::spe]


def test_cosine_per_epoch_is_the_deepobs_cosine_factor():
    factors = epoch_factors("cosine", 350, min_lr=0.0)
    assert factors == pytest.approx([0.5 * (1 + math.cos(math.pi * e / 350)) for e in range(350)],
                                    abs=1e-15)
    assert (factors[0], factors[175]) == (1.0, pytest.approx(0.5))
    assert factors[1] == pytest.approx(0.99998, abs=5e-6)


def test_cosine_wr_per_epoch_is_the_deepobs_sgdr_factor():
    factors = epoch_factors("cosine_wr", 101, t0_epochs=10, t_mult=2.0, min_lr=0.0)
    assert [e for e in range(101) if factors[e] == 1.0] == [0, 10, 30, 70]
    assert factors[100] == pytest.approx(0.691, abs=5e-4)  # PAPERS.md 5.5, E = 100
    assert factors[85] == pytest.approx(0.5 * (1 + math.cos(math.pi * (85 - 70) / 80)))


def deepobs_ltr_factors(epochs: int) -> list[float]:
    """The Crowded Valley results' ``ltr`` lr_sched_factors for epochs 1..E (10% up, 10% down)."""
    ramp = epochs // 10
    up = [e / ramp for e in range(1, ramp + 1)]
    down = [(ramp + 1 - k) / (ramp + 1) for k in range(1, ramp + 1)]
    return up + [1.0] * (epochs - 2 * ramp) + down


@pytest.mark.parametrize("epochs", [100, 350])
def test_trapezoidal_per_epoch_is_the_crowded_valley_ltr_factor_list(epochs):
    factors = epoch_factors("trapezoidal", epochs, warmup_frac=0.1, decay_frac=0.1)
    reference = deepobs_ltr_factors(epochs)
    assert factors == pytest.approx(reference, rel=1e-12)
    # values exactly as the results JSON files print them
    published = {100: (0.1, 0.9090909090909091, 0.09090909090909094),
                 350: (0.02857142857142857, 0.9722222222222222, 0.02777777777777779)}[epochs]
    ramp = epochs // 10
    assert (factors[0], factors[epochs - ramp], factors[-1]) == pytest.approx(published)


def test_trapezoidal_per_step_shape():
    total, base = 1000, 0.1
    lr_at = build_schedule(defaults("trapezoidal", warmup_frac=0.2, decay_frac=0.3), base, SPE,
                           total)
    values = lrs(lr_at, total)
    assert values[0] == pytest.approx(base / 200) and values[199] == base  # up over 200 steps
    assert set(values[199:700]) == {base}
    assert values[700] == pytest.approx(base * 300 / 301)  # down over the last 300 steps
    assert values[-1] == pytest.approx(base / 301)
    assert all(b > a for a, b in pairwise(values[:200]))
    assert build_schedule(defaults("trapezoidal", warmup_frac=0.0, decay_frac=0.0), base, SPE,
                          total)(0) == base


# Li & Arora's exponential schedules (PAPERS.md 2.3, 2.4, 2.9).
def larger_root(lr: float, wd: float, momentum: float) -> float:
    b = 1 + momentum - wd * lr
    return (b + math.sqrt(b * b - 4 * momentum)) / 2


@pytest.mark.parametrize(("lr", "wd", "momentum"), [(0.1, 5e-4, 0.9), (0.5, 1e-3, 0.0),
                                                     (0.05, 1e-2, 0.5)])
def test_exp_lr_is_the_closed_form_at_every_step(lr, wd, momentum):
    alpha = larger_root(lr, wd, momentum)
    assert alpha**2 - (1 + momentum - wd * lr) * alpha + momentum == pytest.approx(0, abs=1e-15)
    if momentum == 0:
        assert alpha == pytest.approx(1 - wd * lr)
    lr_at = build_schedule(defaults("exp_lr", weight_decay=wd, momentum=momentum), lr, SPE, TOTAL)
    assert lrs(lr_at, TOTAL) == pytest.approx(
        [lr * alpha ** (-2 * t - 1) for t in range(TOTAL)], rel=1e-10)


def test_exp_lr_grows_1_481_per_epoch_in_the_papers_setting():
    lr_at = build_schedule(defaults("exp_lr", weight_decay=5e-4, momentum=0.9), 0.1, 391, 391 * 160)
    assert round(lr_at(391) / lr_at(0), 3) == 1.481  # alpha^(-2 * 391)
    assert round(lr_at(160 * 391 - 1) / lr_at(159 * 391 - 1), 3) == 1.481


def texp_by_recursion(starts: list[int], etas: list[float], wd: float, momentum: float,
                      total: int) -> list[float]:
    """PAPERS.md 2.9's pseudocode, step by step."""
    alphas = [larger_root(eta, wd, momentum) for eta in etas]
    out, k, lr = [], 0, 0.0
    for t in range(total):
        if t == 0:
            lr = etas[0] / alphas[0]
        elif k + 1 < len(etas) and t == starts[k + 1]:
            k += 1
            lr = lr * (etas[k] / etas[k - 1]) / (alphas[k - 1] * alphas[k])
        else:
            lr = lr * alphas[k] ** -2
        out.append(lr)
    return out


def test_texp_is_the_papers_recursion_at_every_step():
    spe, total = 50, 3000
    lr_at = build_schedule(defaults("texp", milestones_epochs=[20, 45], gamma=0.1,
                                    weight_decay=5e-4, momentum=0.9), 0.1, spe, total)
    reference = texp_by_recursion([0, 1000, 2250], [0.1, 0.01, 0.001], 5e-4, 0.9, total)
    assert lrs(lr_at, total) == pytest.approx(reference, rel=1e-10)


def test_texp_reproduces_the_papers_lr_curve():
    # PreResNet32/CIFAR-10: 0.1, x0.1 at epochs 80 and 120, wd 5e-4, momentum 0.9, 391 steps/epoch
    spe = 391
    lr_at = build_schedule(defaults("texp"), 0.1, spe, 300 * spe)
    assert lr_at(80 * spe - 1) == pytest.approx(4.5e12, rel=0.01)  # PAPERS.md 2.8: peak 4.5e12
    assert lr_at(120 * spe - 1) == pytest.approx(2.1e12, rel=0.02)  # and 2.1e12
    assert lr_at(80 * spe) / lr_at(80 * spe - 1) == pytest.approx(0.1, rel=2e-3)  # the drop
    assert lr_at(250 * spe) / lr_at(249 * spe) == pytest.approx(1.0039, abs=1e-4)  # phase 2


def test_texp_pp_drops_nothing_and_grows_at_every_step():
    spe, total = 50, 3000
    params = {"milestones_epochs": [20, 45], "gamma": 0.1, "weight_decay": 5e-4, "momentum": 0.9}
    texp = lrs(build_schedule(defaults("texp", **params), 0.1, spe, total), total)
    texp_pp = lrs(build_schedule(defaults("texp_pp", **params), 0.1, spe, total), total)
    assert all(b > a for a, b in pairwise(texp_pp))
    phase = [0] * 1000 + [1] * 1250 + [2] * 750
    assert [p / t for p, t in zip(texp_pp, texp, strict=True)] == pytest.approx(
        [10.0**k for k in phase], rel=1e-12)


def scale_invariant_toy() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs, labels and theta_0 of a 20-dimensional logistic toy, float64."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 20, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 2, (64,), generator=gen).double() * 2 - 1
    return x, y, torch.randn(20, generator=gen, dtype=torch.float64)


def directions(lr_per_step: list[float], momentum: float, weight_decay: float,
               buffer0: torch.Tensor | None = None,
               rescale: dict[int, float] | None = None) -> torch.Tensor:
    """theta/|theta| after each step of full-batch torch SGD on the scale-invariant toy.

    ``rescale[t] = c`` multiplies theta by c and the momentum buffer by 1/c before step t.
    """
    x, y, theta0 = scale_invariant_toy()
    theta = theta0.clone().requires_grad_()
    opt = torch.optim.SGD([theta], lr=lr_per_step[0], momentum=momentum,
                          weight_decay=weight_decay)
    if buffer0 is not None:
        opt.state[theta]["momentum_buffer"] = buffer0.clone()
    out = []
    for t, lr in enumerate(lr_per_step):
        if t in (rescale or {}):
            with torch.no_grad():
                theta.mul_(rescale[t])
                opt.state[theta]["momentum_buffer"].div_(rescale[t])
        opt.param_groups[0]["lr"] = lr
        opt.zero_grad()
        # L(c theta) = L(theta): only the direction matters, as with BatchNorm
        torch.nn.functional.softplus(-3 * y * (x @ theta) / theta.norm()).mean().backward()
        opt.step()
        out.append(theta.detach() / theta.detach().norm())
    return torch.stack(out)


def test_exp_lr_trains_the_same_functions_as_fixed_lr_with_weight_decay():
    """Thm 1.1 with t = optimizer step on torch.optim.SGD: that choice of t makes it exact."""
    lr, wd, momentum, steps = 0.1, 5e-3, 0.9, 400
    reference = directions([lr] * steps, momentum, wd)
    exp_lr = lrs(build_schedule(defaults("exp_lr", weight_decay=wd, momentum=momentum), lr, 10,
                                steps), steps)
    alpha, theta0 = larger_root(lr, wd, momentum), scale_invariant_toy()[2]
    buffer0 = (alpha - 1) * theta0 / (lr * alpha)  # PAPERS.md 2.3's momentum correction
    assert (directions(exp_lr, momentum, 0.0, buffer0) - reference).norm(dim=1).max() < 1e-10
    shifted = directions(exp_lr[1:], momentum, 0.0, buffer0)  # t counted from 1
    assert (shifted - reference[:-1]).norm(dim=1).max() > 1e-4


@pytest.mark.parametrize("name", ["texp", "texp_pp"])
def test_texp_trains_the_same_functions_as_step_decay(name):
    """Up to the one-step momentum transient at each phase boundary (PAPERS.md 2.4); TEXP++ with
    its reconstruction's rescaling of weights by sqrt(C) and momentum by 1/sqrt(C), C = 1/gamma."""
    wd, momentum, steps = 5e-3, 0.9, 600
    spec = {"milestones_epochs": [20, 40], "gamma": 0.1}
    step_decay = lrs(build_schedule(defaults("multistep", **spec), 0.1, 10, steps), steps)
    texp = lrs(build_schedule(defaults(name, weight_decay=wd, momentum=momentum, **spec), 0.1,
                              10, steps), steps)
    alpha, theta0 = larger_root(0.1, wd, momentum), scale_invariant_toy()[2]
    rescale = {200: math.sqrt(10), 400: math.sqrt(10)} if name == "texp_pp" else None
    reference = directions(step_decay, momentum, wd)
    equivalent = directions(texp, momentum, 0.0, (alpha - 1) * theta0 / (0.1 * alpha), rescale)
    assert (equivalent - reference).norm(dim=1).max() < 1e-5
    assert (directions(texp, momentum, 0.0) - reference).norm(dim=1).max() > 1e-3


# --- configuration: every option composes through Hydra, builds, pickles; bad values fail ---


def test_every_schedule_has_a_config_option():
    assert sorted(SCHEDULES) == SCHEDULE_OPTIONS


@pytest.mark.parametrize("name", SCHEDULE_OPTIONS)
def test_every_option_composes_and_builds(make_cfg, name):
    cfg = make_cfg(f"schedule={name}", "init=linear_warmup")
    assert cfg.schedule.name == name
    for granularity in ("step", "epoch"):
        schedule = OmegaConf.merge(cfg.schedule, {"granularity": granularity})
        lr_at = build_lr_schedule(schedule, cfg.init, cfg.optimizer.lr, steps_per_epoch=7,
                                  total_steps=7 * 200)
        values = lrs(lr_at, 7 * 200)
        assert all(math.isfinite(v) and v > 0 for v in values[1:])
        assert lrs(pickle.loads(pickle.dumps(lr_at)), 7 * 200) == values  # crosses processes


@pytest.mark.parametrize(("name", "params", "key"), [
    ("step", {"step_epochs": 0}, "schedule.step_epochs=0"),
    ("step", {"gamma": 10.0}, "schedule.gamma=10.0"),
    ("multistep", {"milestones_epochs": [120, 80]}, "schedule.milestones_epochs="),
    ("multistep", {"milestones_epochs": [0, 80]}, "schedule.milestones_epochs="),
    ("exponential", {"gamma": 0.0}, "schedule.gamma=0.0"),
    ("linear", {"min_lr": 0.2}, "schedule.min_lr=0.2"),
    ("polynomial", {"power": 0.0}, "schedule.power=0.0"),
    ("cosine_wr", {"t0_epochs": 0}, "schedule.t0_epochs=0"),
    ("cosine_wr", {"t_mult": 0.5}, "schedule.t_mult=0.5"),
    ("cosine_wr", {"min_lr": -1.0}, "schedule.min_lr=-1.0"),
    ("trapezoidal", {"warmup_frac": -0.1}, "schedule.warmup_frac=-0.1"),
    ("trapezoidal", {"warmup_frac": 0.6, "decay_frac": 0.5}, "schedule.decay_frac=0.5"),
    ("onecycle", {"pct_start": 1.0}, "schedule.pct_start=1.0"),
    ("onecycle", {"pct_start": 0.6, "three_phase": True}, "schedule.pct_start=0.6"),
    ("onecycle", {"div_factor": 0.0}, "schedule.div_factor=0.0"),
    ("onecycle", {"final_div_factor": -1.0}, "schedule.final_div_factor=-1.0"),
    ("onecycle", {"anneal_strategy": "cosine"}, "schedule.anneal_strategy='cosine'"),
    ("exp_lr", {"weight_decay": 0.05}, "schedule.weight_decay=0.05"),
    ("exp_lr", {"weight_decay": -1e-4}, "schedule.weight_decay=-0.0001"),
    ("exp_lr", {"momentum": 1.0}, "schedule.momentum=1.0"),
    ("texp", {"gamma": 2.0}, "schedule.gamma=2.0"),
    ("texp_pp", {"milestones_epochs": [80, 80]}, "schedule.milestones_epochs="),
    ("cosine", {"granularity": "batch"}, "schedule.granularity='batch'"),
])
def test_invalid_values_raise_one_line_naming_the_key(name, params, key):
    with pytest.raises(ConfigError) as error:
        build_schedule(defaults(name, **params), 0.1, steps_per_epoch=10, total_steps=1000)
    assert str(error.value).startswith(key) and "\n" not in str(error.value)


# --- the schedule figure: src/plot_schedules.py --------------------------------------------


def load_plot_module():
    path = ROOT / "src" / "plot_schedules.py"
    spec = importlib.util.spec_from_file_location("plot_schedules", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plot_schedules_app_writes_png_pdf_and_csv(tmp_path):
    out = tmp_path / "figures"
    names = ["step", "cosine_wr", "texp_pp"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "src" / "plot_schedules.py"), f"out_dir={out}", "epochs=3",
         "steps_per_epoch=4", f"names=[{','.join(names)}]"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "schedules.csv")
    assert list(table.columns) == ["step", "epoch", *[f"lr_{name}" for name in names]]
    assert table["step"].tolist() == list(range(12)) and table["epoch"].iloc[-1] == 11 / 4
    assert (out / "schedules.png").stat().st_size > 10_000
    assert (out / "schedules.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "outputs" / "plot_schedules").is_dir()  # Hydra's own files: not the repo


def test_plot_schedules_draws_every_option_by_default():
    plot = load_plot_module()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        assert compose(config_name="plot_schedules").names is None
    assert plot.schedule_names() == SCHEDULE_OPTIONS


def test_plot_schedules_composes_names_and_overrides_as_a_run_does(tmp_path):
    plot = load_plot_module()
    overrides = [f"out_dir={tmp_path}", "names=[cosine,multistep]", "epochs=10",
                 "steps_per_epoch=3", "base_lr=0.2",
                 'overrides=["schedule.granularity=epoch","init=linear_warmup","init.warmup_steps=6"]']
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="plot_schedules", overrides=overrides)
        plot.plot_schedules(cfg)
        bad = compose(config_name="plot_schedules", overrides=["log_y=sometimes"])
        with pytest.raises(ConfigError, match="log_y="):
            plot.plot_schedules(bad)
    table = pd.read_csv(tmp_path / "schedules.csv")
    assert list(table.columns) == ["step", "epoch", "lr_cosine", "lr_multistep"]
    warmup = OmegaConf.create({"name": "linear_warmup", "warmup_steps": 6, "warmup_epochs": 0.0,
                               "init_lr": 0.0})
    for name in ("cosine", "multistep"):
        lr_at = build_lr_schedule(defaults(name, granularity="epoch"), warmup, 0.2, 3, 30)
        assert table[f"lr_{name}"].tolist() == pytest.approx(lrs(lr_at, 30), rel=1e-7)
