"""Schedules against torch's reference schedulers and against the formulas by hand."""

import math

import pytest
import torch
from omegaconf import OmegaConf

from lrstudy.errors import ConfigError
from lrstudy.init import build_lr_schedule
from lrstudy.schedules import build_schedule


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
