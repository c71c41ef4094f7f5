"""The crowded-valley tuning protocol (PAPERS.md 5.2) as explicit Hydra job lists.

Phase 1 ("tune"): per problem x schedule x optimizer, the one-shot defaults over every seed and
``budgets.large`` random-search draws at the tuning seed (the same draws for every problem and
schedule; small and medium are their first draws); plus the SGD learning-rate grid of
Appendix C. Phase 2 ("rerun"): each budget's winner, chosen by the final validation metric
(``objective``) of its tuning run, re-run over the other seeds.

Divergence policy, the same for every optimizer: a run whose loss becomes non-finite or exceeds
``trainer.divergence_factor`` x its initial loss stops with status "diverged" and the worst
objective, so it never wins a search; a budget whose draws all diverged has no winner and no
re-runs (counted as failed). Diverged seeds are counted, and left out of means.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from lrstudy.config import register_configs
from lrstudy.errors import ConfigError
from lrstudy.optim import as_overrides, sample_search_space
from lrstudy.paths import register_resolvers
from lrstudy.studies import profile_entry
from lrstudy.sweep.collect import Run
from lrstudy.sweep.jobs import launch, write_jobs

ROOT = Path(__file__).resolve().parents[4]
ONESHOT, GRID = "oneshot", "lr_grid"
BUDGETS = ("small", "medium", "large")
SIGNIFICANT = 6  # drawn values are rounded to 6 significant digits: short, exact run names


@dataclass(frozen=True)
class Settings:
    """A profile's study node plus each optimizer's one-shot defaults and search space."""

    problems: list[str]
    optimizers: list[str]
    schedules: list[str]
    budgets: dict[str, int]
    tuning_seed: int
    seeds: list[int]
    search_seed: int
    danger_zone: dict[str, Any]
    oneshot: dict[str, dict[str, Any]]
    spaces: dict[str, dict[str, dict[str, Any]]]

    @property
    def rerun_seeds(self) -> list[int]:
        return [s for s in self.seeds if s != self.tuning_seed]


def load_settings(profile: str, conf: Path = ROOT / "conf") -> Settings:
    """The profile's protocol (conf/study/p5_crowded_valley_protocol.yaml) and the one-shot
    defaults and search space of every optimizer it names."""
    path = conf / "study" / "p5_crowded_valley_protocol.yaml"
    study = profile_entry(path, profile)
    budgets = study["budgets"]
    if not 0 < budgets["small"] <= budgets["medium"] <= budgets["large"]:
        raise ConfigError(f"{path.name} {profile}: budgets={budgets} must satisfy "
                          "0 < small <= medium <= large")
    register_configs()
    register_resolvers()
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        optimizers = {name: OmegaConf.to_container(
            compose("train", [f"optimizer={name}"]).optimizer) for name in study["optimizers"]}
    return Settings(study["problems"], study["optimizers"], study["schedules"], budgets,
                    study["tuning_seed"], study["seeds"], study["search_seed"],
                    study["danger_zone"], {k: v["oneshot"] for k, v in optimizers.items()},
                    {k: v["search_space"] for k, v in optimizers.items()})


def draws(space: Mapping[str, Mapping[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """The first ``n`` random-search configurations of ``space`` (rounded, see SIGNIFICANT)."""
    rng = np.random.default_rng(seed)
    return [{k: v if isinstance(v, int) else float(f"{v:.{SIGNIFICANT}g}")
             for k, v in sample_search_space(space, rng).items()} for _ in range(n)]


def job(problem: str, schedule: str, optimizer: str, seed: int, trial: Any,
        values: Mapping[str, Any]) -> list[str]:
    return [f"problem={problem}", f"schedule={schedule}", f"optimizer={optimizer}",
            f"seed={seed}", f"study.trial={trial}", *as_overrides(values)]


def tuning_jobs(s: Settings) -> list[list[str]]:
    """Phase 1: one-shot runs over all seeds, the large search at the tuning seed, the LR grid."""
    jobs = []
    for problem in s.problems:
        for schedule in s.schedules:
            for opt in s.optimizers:
                jobs += [job(problem, schedule, opt, seed, ONESHOT, s.oneshot[opt])
                         for seed in s.seeds]
                jobs += [job(problem, schedule, opt, s.tuning_seed, k, values) for k, values
                         in enumerate(draws(s.spaces[opt], s.budgets["large"], s.search_seed))]
    zone = s.danger_zone
    jobs += [job(zone["problem"], "constant", "sgd", seed, GRID, {"lr": lr})
             for lr in zone["lrs"] for seed in zone["seeds"]]
    return jobs


def key(run: Run) -> tuple[str, str, str]:
    c = run.config
    return c["study"]["problem"], c["schedule"]["name"], c["optimizer"]["name"]


def trial(run: Run) -> str:
    return str(run.config["study"]["trial"])


def score(run: Run) -> float:
    """Higher is better: the final validation metric, signed by the objective's mode."""
    value = float(run.metrics["objective"])
    if math.isnan(value):
        return -math.inf
    return value if run.config["objective"]["mode"] == "max" else -value


def winners(runs: Iterable[Run], s: Settings) -> dict[tuple[str, str, str, str], str | None]:
    """(problem, schedule, optimizer, budget) -> the winning draw (None: every draw diverged).

    Ties go to the earlier draw, so a smaller budget's winner stays the winner when no later draw
    beats it."""
    tuning: dict[tuple[str, str, str], dict[int, float]] = {}
    for run in runs:
        if run.seed == s.tuning_seed and trial(run).isdigit():
            tuning.setdefault(key(run), {})[int(trial(run))] = score(run)
    found: dict[tuple[str, str, str, str], str | None] = {}
    for cell, scores in tuning.items():
        for budget in BUDGETS:
            drawn = {k: v for k, v in scores.items() if k < s.budgets[budget]}
            best = max(drawn, key=lambda k: (drawn[k], -k)) if drawn else None
            found[(*cell, budget)] = (None if best is None or drawn[best] == -math.inf
                                      else str(best))
    return found


def rerun_jobs(s: Settings,
               chosen: Mapping[tuple[str, str, str, str], str | None]) -> list[list[str]]:
    """Phase 2: every budget's winner over the seeds other than the tuning seed."""
    jobs = []
    for (problem, schedule, opt, _), best in sorted(chosen.items()):
        if best is None:
            continue
        values = draws(s.spaces[opt], s.budgets["large"], s.search_seed)[int(best)]
        jobs += [job(problem, schedule, opt, seed, best, values) for seed in s.rerun_seeds]
    return list({tuple(j): j for j in jobs}.values())


def sweep(profile: str, sweep_dir: Path, extra: list[str]) -> None:
    """Both phases; rerunning resumes (DONE runs are skipped, interrupted ones resume)."""
    from lrstudy.sweep.collect import load_runs

    s = load_settings(profile)
    common = [f"experiment=p5_crowded_valley/{profile}", f"profile={profile}", *extra]
    launch(write_jobs(sweep_dir / "jobs_tune.txt", tuning_jobs(s)), sweep_dir, common)
    chosen = winners(load_runs(sweep_dir), s)
    launch(write_jobs(sweep_dir / "jobs_rerun.txt", rerun_jobs(s, chosen)), sweep_dir, common)
