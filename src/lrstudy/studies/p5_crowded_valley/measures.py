"""The quantities P5-C1..C5 and C7 test, from the results and grid tables (tables.py).

Scores are "higher is better": accuracy, or minus the loss. Gains over a reference are
differences of accuracy, or relative loss reductions (ref - loss) / |ref|, so loss and accuracy
problems share one dimensionless scale.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from lrstudy.claims import Measure

NEWER = ("adabelief", "adabound", "amsbound", "lookahead_momentum", "lookahead_radam", "nadam",
         "radam")
FAILED_ACCURACY = 0.2  # Appendix C: a run "fails" if it diverges or ends near chance (10 classes)


def gain(value: pd.Series | float, ref: pd.Series | float, higher: bool):
    return value - ref if higher else (ref - value) / abs(ref)


def score(row: pd.Series) -> float:
    return row["test_mean"] if row["higher_is_better"] else -row["test_mean"]


def median_interval(values: list[float], detail: dict) -> Measure:
    """Median with a 95% percentile-bootstrap interval over the cells."""
    x = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if len(x) == 0:
        return Measure(math.nan, math.nan, math.nan, 0, detail)
    if len(x) < 2 or np.ptp(x) == 0:
        return Measure(float(np.median(x)), math.nan, math.nan, len(x), detail)
    boot = stats.bootstrap((x,), np.median, method="percentile", n_resamples=2000,
                           rng=np.random.default_rng(0))
    low, high = boot.confidence_interval
    return Measure(float(np.median(x)), float(low), float(high), len(x), detail)


def cells(results: pd.DataFrame, budget: str, schedule: str = "constant") -> pd.DataFrame:
    table = results[(results["budget"] == budget) & (results["schedule"] == schedule)]
    return table[table["n"] > 0].assign(score=lambda t: t.apply(score, axis=1))


def top_group(table: pd.DataFrame) -> set[str]:
    """Optimizers whose mean lies within one seed-std (of the best) of the best mean."""
    best = table.loc[table["score"].idxmax()]
    slack = 0.0 if math.isnan(best["test_std"]) else best["test_std"]
    return set(table.loc[table["score"] >= best["score"] - slack, "optimizer"])


def compute(results: pd.DataFrame, grid: pd.DataFrame, detail: dict) -> dict[str, Measure]:
    measures: dict[str, Measure] = {}
    large = cells(results, "large")
    oneshot = cells(results, "oneshot")
    problems = sorted(set(large["problem"]))
    if problems:
        tops = [top_group(large[large["problem"] == p]) for p in problems]
        everywhere = set.intersection(*tops)
        measures["c1/all_problem_top_optimizers"] = Measure.exact(len(everywhere), **detail)
    matched, near, newer = [], [], []
    for p in problems:
        tuned, shots = large[large["problem"] == p], oneshot[oneshot["problem"] == p]
        adam = tuned[tuned["optimizer"] == "adam"]
        if adam.empty or shots.empty:
            continue
        adam = adam.iloc[0]
        higher = bool(adam["higher_is_better"])
        chosen = shots.loc[(shots["valid_mean"] if higher else -shots["valid_mean"]).idxmax()]
        adam_std = 0.0 if math.isnan(adam["test_std"]) else adam["test_std"]
        matched.append(chosen["score"] >= adam["score"] - adam_std)
        best = tuned.loc[tuned["score"].idxmax()]
        best_std = 0.0 if math.isnan(best["test_std"]) else best["test_std"]
        near.append(adam["score"] >= best["score"] - best_std)
        for _, row in tuned[tuned["optimizer"].isin(NEWER)].iterrows():
            newer.append(_significantly_better(row, adam))
    if matched:
        measures["c2/defaults_match_tuned_adam_share"] = Measure.exact(float(np.mean(matched)),
                                                                       **detail)
        measures["c3/adam_near_best_share"] = Measure.exact(float(np.mean(near)), **detail)
    if newer:
        measures["c3/newer_beat_adam_share"] = Measure.exact(float(np.mean(newer)), **detail)
    gains = _budget_gains(results)
    for budget in ("small", "medium", "large"):
        if budget in gains:
            measures[f"c4/median_gain_{budget}"] = median_interval(list(gains[budget]), detail)
    if {"small", "large"} <= set(gains):
        measures["c4/median_large_minus_small"] = median_interval(
            list(gains["large"] - gains["small"]), detail)
    measures |= _schedule_measures(results, detail)
    if not grid.empty:
        failed = (grid["status"] != "completed") | (
            (grid["metric"] == "test_acc") & (grid["test"].astype(float) < FAILED_ACCURACY))
        share = failed.groupby(grid["lr"]).mean()
        measures["c7/danger_zone_lrs"] = Measure.exact(
            int(((share > 0) & (share < 1)).sum()),
            data=grid["problem"].iloc[0], model="sgd lr grid", seeds=grid["seed"].nunique())
    return measures


def _significantly_better(row: pd.Series, adam: pd.Series) -> bool:
    """Welch's one-sided t-test at 5% from means, stds and counts (needs 2 seeds each)."""
    if row["n"] < 2 or adam["n"] < 2:
        return False
    diff = row["score"] - adam["score"]
    var = row["test_std"] ** 2 / row["n"] + adam["test_std"] ** 2 / adam["n"]
    if var == 0:
        return diff > 0
    dof = var ** 2 / ((row["test_std"] ** 2 / row["n"]) ** 2 / (row["n"] - 1)
                      + (adam["test_std"] ** 2 / adam["n"]) ** 2 / (adam["n"] - 1))
    return bool(stats.t.sf(diff / math.sqrt(var), dof) < 0.05)


def _budget_gains(results: pd.DataFrame) -> dict[str, pd.Series]:
    """Per (problem, optimizer) on the constant schedule: each budget's gain over one-shot."""
    ref = (cells(results, "oneshot").set_index(["problem", "optimizer"])[["test_mean"]]
           .rename(columns={"test_mean": "test_mean_ref"}))
    out = {}
    for budget in ("small", "medium", "large"):
        tuned = cells(results, budget).set_index(["problem", "optimizer"])
        joined = tuned.join(ref, how="inner")
        if len(joined):
            out[budget] = joined.apply(lambda r: gain(r["test_mean"], r["test_mean_ref"],
                                                      bool(r["higher_is_better"])), axis=1)
    return out


def schedule_gains(results: pd.DataFrame, budget: str = "large") -> pd.DataFrame:
    """Per problem x optimizer x non-constant schedule: the gain over the constant schedule."""
    ref = cells(results, budget).set_index(["problem", "optimizer"])
    rows = []
    for schedule in sorted(set(results["schedule"]) - {"constant"}):
        for (problem, optimizer), row in cells(results, budget, schedule).set_index(
                ["problem", "optimizer"]).iterrows():
            if (problem, optimizer) in ref.index:
                base = ref.loc[(problem, optimizer)]
                rows.append({"problem": problem, "optimizer": optimizer, "schedule": schedule,
                             "gain": gain(row["test_mean"], base["test_mean"],
                                          bool(row["higher_is_better"]))})
    return pd.DataFrame(rows, columns=["problem", "optimizer", "schedule", "gain"])


def _schedule_measures(results: pd.DataFrame, detail: dict) -> dict[str, Measure]:
    gains = schedule_gains(results)
    if gains.empty:
        return {}
    per_problem = gains.groupby(["problem", "schedule"])["gain"].median().reset_index()
    best = [(g.loc[g["gain"].idxmax(), "schedule"] if g["gain"].max() > 0 else "constant")
            for _, g in per_problem.groupby("problem")]
    return {"c5/median_schedule_gain": median_interval(list(gains["gain"]), detail),
            "c5/distinct_best_schedules": Measure.exact(len(set(best)), **detail)}
