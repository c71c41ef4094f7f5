"""P3 measures (conf/claims/p3.yaml) from search/evaluations.csv, search/retrain.csv and the
dense LR grid's runs. Per optimizer ``o`` and fidelity ``f`` (low, high); differences are paired
by sweeper seed (the same seed gives every algorithm the same training seeds):

    o/f/<alg>/best_value                      final best-found validation accuracy
    o/f/zooming-<alg>/best_value              zooming minus another algorithm
    o/f/hyperopt-zooming/evals_to_tpe_final   evaluations TPE needed to reach its own final
                                              value minus those zooming needed to reach it
    o/f/hyperopt-zooming/steps_to_tpe_final   the same in training steps (compute)
    o/<alg>_<f>/retrained_test_acc            test accuracy of a sweep's best LR retrained at
                                              the high fidelity with a fresh seed
    o/zooming_low-<alg>_high/retrained_test_acc
    o/grid/lipschitz                          max |d val_acc / d u| between adjacent grid LRs
                                              inside the search interval (u: the sweepers' unit
                                              log coordinate), both non-diverged; bootstrap
                                              interval over grid seeds
    o/grid/diverged_fraction                  grid runs that diverged

A zooming sweep that never reaches TPE's final value counts as needing ``budget + 1``
evaluations (and its whole budget's steps): a lower bound, which favours TPE.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from lrstudy.claims import Measure
from lrstudy.studies import StudyContext
from lrstudy.studies.p3_lr_bandits.settings import OptimizerSpace, load_settings
from lrstudy.sweep.collect import Run
from lrstudy.sweep.stats import paired_difference, summarize

BOOTSTRAP = 2000
TARGET = "hyperopt"


def _measure(summary, detail: dict) -> Measure | None:
    if summary.n == 0:
        return None
    return Measure(summary.mean, summary.t_low, summary.t_high, summary.n,
                   {**detail, "seeds": summary.n})


def reach(trace: pd.DataFrame, target: float, budget: int) -> tuple[int, float]:
    """(evaluations, training steps) until ``trace``'s best-so-far first reaches ``target``;
    (budget + 1, every step) when it never does."""
    trace = trace.sort_values("number")
    reached = trace["best_so_far"].fillna(-math.inf).to_numpy() >= target
    steps = trace["steps"].fillna(0).cumsum().to_numpy()
    if reached.any():
        k = int(np.argmax(reached))
        return k + 1, float(steps[k])
    return budget + 1, float(steps[-1])


def search_measures(evaluations: pd.DataFrame, detail: dict) -> dict[str, Measure]:
    """Best-found values and the evaluations/steps needed to reach TPE's final value."""
    measures: dict[str, Measure] = {}
    for (opt, fid), table in evaluations.groupby(["optimizer", "fidelity"]):
        final = {alg: {seed: float(t.sort_values("number")["best_so_far"].iloc[-1])
                       for seed, t in group.groupby("sweeper_seed")}
                 for alg, group in table.groupby("algorithm")}
        final = {alg: {s: v for s, v in per.items() if math.isfinite(v)}
                 for alg, per in final.items()}
        for alg, per_seed in final.items():
            found = _measure(summarize(list(per_seed.values())), detail)
            if found:
                measures[f"{opt}/{fid}/{alg}/best_value"] = found
            if alg != "zooming" and "zooming" in final:
                found = _measure(paired_difference(final["zooming"], per_seed), detail)
                if found:
                    measures[f"{opt}/{fid}/zooming-{alg}/best_value"] = found
        if not {"zooming", TARGET} <= set(final):
            continue
        budget = int(table["number"].max()) + 1
        evals, steps = {}, {}
        for seed, target in final[TARGET].items():
            runs = {alg: table[(table["algorithm"] == alg) & (table["sweeper_seed"] == seed)]
                    for alg in ("zooming", TARGET)}
            if len(runs["zooming"]) == 0:
                continue
            (n_tpe, s_tpe), (n_zoom, s_zoom) = (reach(runs[a], target, budget)
                                                for a in (TARGET, "zooming"))
            evals[seed], steps[seed] = n_tpe - n_zoom, s_tpe - s_zoom
        name = f"{opt}/{fid}/{TARGET}-zooming"
        for key, values in (("evals_to_tpe_final", evals), ("steps_to_tpe_final", steps)):
            found = _measure(summarize(list(values.values())), detail)
            if found:
                measures[f"{name}/{key}"] = found
    return measures


def retrain_measures(retrain: pd.DataFrame, detail: dict) -> dict[str, Measure]:
    """Retrained test accuracy per algorithm and fidelity, and zooming at the low fidelity
    against every algorithm at the high one (a sweep that found nothing has no value)."""
    measures: dict[str, Measure] = {}
    done = retrain[retrain["status"] == "completed"]
    for opt, table in done.groupby("optimizer"):
        per = {(alg, fid): dict(zip(t["sweeper_seed"], t["final_test_acc"], strict=True))
               for (alg, fid), t in table.groupby(["algorithm", "fidelity"])}
        for (alg, fid), values in per.items():
            found = _measure(summarize(list(values.values())), detail)
            if found:
                measures[f"{opt}/{alg}_{fid}/retrained_test_acc"] = found
        if ("zooming", "low") not in per:
            continue
        for (alg, fid), values in per.items():
            if fid == "high":
                found = _measure(paired_difference(per["zooming", "low"], values), detail)
                if found:
                    measures[f"{opt}/zooming_low-{alg}_high/retrained_test_acc"] = found
    return measures


def grid_table(runs: list[Run]) -> pd.DataFrame:
    """One row per grid run: optimizer, LR, seed, status, final validation/test accuracy."""
    return pd.DataFrame([{"optimizer": r.config["optimizer"]["name"],
                          "lr": float(r.config["optimizer"]["lr"]), "seed": r.seed,
                          "status": r.metrics["status"],
                          "val_acc": r.metrics["final"].get("val_acc", math.nan),
                          "test_acc": r.metrics["final"].get("test_acc", math.nan)}
                         for r in runs])


def slope_arrays(grid: pd.DataFrame, space: OptimizerSpace) -> tuple[np.ndarray, ...]:
    """(unit coordinates, accuracy [LR x seed], completed [LR x seed]) of the grid LRs inside
    the search interval; a missing run counts as not completed."""
    inside = grid[(grid["lr"] >= space.interval[0] * (1 - 1e-9))
                  & (grid["lr"] <= space.interval[1] * (1 + 1e-9))]
    acc = inside.pivot_table(index="lr", columns="seed", values="val_acc", dropna=False)
    ok = (inside.assign(ok=inside["status"] == "completed")
          .pivot_table(index="lr", columns="seed", values="ok", aggfunc="all")
          .reindex_like(acc).fillna(False).astype(bool))
    units = np.array([space.unit(lr) for lr in acc.index])
    return units, acc.to_numpy(dtype=float), ok.to_numpy()


def max_slope(units: np.ndarray, acc: np.ndarray, ok: np.ndarray, seeds: np.ndarray) -> float:
    """Largest |d mean val_acc / d u| between adjacent LRs whose runs of ``seeds`` (column
    indices, repeats allowed) all completed; NaN when no such pair exists."""
    good = ok[:, seeds].all(axis=1)
    mean = np.where(good, np.nanmean(np.where(ok, acc, 0.0)[:, seeds], axis=1), np.nan)
    slopes = np.abs(np.diff(mean)) / np.diff(units)
    slopes = slopes[good[:-1] & good[1:]]
    return float(slopes.max()) if len(slopes) else math.nan


def grid_measures(grid: pd.DataFrame, spaces: dict[str, OptimizerSpace],
                  detail: dict) -> dict[str, Measure]:
    """The Lipschitz premise on the dense grid: the steepest slope (percentile bootstrap over
    grid seeds) and the fraction of diverged runs."""
    measures: dict[str, Measure] = {}
    for opt, table in grid.groupby("optimizer"):
        if opt not in spaces:
            continue
        units, acc, ok = slope_arrays(table, spaces[opt])
        n = acc.shape[1]
        value = max_slope(units, acc, ok, np.arange(n))
        if not math.isfinite(value):
            continue
        rng = np.random.default_rng(0)
        boot = [max_slope(units, acc, ok, rng.integers(0, n, n))
                for _ in range(BOOTSTRAP if n > 1 else 0)]
        boot = [b for b in boot if math.isfinite(b)]
        low, high = np.percentile(boot, [2.5, 97.5]) if boot else (math.nan, math.nan)
        info = {**detail, "seeds": n}
        measures[f"{opt}/grid/lipschitz"] = Measure(value, float(low), float(high), n, info)
        measures[f"{opt}/grid/diverged_fraction"] = Measure.exact(
            float((table["status"] != "completed").mean()), **info)
    return measures


def results_root(ctx: StudyContext) -> Path:
    """results/<profile>/p3_lr_bandits: the grid's runs live in <root>/runs/<run id>/."""
    if not ctx.runs:
        raise ValueError("p3_lr_bandits: no finished grid runs to analyse")
    return ctx.runs[0].path.parents[1]


def analyze(ctx: StudyContext) -> dict[str, Measure]:
    from lrstudy.studies.p3_lr_bandits import plots

    root = results_root(ctx)
    settings = load_settings(ctx.profile)
    evaluations = pd.read_csv(root / "search" / "evaluations.csv")
    retrain = pd.read_csv(root / "search" / "retrain.csv")
    grid = grid_table(ctx.runs)
    config = ctx.runs[0].config
    detail = {"data": config["data"]["name"], "model": config["model"]["name"]}
    measures = {**search_measures(evaluations, detail), **retrain_measures(retrain, detail),
                **grid_measures(grid, settings.optimizers, detail)}
    plots.draw(evaluations, retrain, grid, settings, ctx.figures, ctx.profile)
    return measures
