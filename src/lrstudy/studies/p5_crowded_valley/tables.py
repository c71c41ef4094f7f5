"""Tidy tables of a P5 sweep: one row per run and epoch (DeepOBS JSON spirit), and one row per
problem x schedule x optimizer x budget with the winner's test performance over seeds."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from lrstudy.studies.p5_crowded_valley.protocol import (
    BUDGETS,
    GRID,
    ONESHOT,
    Settings,
    key,
    trial,
    winners,
)
from lrstudy.sweep.collect import Run

EPOCH_COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")


def test_metric(run: Run) -> str:
    """The reported metric: test accuracy where the objective is an accuracy, else test loss."""
    return run.config["objective"]["metric"].replace("val_", "test_")


def deepobs_table(runs: Iterable[Run]) -> pd.DataFrame:
    """One row per run and evaluation epoch: the problem, optimizer, its hyperparameters,
    schedule, seed, trial and status, with train/valid/test loss and accuracy."""
    frames = []
    for run in runs:
        problem, schedule, optimizer = key(run)
        hyper = {k: v for k, v in run.config["optimizer"].items()
                 if k not in ("name", "oneshot", "search_space")}
        evals = run.evals.reindex(columns=["epoch", *EPOCH_COLUMNS])
        frames.append(evals.rename(columns={"val_loss": "valid_loss", "val_acc": "valid_acc"})
                      .assign(testproblem=problem, optimizer=optimizer, schedule=schedule,
                              trial=trial(run), random_seed=run.seed,
                              batch_size=run.config["data"]["batch_size"],
                              num_epochs=run.config["trainer"]["epochs"],
                              hyperparameters=json.dumps(hyper, sort_keys=True),
                              status=run.metrics["status"], run=run.path.name))
    table = pd.concat(frames, ignore_index=True)
    first = ["testproblem", "optimizer", "schedule", "trial", "random_seed", "status", "epoch"]
    return table[first + [c for c in table.columns if c not in first]]


def results_table(runs: list[Run], s: Settings) -> pd.DataFrame:
    """Per problem x schedule x optimizer x budget (oneshot, small, medium, large): the chosen
    trial, n seeds, diverged count, mean and std of the final test metric (completed runs)."""
    chosen = winners(runs, s)
    by_trial: dict[tuple[str, str, str, str], list[Run]] = {}
    for run in runs:
        by_trial.setdefault((*key(run), trial(run)), []).append(run)
    rows = []
    cells = {key(r) for r in runs if trial(r) != GRID}
    for cell in sorted(cells):
        for budget in (ONESHOT, *BUDGETS):
            best = ONESHOT if budget == ONESHOT else chosen.get((*cell, budget))
            group = by_trial.get((*cell, best), []) if best is not None else []
            done = [r for r in group if r.metrics["status"] == "completed"]
            values = [r.metrics["final"][test_metric(r)] for r in done]
            values = [v for v in values if v is not None and math.isfinite(v)]
            valid = [r.metrics["objective"] for r in done]
            higher = bool(group) and group[0].config["objective"]["mode"] == "max"
            rows.append({"problem": cell[0], "schedule": cell[1], "optimizer": cell[2],
                         "budget": budget, "trial": best, "n": len(values),
                         "n_diverged": len(group) - len(done),
                         "metric": test_metric(group[0]) if group else None,
                         "higher_is_better": higher,
                         "test_mean": float(np.mean(values)) if values else math.nan,
                         "test_std": float(np.std(values, ddof=1)) if len(values) > 1 else math.nan,
                         "valid_mean": float(np.mean(valid)) if valid else math.nan})
    return pd.DataFrame(rows)


def grid_table(runs: Iterable[Run]) -> pd.DataFrame:
    """The SGD learning-rate grid of Appendix C: one row per run."""
    rows = [{"problem": key(r)[0], "lr": r.config["optimizer"]["lr"], "seed": r.seed,
             "status": r.metrics["status"], "metric": test_metric(r),
             "test": r.metrics["final"].get(test_metric(r))}
            for r in runs if trial(r) == GRID]
    return pd.DataFrame(rows, columns=["problem", "lr", "seed", "status", "metric", "test"])
