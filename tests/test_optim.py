"""Optimizer zoo: every option trains through Hydra, honours the engine's per-step LR, resumes
exactly, and matches written-out reference rules (TF1 updates, AdaBound, Lookahead, GI-Adam's
predicted warmup, Li & Arora's ExpLR buffer); search spaces sample what they declare."""

from __future__ import annotations

import copy
import io
import json
import math
import re

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, open_dict
from scipy import stats

from conftest import CONF
from lrstudy.config import SearchDimConfig
from lrstudy.engine.run import run_training
from lrstudy.errors import ConfigError
from lrstudy.optim import (
    OPTIMIZERS,
    as_overrides,
    build_optimizer,
    explr_alpha,
    sample_search_space,
)

BENCHMARK = ["sgd", "momentum", "nag", "adam", "amsgrad", "adagrad", "adadelta", "rmsprop",
             "radam", "nadam", "adabound", "amsbound", "adabelief", "lookahead_momentum",
             "lookahead_radam"]
NAMES = sorted(p.stem for p in (CONF / "optimizer").glob("*.yaml"))
IMPLEMENTATIONS = {
    "sgd": "torch.optim.sgd.SGD", "momentum": "torch.optim.sgd.SGD", "nag": "torch.optim.sgd.SGD",
    "adam": "torch.optim.adam.Adam", "amsgrad": "torch.optim.adam.Adam",
    "adamw": "torch.optim.adamw.AdamW", "radam": "torch.optim.radam.RAdam",
    "nadam": "torch.optim.nadam.NAdam", "adagrad": "torch.optim.adagrad.Adagrad",
    "adadelta": "torch.optim.adadelta.Adadelta", "rmsprop": "timm.optim.rmsprop_tf.RMSpropTF",
    "adabelief": "timm.optim.adabelief.AdaBelief",
    "adabound": "lrstudy.optim.adabound.AdaBound", "amsbound": "lrstudy.optim.adabound.AdaBound",
    "gi_adam": "lrstudy.optim.gi_adam.GIAdam", "ri_adam": "lrstudy.optim.gi_adam.RIAdam",
    "lookahead_momentum": "lrstudy.optim.lookahead.Lookahead",
    "lookahead_radam": "lrstudy.optim.lookahead.Lookahead",
}


@pytest.fixture(scope="module")
def zoo() -> dict[str, DictConfig]:
    """Every option's composed optimizer node, composed once: composition is the slow part."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return {name: compose(config_name="train", overrides=[f"optimizer={name}"]).optimizer
                for name in NAMES}


def qualified(obj: object) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def quadratic_steps(optimizer, params, lrs, seed=0):
    """Steps on 0.5 * ||A p - b||^2 with fresh (A, b) per step, the LR set as the engine does."""
    gen = torch.Generator().manual_seed(seed)
    for lr in lrs:
        for group in optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        optimizer.zero_grad()
        loss = sum(0.5 * ((torch.randn(3, p.numel(), generator=gen, dtype=p.dtype) @ p.flatten()
                           - 1).square().sum()) for p in params)
        loss.backward()
        optimizer.step()


def fresh_params(dtype=torch.float64):
    torch.manual_seed(0)
    return [torch.randn(4, 3, dtype=dtype, requires_grad=True),
            torch.randn(3, dtype=dtype, requires_grad=True)]


# --- the zoo through Hydra -----------------------------------------------------------------


def test_the_zoo_is_the_benchmark_plus_adamw_gi_and_ri_adam():
    assert NAMES == sorted(OPTIMIZERS) == sorted([*BENCHMARK, "adamw", "gi_adam", "ri_adam"])


@pytest.mark.parametrize("overrides", [(f"optimizer={name}",) for name in NAMES] + [
    ("optimizer=momentum", "optimizer.explr_weight_decay=5e-4")], ids=lambda o: ",".join(o))
def test_every_option_trains_two_steps(make_cfg, tmp_path, overrides):
    cfg = make_cfg(*overrides, "data=digits", "trainer.max_steps=2",
                   "trainer.eval_at_start=false", "trainer.tensorboard=false")
    run_training(cfg, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["steps"] == 2
    assert math.isfinite(metrics["final"]["train_loss"])


@pytest.mark.parametrize("name", NAMES)
def test_oneshot_and_drawn_configurations_apply_as_overrides(make_cfg, zoo, name):
    optimizer = zoo[name]
    assert bool(optimizer.oneshot) == (name in BENCHMARK)
    assert bool(optimizer.search_space)
    # top-level values are the one-shot defaults, except the SGD-momentum family's general ones
    differing = {k: v for k, v in optimizer.oneshot.items() if optimizer[k] != v}
    assert differing == ({"lr": 0.01, "momentum": 0.99} if name in ("momentum", "nag") else {})
    drawn = sample_search_space(optimizer.search_space, np.random.default_rng(0))
    for values in (optimizer.oneshot, drawn):
        applied = make_cfg(f"optimizer={name}", *as_overrides(values)).optimizer
        assert {key: applied[key] for key in values} == pytest.approx(dict(values))
        build_optimizer(applied, fresh_params())


@pytest.mark.parametrize(("name", "overrides", "key"), [
    ("sgd", ["optimizer.lr=0"], "optimizer.lr"),
    ("radam", ["optimizer.weight_decay=-1"], "optimizer.weight_decay"),
    ("adam", ["optimizer.beta1=1.0"], "optimizer.beta1"),
    ("adamw", ["optimizer.beta2=-0.1"], "optimizer.beta2"),
    ("momentum", ["optimizer.momentum=1.0"], "optimizer.momentum"),
    ("nag", ["optimizer.momentum=0"], "optimizer.nesterov"),
    ("lookahead_momentum", ["optimizer.k=0"], "optimizer.k"),
    ("lookahead_radam", ["optimizer.alpha=0"], "optimizer.alpha"),
    ("rmsprop", ["optimizer.decay=1"], "optimizer.decay"),
    ("adadelta", ["optimizer.rho=1"], "optimizer.rho"),
    ("adadelta", ["optimizer.eps=0"], "optimizer.eps"),
    ("adagrad", ["optimizer.initial_accumulator_value=-0.1"],
     "optimizer.initial_accumulator_value"),
    ("adagrad", ["optimizer.initial_accumulator_value=0"], "optimizer.eps"),
    ("adabound", ["optimizer.final_lr=0"], "optimizer.final_lr"),
    ("amsbound", ["optimizer.gamma=0"], "optimizer.gamma"),
    ("adabelief", ["optimizer.eps=-1e-14"], "optimizer.eps"),
    ("momentum", ["optimizer.explr_weight_decay=0.1"], "optimizer.explr_weight_decay"),
    ("momentum", ["optimizer.explr_weight_decay=5e-4", "optimizer.weight_decay=5e-4"],
     "optimizer.explr_weight_decay"),
    ("adam", ["optimizer.oneshot.lr=-1"], "optimizer.oneshot.lr"),
    ("adam", ["+optimizer.oneshot.momentum=0.9"], "optimizer.oneshot.momentum"),
    ("adam", ["optimizer.search_space.lr.dist=loguniform"], "optimizer.search_space.lr.dist"),
    ("adam", ["optimizer.search_space.lr.low=2"], "optimizer.search_space.lr.low"),
    ("lookahead_momentum", ["optimizer.search_space.k.high=20.5"], "optimizer.search_space.k"),
])
def test_bad_values_fail_in_one_line_naming_the_key(make_cfg, name, overrides, key):
    cfg = make_cfg(f"optimizer={name}", *overrides)
    with pytest.raises(ConfigError, match=f"^{re.escape(key)}") as error:
        build_optimizer(cfg.optimizer, [torch.zeros(1, requires_grad=True)])
    assert "\n" not in str(error.value)


def test_search_space_typos_fail_at_composition_and_unknown_hyperparameters_before_training(
        make_cfg, zoo):
    with pytest.raises(ConfigCompositionException):
        make_cfg("optimizer=adam", "optimizer.search_space.lr.hgh=1")
    cfg = copy.deepcopy(zoo["adam"])  # the fixture is shared
    with open_dict(cfg):  # as an option's YAML file could add it
        cfg.search_space.rho = SearchDimConfig(dist="uniform", low=0, high=1)
    with pytest.raises(ConfigError, match=r"^optimizer\.search_space\.rho is not a hyper"):
        build_optimizer(cfg, [torch.zeros(1, requires_grad=True)])


# --- what the engine relies on -------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_start_at_lr_scale_and_follow_the_lr_set_each_step(zoo, name):
    cfg = zoo[name]
    weight, bias = params = fresh_params()
    optimizer = build_optimizer(cfg, [{"params": [weight]}, {"params": [bias], "lr_scale": 0.5}])
    assert qualified(optimizer) == IMPLEMENTATIONS[name]
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([cfg.lr, cfg.lr * 0.5])
    before = [p.detach().clone() for p in params]
    quadratic_steps(optimizer, params, [0.0] * 6)  # crosses a Lookahead sync (k = 5)
    assert all(torch.equal(a, b) for a, b in zip(before, params, strict=True))
    quadratic_steps(optimizer, params, [cfg.lr])
    assert not any(torch.equal(a, b) for a, b in zip(before, params, strict=True))


@pytest.mark.parametrize("name", NAMES)
def test_resuming_from_a_saved_state_dict_continues_exactly(zoo, name):
    cfg = zoo[name]
    lrs = [cfg.lr * f for f in (1.0, 0.5, 2.0, 1.0, 0.3, 0.7, 1.0)]
    # float32, the engine's default: torch's NAdam reloads its mu_product in the parameters'
    # dtype, so float64 runs resume only to ~1e-13
    params = fresh_params(torch.float32)
    optimizer = build_optimizer(cfg, params)
    quadratic_steps(optimizer, params, lrs[:3])
    buffer = io.BytesIO()
    torch.save({"params": params, "optimizer": optimizer.state_dict()}, buffer)
    quadratic_steps(optimizer, params, lrs[3:], seed=1)

    buffer.seek(0)
    saved = torch.load(buffer, weights_only=False)
    resumed_params = [p.detach().requires_grad_() for p in saved["params"]]
    resumed = build_optimizer(cfg, resumed_params)
    resumed.load_state_dict(saved["optimizer"])
    quadratic_steps(resumed, resumed_params, lrs[3:], seed=1)
    assert all(torch.equal(a, b) for a, b in zip(params, resumed_params, strict=True))


def test_param_groups_may_not_set_lr_themselves():
    with pytest.raises(ValueError, match="lr_scale"):
        build_optimizer({"name": "sgd", "lr": 0.1, "weight_decay": 0.0, "momentum": 0.0,
                         "nesterov": False, "explr_weight_decay": 0.0, "oneshot": {},
                         "search_space": {}},
                        [{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.3}])


# --- reference update rules ----------------------------------------------------------------


def tf1_reference(name: str, cfg, theta: np.ndarray, grad_fn, lrs) -> np.ndarray:
    """TF1's optimizers (the benchmark's), written out from the kernels' update equations."""
    slot_a, slot_b = np.zeros_like(theta), np.zeros_like(theta)
    if name == "adagrad":
        slot_a += cfg.initial_accumulator_value
    if name == "rmsprop":
        slot_a += 1.0  # TF1 RMSProp starts the mean square at one
    for lr in lrs:
        g = grad_fn(theta)
        if name == "sgd":
            theta = theta - lr * g
        elif name in ("momentum", "nag"):
            slot_a = cfg.momentum * slot_a + g
            step = g + cfg.momentum * slot_a if name == "nag" else slot_a
            theta = theta - lr * step
        elif name == "adagrad":
            slot_a = slot_a + g * g
            theta = theta - lr * g / np.sqrt(slot_a)
        elif name == "adadelta":
            slot_a = cfg.rho * slot_a + (1 - cfg.rho) * g * g
            update = np.sqrt(slot_b + cfg.eps) / np.sqrt(slot_a + cfg.eps) * g
            slot_b = cfg.rho * slot_b + (1 - cfg.rho) * update * update
            theta = theta - lr * update
        elif name == "rmsprop":
            slot_a = slot_a + (g * g - slot_a) * (1 - cfg.decay)
            theta = theta - lr * g / np.sqrt(slot_a + cfg.eps)
    return theta


@pytest.mark.parametrize("name", ["sgd", "momentum", "nag", "adagrad", "adadelta", "rmsprop"])
def test_tf_faithful_options_match_the_tf1_update(make_cfg, zoo, name):
    cfg = make_cfg(f"optimizer={name}", *as_overrides(zoo[name].oneshot)).optimizer
    rng = np.random.default_rng(0)
    curvature, target = rng.uniform(0.1, 3.0, 6), rng.normal(size=6)
    theta0 = rng.normal(size=6)
    lrs = [cfg.lr * f for f in (1.0, 3.0, 0.5, 2.0, 1.0)]
    param = torch.tensor(theta0, requires_grad=True)
    optimizer = build_optimizer(cfg, [param])
    for lr in lrs:
        optimizer.param_groups[0]["lr"] = lr
        optimizer.zero_grad()
        (0.5 * (torch.from_numpy(curvature) * (param - torch.from_numpy(target)) ** 2)).sum() \
            .backward()
        optimizer.step()
    expected = tf1_reference(name, cfg, theta0, lambda t: curvature * (t - target), lrs)
    np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("amsbound", [False, True])
def test_adabound_matches_the_published_update(amsbound):
    """Luolc/AdaBound's rule by hand: clipped Adam step size, bounds scaled with the LR."""
    rng = np.random.default_rng(1)
    beta1, beta2, eps, final_lr, gamma, wd, base_lr = 0.9, 0.99, 1e-8, 0.05, 0.05, 1e-2, 1e-2
    lrs = [base_lr * f for f in (1.0, 2.0, 0.5, 1.0, 4.0, 1.0, 0.25, 1.0)]
    grads = [rng.normal(scale=s, size=8) for s in (1.0, 0.1, 3.0, 1.0, 0.01, 2.0, 1.0, 0.5)]
    theta = theta0 = rng.normal(size=8)
    m, v, v_max, clipped = np.zeros(8), np.zeros(8), np.zeros(8), 0
    for t, (g, lr) in enumerate(zip(grads, lrs, strict=True), start=1):
        g = g + wd * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        step_size = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        raw = step_size / (np.sqrt(v_max if amsbound else v) + eps)
        scaled_final = final_lr * lr / base_lr
        bounded = np.clip(raw, scaled_final * (1 - 1 / (gamma * t + 1)),
                          scaled_final * (1 + 1 / (gamma * t)))
        clipped += int((bounded != raw).sum())
        theta = theta - bounded * m
    assert 0 < clipped < 8 * len(lrs)  # the bounds are active on some coordinates only

    cfg = {"name": "amsbound" if amsbound else "adabound", "lr": base_lr, "weight_decay": wd,
           "beta1": beta1, "beta2": beta2, "eps": eps, "final_lr": final_lr, "gamma": gamma,
           "oneshot": {}, "search_space": {}}
    param = torch.tensor(theta0, requires_grad=True)
    optimizer = build_optimizer(cfg, [param])
    for g, lr in zip(grads, lrs, strict=True):
        optimizer.param_groups[0]["lr"] = lr
        param.grad = torch.from_numpy(g)
        optimizer.step()
    np.testing.assert_allclose(param.detach().numpy(), theta, rtol=1e-12)


def test_lookahead_slow_weights_start_at_theta0(make_cfg):
    """Zhang et al.'s Algorithm 1 by hand, over plain SGD on 0.5 ||theta||^2."""
    cfg = make_cfg("optimizer=lookahead_momentum", "optimizer.momentum=0", "optimizer.k=3",
                   "optimizer.alpha=0.5", "optimizer.lr=0.1").optimizer
    theta0 = np.array([1.0, -2.0, 0.5])
    slow = fast = theta0
    for t in range(1, 8):
        fast = fast - 0.1 * fast
        if t % 3 == 0:
            slow = fast = slow + 0.5 * (fast - slow)
    param = torch.tensor(theta0, requires_grad=True)
    optimizer = build_optimizer(cfg, [param])
    for _ in range(7):
        optimizer.zero_grad()
        (0.5 * param.square().sum()).backward()
        optimizer.step()
    np.testing.assert_allclose(param.detach().numpy(), fast, rtol=1e-14)


# --- GI-Adam and RI-Adam -------------------------------------------------------------------


def constant_gradient_steps(cfg, grad: torch.Tensor, steps: int) -> torch.Tensor:
    """Per-step updates under a constant gradient (a linear loss)."""
    param = torch.zeros_like(grad, requires_grad=True)
    optimizer = build_optimizer(cfg, [param])
    updates = []
    for _ in range(steps):
        before = param.detach().clone()
        optimizer.zero_grad()
        (grad * param).sum().backward()
        optimizer.step()
        updates.append(param.detach() - before)
    return torch.stack(updates)


def test_gi_adam_is_adam_with_the_sqrt_one_minus_beta2_t_warmup(zoo):
    """PAPERS.md 4.6: with stationary gradients GI-Adam's step t is Adam's * sqrt(1 - beta2^t)."""
    grad = torch.tensor([0.3, -2.0, 0.1, 5.0], dtype=torch.float64)
    adam = constant_gradient_steps(zoo["adam"], grad, 200)
    gi = constant_gradient_steps(zoo["gi_adam"], grad, 200)
    t = torch.arange(1, 201, dtype=torch.float64)[:, None]
    torch.testing.assert_close(gi, adam * torch.sqrt(1 - 0.999**t), rtol=1e-6, atol=0)
    assert gi[0].abs().max() < 0.04 * adam[0].abs().min()  # the warmup is real: ~sqrt(1e-3)


def first_second_moment(cfg, grad: torch.Tensor) -> torch.Tensor:
    """v_0, recovered from the state after one step: v_1 = beta2 v_0 + (1 - beta2) g^2."""
    param = torch.zeros_like(grad, requires_grad=True)
    optimizer = build_optimizer(cfg, [param])
    param.grad = grad.clone()
    optimizer.step()
    v1 = optimizer.state[param]["exp_avg_sq"]
    return (v1 - (1 - cfg.beta2) * grad.square()) / cfg.beta2


def test_gi_and_ri_adam_start_the_second_moment_as_defined(make_cfg, zoo):
    grad = torch.linspace(-3, 2, 50, dtype=torch.float64)
    gi = first_second_moment(zoo["gi_adam"], grad)
    torch.testing.assert_close(gi, grad.square())
    ri = first_second_moment(zoo["ri_adam"], grad)
    assert ri.min() >= -1e-12
    assert ri.norm().item() == pytest.approx(grad.square().norm().item(), rel=1e-9)
    assert torch.corrcoef(torch.stack([ri, grad.square()]))[0, 1] < 0.5  # not g_0^2 again
    again = first_second_moment(zoo["ri_adam"], grad)
    other = first_second_moment(make_cfg("optimizer=ri_adam", "optimizer.v0_seed=1").optimizer,
                                grad)
    assert torch.equal(ri, again) and not torch.equal(ri, other)


def test_ri_adam_copies_keep_their_generator(zoo):
    """Sharpness probes and the catapult search deep-copy the optimizer before its first step."""
    grad = torch.linspace(-3, 2, 50, dtype=torch.float64)
    param = torch.zeros_like(grad, requires_grad=True)
    optimizer = build_optimizer(zoo["ri_adam"], [param])
    twin = copy.deepcopy(optimizer)
    for opt in (optimizer, twin):
        opt.param_groups[0]["params"][0].grad = grad.clone()
        opt.step()
    assert torch.equal(optimizer.state[param]["exp_avg_sq"],
                       twin.state[twin.param_groups[0]["params"][0]]["exp_avg_sq"])


# --- ExpLR momentum buffer -----------------------------------------------------------------


def test_explr_alpha_is_the_larger_root_with_the_papers_worked_numbers():
    alpha = explr_alpha(0.1, 5e-4, 0.9)
    assert alpha == pytest.approx(max(np.roots([1, -(1 + 0.9 - 5e-4 * 0.1), 0.9]).real))
    assert alpha == pytest.approx(0.9994977, abs=5e-8)
    assert alpha**-2 == pytest.approx(1.0010053, abs=5e-8)
    assert alpha ** (-2 * 391) == pytest.approx(1.4812, abs=5e-5)


def test_explr_buffer_starts_at_the_formula_per_group(make_cfg):
    cfg = make_cfg("optimizer=momentum", "optimizer.explr_weight_decay=5e-4").optimizer
    weight, bias = fresh_params()
    optimizer = build_optimizer(cfg, [{"params": [weight]}, {"params": [bias], "lr_scale": 0.5}])
    for param, lr in ((weight, 0.1), (bias, 0.05)):
        alpha = explr_alpha(lr, 5e-4, 0.9)
        expected = (alpha - 1) * param.detach() / (lr * alpha)
        torch.testing.assert_close(optimizer.state[param]["momentum_buffer"], expected)


def test_explr_buffer_makes_the_exp_lr_run_equal_the_weight_decay_run(make_cfg):
    """Li & Arora's equivalence on a scale-invariant model (float64, full batch)."""
    lr, momentum, wd, steps = 0.1, 0.9, 0.02, 300
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 20, generator=gen, dtype=torch.float64)
    y = torch.sign(torch.randn(64, generator=gen, dtype=torch.float64))
    theta0 = torch.randn(20, generator=gen, dtype=torch.float64)

    def run(overrides, lr_at):
        param = theta0.clone().requires_grad_()
        cfg = make_cfg("optimizer=momentum", f"optimizer.lr={lr}", *overrides).optimizer
        optimizer = build_optimizer(cfg, [param])
        for t in range(steps):
            optimizer.param_groups[0]["lr"] = lr_at(t)
            optimizer.zero_grad()
            torch.nn.functional.softplus(-y * (x @ param) / param.norm()).mean().backward()
            optimizer.step()
        return param.detach() / param.norm()

    alpha = explr_alpha(lr, wd, momentum)
    constant_with_wd = run([f"optimizer.weight_decay={wd}"], lambda t: lr)
    explr = run([f"optimizer.explr_weight_decay={wd}"], lambda t: lr * alpha ** (-2 * t - 1))
    uncorrected = run([], lambda t: lr * alpha ** (-2 * t - 1))
    assert (explr - constant_with_wd).abs().max() < 1e-10
    assert (uncorrected - constant_with_wd).abs().max() > 1e-5


# --- search spaces -------------------------------------------------------------------------


def test_samples_lie_in_range_and_follow_their_distribution():
    space = {"lr": {"dist": "log_uniform", "low": 1e-4, "high": 1.0},
             "beta1": {"dist": "uniform", "low": 0.5, "high": 0.999},
             "k": {"dist": "int_uniform", "low": 1, "high": 20}}
    rng = np.random.default_rng(0)
    draws = [sample_search_space(space, rng) for _ in range(4000)]
    lr = np.array([d["lr"] for d in draws])
    beta1 = np.array([d["beta1"] for d in draws])
    k = np.array([d["k"] for d in draws])
    assert lr.min() >= 1e-4 and lr.max() <= 1.0
    assert abs(np.log10(np.median(lr)) - (-2.0)) < 0.1  # median ~ geometric mean 1e-2
    assert stats.kstest(np.log10(lr), "uniform", args=(-4, 4)).pvalue > 1e-3
    assert beta1.min() >= 0.5 and beta1.max() <= 0.999
    assert stats.kstest(beta1, "uniform", args=(0.5, 0.499)).pvalue > 1e-3
    assert all(isinstance(d["k"], int) for d in draws)
    assert set(k) == set(range(1, 21))
    assert stats.chisquare(np.bincount(k)[1:]).pvalue > 1e-3


def test_same_seed_gives_the_same_draws_to_spaces_of_the_same_shape(zoo):
    momentum, adadelta = zoo["momentum"].search_space, zoo["adadelta"].search_space
    a = sample_search_space(momentum, np.random.default_rng(7))
    b = sample_search_space(adadelta, np.random.default_rng(7))
    assert (a["lr"], a["momentum"]) == (b["lr"], b["rho"])
    assert a == sample_search_space(momentum, np.random.default_rng(7))
