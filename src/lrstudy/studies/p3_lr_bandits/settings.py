"""The LR-search study's settings per profile (conf/study/p3_lr_bandits_search.yaml) and where
each piece of it lives under results/<profile>/p3_lr_bandits/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lrstudy.errors import ConfigError
from lrstudy.studies import profile_entry

ROOT = Path(__file__).resolve().parents[4]
STUDY = "p3_lr_bandits"
SETTINGS_FILE = ROOT / "conf" / "study" / "p3_lr_bandits_search.yaml"
FIDELITIES = ("low", "high")


@dataclass(frozen=True)
class OptimizerSpace:
    """One optimizer's searched LR interval (log scale) and its dense grid (log10 start, stop,
    points per decade)."""

    interval: tuple[float, float]
    grid: tuple[float, float, int]

    def grid_lrs(self) -> list[float]:
        start, stop, per_decade = self.grid
        count = round((stop - start) * per_decade) + 1
        return [float(f"{10 ** x:.6g}") for x in np.linspace(start, stop, count)]

    def search_override(self) -> str:
        low, high = self.interval
        return f"optimizer.lr=tag(log, interval({low!r}, {high!r}))"

    def unit(self, lr: float) -> float:
        """The sweepers' unit coordinate of ``lr`` (0 at the interval's low end, 1 at its high)."""
        low, high = np.log(self.interval)
        return float((np.log(lr) - low) / (high - low))


@dataclass(frozen=True)
class Sweep:
    """One bandit sweep: an optimizer's LR searched by one algorithm at one fidelity and seed."""

    optimizer: str
    fidelity: str
    algorithm: str
    seed: int

    def directory(self, out: Path) -> Path:
        return (out / "search" / self.optimizer / self.fidelity / self.algorithm
                / f"seed_{self.seed}")


@dataclass(frozen=True)
class Settings:
    optimizers: dict[str, OptimizerSpace]
    algorithms: dict[str, dict[str, Any]]
    seeds: list[int]
    budget: int
    batch_size: int
    fidelities: dict[str, float]
    grid_seeds: list[int]
    retrain: int

    def __post_init__(self) -> None:
        if set(self.fidelities) != set(FIDELITIES) or \
                not self.fidelities["low"] < self.fidelities["high"]:
            raise ConfigError(f"{SETTINGS_FILE.name}: fidelities must be {{low: E1, high: E2}} "
                              f"with E1 < E2 epochs, got {self.fidelities}")
        if self.retrain in range(self.budget) or not 0 < self.retrain < 1000:
            raise ConfigError(f"{SETTINGS_FILE.name}: retrain must be in [budget, 1000) so the "
                              f"retraining seed is never a search seed, got {self.retrain}")

    def sweeps(self) -> list[Sweep]:
        return [Sweep(o, f, a, s) for o in self.optimizers for f in FIDELITIES
                for a in self.algorithms for s in self.seeds]

    def retrain_seed(self, sweeper_seed: int) -> int:
        """Evaluation k of a sweep trains with seed 1000 * seed + k (pull_seed_key), k < budget."""
        return 1000 * sweeper_seed + self.retrain


def load_settings(profile: str, path: Path = SETTINGS_FILE) -> Settings:
    entry = dict(profile_entry(path, profile))
    entry["optimizers"] = {name: OptimizerSpace(tuple(o["interval"]), tuple(o["grid"]))
                           for name, o in entry["optimizers"].items()}
    entry["algorithms"] = {name: dict(c or {}) for name, c in entry["algorithms"].items()}
    return Settings(**entry)
