"""The init group: catapult search (Algorithms 1-2) against a quadratic's 2/lambda, the
persistent catapult (Algorithm 3) and its exact resume, warmup, and the SP/muP rules."""

from __future__ import annotations

import copy
import csv
import json
import math
import signal

import pytest
import torch
from torch import nn

from conftest import CONF
from lrstudy.data.spec import DataSpec
from lrstudy.engine.loop import Trainer
from lrstudy.engine.run import run_training
from lrstudy.errors import ConfigError
from lrstudy.init import (
    CatapultProbe,
    LinearWarmup,
    apply_parameterization,
    build_lr_control,
    param_groups,
    search_eta_c,
)
from lrstudy.init.control import PersistentCatapult, search_settings
from lrstudy.init.param import weight_layers
from lrstudy.models import build_model
from lrstudy.optim import build_optimizer
from lrstudy.schedules import build_schedule

INIT_OPTIONS = sorted(p.stem for p in (CONF / "init").glob("*.yaml"))
DIGITS = DataSpec(name="digits", kind="image", shape=(1, 8, 8), num_classes=10)


# --- the catapult search on a quadratic -------------------------------------------------------


class Quadratic(nn.Module):
    """loss = 0.5 theta^T A theta; with theta_0 on A's top eigenvector GD's one-step loss
    rises exactly for eta > 2 / lambda_max."""

    def __init__(self, a: torch.Tensor, theta: torch.Tensor) -> None:
        super().__init__()
        self.theta = nn.Parameter(theta.clone())
        self.register_buffer("a", a)

    def forward(self, _: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.theta @ self.a @ self.theta


def quadratic_loss(model, batch):
    return model(batch)


def _quadratic(top: float = 4.0) -> tuple[torch.Tensor, torch.Tensor]:
    q, _ = torch.linalg.qr(torch.randn(5, 5, dtype=torch.float64,
                                       generator=torch.Generator().manual_seed(0)))
    a = q @ torch.diag(torch.tensor([top, 2.0, 1.0, 0.5, 0.1], dtype=torch.float64)) @ q.T
    return a, q[:, 0]  # the top eigenvector


@pytest.mark.parametrize(("eta_times_lambda", "diverges"), [(1.9, False), (2.1, True)])
def test_gradient_descent_diverges_above_two_over_lambda(eta_times_lambda, diverges):
    a, _ = _quadratic()
    theta = torch.ones(5, dtype=torch.float64)
    for _ in range(500):
        theta = theta - eta_times_lambda / 4.0 * (a @ theta)
    assert (0.5 * theta @ a @ theta > 1e6) == diverges


@pytest.mark.parametrize("delta", [0.1, 0.01])
def test_search_finds_two_over_lambda_within_delta(delta):
    a, top = _quadratic()
    model = Quadratic(a, top)
    probe = CatapultProbe(model, torch.optim.SGD(model.parameters(), lr=0.1), quadratic_loss,
                          torch.zeros(1))
    result = probe.search(target=10.0, lr0=1e-4, growth=2.0, delta=delta)
    assert 2 / 4.0 < result.eta_c <= (1 + delta) * 2 / 4.0
    assert result.loss_0 == pytest.approx(2.0)
    assert result.forward_passes < 40  # exponential + binary search: tens of forward passes


def test_search_edge_cases():
    def rising(eta: float) -> float:
        return 1.0 + eta

    assert search_eta_c(rising, 1.0, lr0=0.3, target=1.0) == (0.3, 1)  # rises at lr0 already
    assert search_eta_c(lambda eta: 0.5, 1.0, lr0=0.01, target=1.0)[0] == 1.0  # capped
    assert search_eta_c(lambda eta: math.nan if eta > 0.2 else 0.5, 1.0, lr0=0.01,
                        target=1.0, delta=0.1)[0] == pytest.approx(0.2, rel=0.01)


def _tiny_model_and_batch():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    batch = (torch.randn(12, 4), torch.randint(0, 3, (12,)))
    return model, batch


def classification_loss(model, batch):
    return nn.functional.cross_entropy(model(batch[0]), batch[1])


@pytest.mark.parametrize("name", ["momentum", "adam", "gi_adam", "adamw"])
def test_first_update_is_linear_in_the_lr_for_the_searched_optimizers(make_cfg, name):
    """The search's premise theta_1(eta) = theta_0 - eta u, checked against real steps (with
    weight decay and an lr_scale group) after two warm-up steps that fill the state."""
    model, batch = _tiny_model_and_batch()
    cfg = make_cfg(f"optimizer={name}", "optimizer.weight_decay=0.01").optimizer
    groups = [{"params": list(model[0].parameters()), "lr_scale": 0.5},
              {"params": list(model[3].parameters())}]
    optimizer = build_optimizer(cfg, groups)
    for _ in range(2):
        optimizer.zero_grad()
        classification_loss(model, batch).backward()
        optimizer.step()
    probe = CatapultProbe(model, optimizer, classification_loss, batch)
    before = copy.deepcopy(model.state_dict())
    u = probe.step_direction()
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    for eta in (0.01, 0.3):
        real_model, real_opt = copy.deepcopy((model, optimizer))
        for group in real_opt.param_groups:
            group["lr"] = eta * group.get("lr_scale", 1.0)
        real_opt.zero_grad()
        with torch.random.fork_rng():
            torch.manual_seed(0)  # the probe's dropout masks
            classification_loss(real_model, batch).backward()
        real_opt.step()
        for name_, p in real_model.named_parameters():
            assert torch.allclose(p.detach(), before[name_] - eta * u[name_], atol=1e-6)


def test_search_leaves_model_optimizer_and_rng_untouched():
    model, batch = _tiny_model_and_batch()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before, rng = copy.deepcopy(model.state_dict()), torch.get_rng_state()
    CatapultProbe(model, optimizer, classification_loss, batch).search(1.0, 1e-3, 2.0, 0.1)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert not optimizer.state and torch.equal(torch.get_rng_state(), rng)


# --- warmup and the catapult warmup's schedule ------------------------------------------------


def test_linear_warmup_starts_at_init_lr_and_meets_the_schedule():
    inner = build_schedule({"name": "cosine", "min_lr": 0.0}, 0.4, 10, 90)
    lr_at = LinearWarmup(inner, 10, 0.05)
    assert lr_at(0) == 0.05 and lr_at(10) == inner(0) == 0.4
    assert lr_at(9) == pytest.approx(0.05 + 0.35 * 9 / 10)
    assert lr_at(50) == inner(40)


def _catapult_control(make_cfg, *overrides, total=200):
    cfg = make_cfg("init=catapult", "schedule=cosine", "optimizer.lr=0.4", *overrides)
    return build_lr_control(cfg.schedule, cfg.init, cfg.optimizer, 10, total)


def test_catapult_warmup_keeps_the_rate_and_saves_steps(make_cfg):
    control = _catapult_control(make_cfg, "init.warmup_steps=100")
    control.load_state_dict({"eta_c": 0.1, "loss_0": 2.3, "forward_passes": 12, "seconds": 0.1})
    # eta_t = eta_c + eta_trgt t / T_wrm reaches eta_trgt after T_wrm (1 - eta_c/eta_trgt) steps
    assert [control.lr(t) for t in (0, 25, 75)] == pytest.approx([0.1, 0.2, 0.4])
    assert control.lr(76) < 0.4  # the cosine has started
    summary = control.summary()
    assert summary["warmup_steps"] == 75 and summary["warmup_steps_saved"] == 25
    assert summary["net_steps_saved"] == 25 - 12 / 2
    control.load_state_dict({"eta_c": 0.4, "loss_0": 2.3, "forward_passes": 9, "seconds": 0.1})
    assert control.lr(0) == 0.4 and control.summary()["warmup_steps_saved"] == 100


@pytest.mark.parametrize(("overrides", "key"), [
    (("init=catapult", "init.warmup_steps=0"), "warmup_steps"),
    (("init=catapult", "init.init_lr=0.01"), "init.init_lr"),
    (("init=catapult", "init.delta=0"), "init.delta"),
    (("init=catapult", "init.lr0=-1"), "init.lr0"),
    (("init=persistent_catapult", "init.warmup_steps=10"), "init.warmup_steps"),
    (("init.parameterization=ntk",), "init.parameterization"),
    (("init=mup", "model=cnn_3c3d"), "init.parameterization=mup"),
    (("init=sp", "init.base_width=64"), "init.base_width"),
    (("trainer.sharpness_every=-1",), "trainer.sharpness_every"),
])
def test_invalid_init_settings_fail_before_training(make_cfg, tmp_path, overrides, key):
    with pytest.raises(ConfigError, match=key):
        run_training(make_cfg(*overrides, "trainer.max_steps=2"), tmp_path)
    assert not (tmp_path / "history.csv").exists()


def test_delta_defaults_to_the_papers_values(make_cfg):
    for optimizer, delta in (("momentum", 0.1), ("adam", 0.01), ("gi_adam", 0.01)):
        cfg = make_cfg("init=catapult", f"optimizer={optimizer}")
        assert search_settings(cfg.init, cfg.optimizer).delta == delta


# --- parameterisations ----------------------------------------------------------------------


def _fcn(make_cfg, width: int, parameterization: str, optimizer: str = "adam"):
    cfg = make_cfg("model=fcn", f"model.width={width}", "model.depth=3",
                   f"init.parameterization={parameterization}", f"optimizer={optimizer}")
    torch.manual_seed(0)
    model = build_model(cfg.model, DIGITS)
    apply_parameterization(model, cfg.model, cfg.init)
    return model, param_groups(model, cfg.model, cfg.init, cfg.optimizer, DIGITS), cfg


def test_mup_init_and_adam_lr_scale_follow_the_rules_at_two_widths(make_cfg):
    scales = {}
    for width in (256, 1024):
        model, groups, _ = _fcn(make_cfg, width, "mup")
        layers = weight_layers(model)
        assert [layer.role for layer in layers] == ["input", "hidden", "hidden", "output"]
        for layer in layers:
            variance = 1 / layer.fan_in if layer.role == "output" else 2 / layer.fan_out
            assert layer.module.weight.std().item() == pytest.approx(math.sqrt(variance), rel=0.05)
            assert not layer.module.bias.any()
        scales[width] = [g["lr_scale"] for g in groups]
        assert scales[width] == pytest.approx([1 / math.sqrt(width), 1 / width, 1 / width,
                                               1 / math.sqrt(width)])
        x = torch.randn(64, 1, 8, 8)
        h = nn.Sequential(*list(model)[:-1])(x)  # readout: sqrt(1/fan_in) (W h + b), b = 0
        assert torch.allclose(model(x), model[-1](h), atol=0)
        assert torch.allclose(model(x), (h @ model[-1].weight.T) / math.sqrt(width), atol=1e-6)
    assert [s / b for s, b in zip(scales[1024], scales[256], strict=True)] == \
        pytest.approx([0.5, 0.25, 0.25, 0.5])


def _readout_update(make_cfg, width: int, parameterization: str) -> float:
    """How much one Adam step of the readout alone moves the outputs, at init."""
    model, groups, cfg = _fcn(make_cfg, width, parameterization)
    optimizer = build_optimizer(cfg.optimizer, groups)
    x, y = torch.randn(256, 1, 8, 8), torch.randint(0, 10, (256,))
    before = model(x).detach()
    nn.functional.cross_entropy(model(x), y).backward()
    for layer in list(model)[:-1]:
        for p in layer.parameters():
            p.grad = None  # only the readout moves
    optimizer.step()
    return (model(x).detach() - before).abs().mean().item()


def test_mup_readout_update_is_width_independent_at_init(make_cfg):
    """8x the width: the same update under mup (up to finite-width noise, which shrinks as
    1/sqrt(width)), an 8x larger one under SP with Adam."""
    mup = [_readout_update(make_cfg, w, "mup") for w in (256, 2048)]
    sp = [_readout_update(make_cfg, w, "sp") for w in (256, 2048)]
    assert mup[1] / mup[0] == pytest.approx(1.0, rel=0.3)
    assert sp[1] / sp[0] == pytest.approx(8.0, rel=0.3)


def test_sp_init_and_base_width(make_cfg):
    model, groups, _ = _fcn(make_cfg, 512, "sp")
    assert len(groups) == 1 and not model[1]._forward_hooks
    for layer in weight_layers(model):
        variance = (1 if layer.role == "output" else 2) / layer.fan_in
        assert layer.module.weight.std().item() == pytest.approx(math.sqrt(variance), rel=0.05)
    model, groups, _ = _fcn(make_cfg, 512, "simple_mup")
    assert len(groups) == 1 and model[1]._forward_hooks  # multipliers without Adam scales


def test_base_width_makes_the_adam_multipliers_relative(make_cfg):
    for width, expected in ((128, [1, 1, 1, 1]), (512, [0.5, 0.25, 0.25, 0.5])):
        cfg = make_cfg("init=mup", "init.base_width=128", f"model.width={width}",
                       "optimizer=adam")
        model = build_model(cfg.model, DIGITS)
        groups = param_groups(model, cfg.model, cfg.init, cfg.optimizer, DIGITS)
        assert [g["lr_scale"] for g in groups] == pytest.approx(expected)


def test_mup_wrn_groups_every_parameter_once_and_trains(make_cfg, tmp_path):
    cfg = make_cfg("data=synthetic", "model=wrn16_4", "model.norm=layer", "model.widen=1",
                   "init=mup", "optimizer=adam", "data.train_size=32", "data.val_size=8",
                   "data.batch_size=8", "trainer.max_steps=2", "trainer.eval_at_start=false",
                   "data.eval_subset=8")
    run_training(cfg, tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "completed"
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)["optimizer"]
    ids = [i for group in saved["param_groups"] for i in group["params"]]
    assert sorted(ids) == list(range(len(ids)))  # each parameter in exactly one group
    scales = [group.get("lr_scale", 1.0) for group in saved["param_groups"]]
    assert len(scales) == 1 + 12 + 2 + 1 + 1  # stem, unit convs, 2 shortcut convs, dense, rest
    assert scales[0] == pytest.approx(1 / math.sqrt(16 * 9)) and scales[-1] == 1.0


# --- every option runs; the persistent catapult resumes exactly --------------------------------

PERSISTENT = ("init=persistent_catapult", "init.parameterization=sp", "trainer.loss=mse",
              "optimizer=sgd", "optimizer.lr=0.05", "schedule=constant",
              "trainer.eval_at_start=false", "trainer.sync_every=1")


@pytest.mark.parametrize("option", INIT_OPTIONS)
def test_every_init_option_trains_two_steps(make_cfg, tmp_path, option):
    cfg = make_cfg(f"init={option}", "trainer.max_steps=2", "trainer.eval_at_start=false")
    if cfg.init.warmup_steps:
        cfg.init.warmup_steps = 1
    run_training(cfg, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    assert ("init" in metrics) == (option in ("catapult", "persistent_catapult"))


def _rows(path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_catapult_run_starts_at_eta_c_and_records_the_saving(make_cfg, tmp_path):
    run_training(make_cfg("init=catapult", "init.warmup_steps=8", "optimizer=sgd",
                          "optimizer.lr=1", "schedule=constant", "trainer.max_steps=10",
                          "trainer.loss=mse", "trainer.eval_at_start=false"), tmp_path)
    found = json.loads((tmp_path / "metrics.json").read_text())["init"]
    assert 0 < found["eta_c"] < 1 and found["forward_passes"] > 5
    assert found["warmup_steps"] + found["warmup_steps_saved"] == 8
    assert found["warmup_steps_saved"] == math.floor(8 * found["eta_c"])
    lrs = [float(r["lr"]) for r in _rows(tmp_path / "history.csv")]
    assert lrs[0] == found["eta_c"] and lrs[found["warmup_steps"]] == 1


def test_persistent_catapult_searches_again_as_the_loss_falls(make_cfg, tmp_path):
    run_training(make_cfg(*PERSISTENT, "trainer.max_steps=30"), tmp_path)
    found = json.loads((tmp_path / "metrics.json").read_text())["init"]
    assert found["searches"] >= 3 and found["reached_target_at_step"] is not None
    etas = [s["eta_c"] for s in found["search_log"]]
    assert etas == sorted(etas) and etas[-1] == 0.05
    lrs = [float(r["lr"]) for r in _rows(tmp_path / "history.csv")]
    assert lrs[0] == etas[0] and lrs[-1] == 0.05 and lrs == sorted(lrs)


def _comparable(run_dir) -> tuple[str, dict]:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics.pop("wall_time_s")
    metrics["init"].pop("search_seconds")
    return (run_dir / "history.csv").read_text(), metrics


def test_persistent_catapult_resume_equals_the_uninterrupted_run(make_cfg, tmp_path,
                                                                 monkeypatch):
    cfg = make_cfg(*PERSISTENT, "trainer.max_steps=14")
    run_training(cfg, tmp_path / "straight")
    step = Trainer.train_step

    def interrupt_at_step_8(self, *args):
        step(self, *args)
        if self.state.step == 8:
            self.stop_signal = signal.SIGTERM

    monkeypatch.setattr(Trainer, "train_step", interrupt_at_step_8)
    with pytest.raises(SystemExit):
        run_training(cfg, tmp_path / "resumed")
    monkeypatch.undo()
    searched_at = []
    search_at = PersistentCatapult._search_at
    monkeypatch.setattr(PersistentCatapult, "_search_at",
                        lambda self, at, lr0: searched_at.append(at) or search_at(self, at, lr0))
    run_training(cfg, tmp_path / "resumed")
    assert searched_at and min(searched_at) > 8  # no new search at step 0, one after the stop
    straight, resumed = _comparable(tmp_path / "straight"), _comparable(tmp_path / "resumed")
    assert resumed == straight
