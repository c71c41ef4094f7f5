"""Structured configs of the bandit sweepers, registered as ``hydra/sweeper=<name>``.

Kept free of heavy imports: Hydra imports every plugin module at start-up."""


from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore

_MODULE = "hydra_plugins.lrstudy_sweepers.sweeper"


@dataclass
class BanditSweeperConf:
    _target_: str = f"{_MODULE}.RandomSweeper"
    # dimension -> override grammar: interval(a, b), tag(log, interval(a, b)), choice(...), a,b
    params: dict[str, str] = field(default_factory=dict)
    budget: int = 20                      # evaluations (jobs), failed ones included
    batch_size: int = 1                   # jobs per round, launched together
    direction: str = "minimize"           # minimize | maximize the task's return value
    seed: int = 0
    max_failure_rate: float = 0.5         # stop with the job's error above this failed fraction
    # If set, the k-th evaluation of the same point runs with `<pull_seed_key>=1000*seed+k`, so
    # repeated pulls draw fresh noise; if null they repeat the identical job (for lrstudy's
    # train.py: the finished run is reused, as the evaluation is deterministic).
    pull_seed_key: str | None = None
    results_dir: str | None = None        # state and results; default: hydra.sweep.dir


@dataclass
class ZoomingSweeperConf(BanditSweeperConf):
    _target_: str = f"{_MODULE}.ZoomingSweeper"
    radius_scale: float = 0.1             # c in r(n) = c * sqrt(2 log T / (n + 1))
    lipschitz: float = 3.0                # L: ball {y : L * |x - y|_inf <= r}, unit coordinates
    reward_range: list[float] | None = None  # [lo, hi] of the objective; default: observed


@dataclass
class BLiESweeperConf(BanditSweeperConf):
    _target_: str = f"{_MODULE}.BLiESweeper"
    lipschitz: float = 3.0
    eta: float = 1.0                      # eliminate cubes eta * L * edge below the best
    pulls_scale: float = 1.0              # pulls per cube: max(1, ceil(pulls_scale/(L*edge)^2))
    reward_range: list[float] | None = None


@dataclass
class HyperoptSweeperConf(BanditSweeperConf):
    _target_: str = f"{_MODULE}.HyperoptSweeper"
    n_startup_jobs: int = 20              # hyperopt's default: random points before TPE
    gamma: float = 0.25
    n_ei_candidates: int = 24


CONFIGS: dict[str, Any] = {"zooming": ZoomingSweeperConf, "blie": BLiESweeperConf,
                           "hyperopt": HyperoptSweeperConf, "random": BanditSweeperConf}

for _name, _node in CONFIGS.items():
    ConfigStore.instance().store(group="hydra/sweeper", name=_name, node=_node,
                                 provider="lrstudy")
