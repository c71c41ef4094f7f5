"""The cells of the warmup study and the measurements that place them (PAPERS.md 4.3).

The paper's SGD grid is eta_trgt = 2^x / lambda_0, lambda_0 the sharpness at initialisation, so
the grid depends on a measurement. ``calibrate`` measures lambda_0 once per (part,
parameterisation, extra overrides) exactly as a run's own ``sharpness`` column at step 0 would
(same seed, initialisation, fixed batches, solver and dtype), and the eta_c search grid of
P4-C13 from the same initial state; ``invocations`` turns conf/study/p4_warmup_grid.yaml and
those values into Hydra multirun command lines, and ``jobs`` into one run list for
``hydra/sweeper=listed``. Cosine arms need schedule.min_lr = eta_trgt / 10 paired with each LR,
which a multirun's cartesian product cannot express: they get one command line per target LR.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from lrstudy.data import load_data, make_train_batches
from lrstudy.engine.run import apply_profile, seed_everything
from lrstudy.engine.sharpness import fixed_batches
from lrstudy.engine.tasks import batch_loss, task_options
from lrstudy.errors import ConfigError
from lrstudy.init import CatapultProbe, apply_parameterization, param_groups
from lrstudy.measure import hessian_top_eigen
from lrstudy.models import build_model
from lrstudy.optim import build_optimizer
from lrstudy.studies import profile_entry
from lrstudy.sweep.jobs import expand

ROOT = Path(__file__).resolve().parents[4]
CONF = ROOT / "conf"
GRID_FILE = CONF / "study" / "p4_warmup_grid.yaml"
COSINE_ARMS = ("sgd_cosine", "momentum_cosine")
ETA_MIN_FRACTION = 0.1  # cosine decay to eta_trgt / 10 (the paper's eta_min)


@dataclass(frozen=True)
class Group:
    """One line of the grid file: arms x params x warmup x target LRs."""

    part: str
    arms: list[str]
    params: list[str]
    warmup: list[int] | None = None  # None: the arm's own init.warmup_steps
    x: list[float] | None = None
    unit: float | str | None = None  # "lambda0" or a number; with x
    lr: list[float] | None = None  # absolute target LRs instead of x
    overrides: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if (self.x is None) == (self.lr is None):
            raise ConfigError(f"p4 grid group {self.part}/{self.arms}: give exactly one of x, lr")
        if self.x is not None and not (self.unit == "lambda0"
                                       or isinstance(self.unit, int | float)):
            raise ConfigError(f"p4 grid group {self.part}/{self.arms}: unit must be lambda0 or "
                              f"a number, got {self.unit!r}")


def calibration_key(part: str, param: str, overrides: list[str]) -> str:
    return "/".join([part, param, *overrides])


def load_grid(profile: str, path: Path = GRID_FILE) -> dict[str, Any]:
    entry = profile_entry(path, profile)
    return {"seeds": list(entry["seeds"]), "groups": [Group(**g) for g in entry["groups"]],
            "catapult_search": entry.get("catapult_search")}


def compose_part(part: str, profile: str, overrides: list[str] = ()) -> DictConfig:
    """The composed config of one part's experiment, as a run of the sweep would see it."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[
            f"experiment=p4_warmup/{part}/{profile}", f"profile={profile}", *overrides])
    return apply_profile(cfg)


@dataclass
class Setup:
    """A run's state at initialisation: model, optimizer, loss and its fixed batches."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    loss_fn: Any
    sharpness_batches: list[Any]
    first_batch: Any


def initial_setup(cfg: DictConfig) -> Setup:
    """Build the model and data exactly as lrstudy.engine.run does before step 0 (CPU)."""
    seed_everything(cfg.seed, cfg.trainer.deterministic)
    dtype = getattr(torch, cfg.trainer.dtype)
    data = load_data(cfg.data, Path(cfg.paths.data), torch.device("cpu"), dtype)
    model = build_model(cfg.model, data.spec)
    apply_parameterization(model, cfg.model, cfg.init)
    model = model.to(dtype=dtype)
    optimizer = build_optimizer(cfg.optimizer, param_groups(model, cfg.model, cfg.init,
                                                            cfg.optimizer, data.spec))
    batches = make_train_batches(data, cfg.data, cfg.seed, dtype)
    loss_fn = batch_loss(model.task, **task_options(cfg.trainer, data.extras))
    return Setup(model, optimizer, loss_fn, fixed_batches(batches, cfg.trainer.sharpness_batches),
                 next(batches.epoch(0)))


def measure_lambda0(cfg: DictConfig) -> dict[str, float]:
    """lambda_0 with the run's own sharpness settings; also the HVPs and seconds it took."""
    setup = initial_setup(cfg)
    started = time.perf_counter()
    dtype = getattr(torch, cfg.trainer.sharpness_dtype)
    top = hessian_top_eigen(setup.model, setup.loss_fn, setup.sharpness_batches,
                            cfg.trainer.sharpness_iters, dtype)
    if not (math.isfinite(top.value) and top.value > 0):
        raise ValueError(f"lambda_0={top.value} at initialisation is not a positive number")
    return {"lambda0": top.value, "hvps": top.hvps, "converged": top.converged,
            "seconds": round(time.perf_counter() - started, 3)}


def catapult_search_grid(cfg: DictConfig, lr0s: list[float], deltas: list[float],
                         target: float) -> list[dict[str, float]]:
    """eta_c at initialisation for every (lr0, delta): P4-C13's robustness table."""
    setup = initial_setup(cfg)
    probe = CatapultProbe(setup.model, setup.optimizer, setup.loss_fn, setup.first_batch)
    rows = []
    for lr0, delta in itertools.product(lr0s, deltas):
        result = probe.search(target, lr0, float(cfg.init.get("growth", 2.0)), delta)
        rows.append({"lr0": lr0, "delta": delta, "eta_c": result.eta_c,
                     "forward_passes": result.forward_passes, "target": target})
    return rows


def calibrate(profile: str, data_root: str = "data") -> dict[str, Any]:
    """lambda_0 for every (part, param, overrides) the grid scales by it, and the eta_c table."""
    grid = load_grid(profile)
    lambda0 = {}
    for group in grid["groups"]:
        if group.unit != "lambda0":
            continue
        for param in group.params:
            key = calibration_key(group.part, param, group.overrides)
            if key not in lambda0:
                cfg = compose_part(group.part, profile, [f"init.parameterization={param}",
                                                         f"paths.data={data_root}",
                                                         *group.overrides])
                lambda0[key] = measure_lambda0(cfg)
    result: dict[str, Any] = {"profile": profile, "lambda0": lambda0, "catapult_search": []}
    search = grid["catapult_search"]
    if search:
        key = calibration_key(search["part"], "sp", [])
        cfg = compose_part(search["part"], profile, [f"paths.data={data_root}"])
        # target far above any eta_c, so the search is never capped by it
        target = 2.0**10 / lambda0[key]["lambda0"] if key in lambda0 else 10.0
        result["catapult_search"] = catapult_search_grid(cfg, search["lr0"], search["delta"],
                                                         target)
    return result


def _lrs(group: Group, calibration: dict[str, Any], param: str) -> list[float]:
    if group.lr is not None:
        return [float(v) for v in group.lr]
    if group.unit == "lambda0":
        unit = 1.0 / calibration["lambda0"][calibration_key(group.part, param,
                                                            group.overrides)]["lambda0"]
    else:
        unit = float(group.unit)
    return [float(f"{2.0**x * unit:.6g}") for x in group.x]


def invocations(profile: str, calibration: dict[str, Any]) -> Iterator[list[str]]:
    """Override lists, one Hydra multirun each, covering every cell of the profile's grid."""
    grid = load_grid(profile)
    seeds = ",".join(str(s) for s in grid["seeds"])
    for group in grid["groups"]:
        for arm, param in itertools.product(group.arms, group.params):
            base = [f"experiment=p4_warmup/{group.part}/{profile}", f"profile={profile}",
                    f"arm=p4/{arm}", f"init.parameterization={param}", f"seed={seeds}",
                    *group.overrides]
            if group.warmup is not None:
                base.append("init.warmup_steps=" + ",".join(str(w) for w in group.warmup))
            lrs = _lrs(group, calibration, param)
            if arm in COSINE_ARMS:
                for lr in lrs:
                    yield [*base, f"optimizer.lr={lr:g}",
                           f"schedule.min_lr={float(f'{lr * ETA_MIN_FRACTION:.6g}'):g}"]
            else:
                yield [*base, "optimizer.lr=" + ",".join(f"{lr:g}" for lr in lrs)]


def jobs(profile: str, calibration: dict[str, Any]) -> list[list[str]]:
    """Every run of the profile's grid, one override list each (as its multirun would name it)."""
    return [job for overrides in invocations(profile, calibration) for job in expand(overrides)]
