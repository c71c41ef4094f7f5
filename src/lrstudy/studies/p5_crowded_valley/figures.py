"""The P5 figures: test performance per optimizer (one-shot vs tuned), best-of-defaults vs tuned
Adam, improvement heatmap (budget x schedule), ranking per problem, switching heatmap, and the
SGD learning-rate grid (danger zone)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lrstudy.figures import new_figure, save
from lrstudy.studies.p5_crowded_valley.measures import cells, gain, schedule_gains


def _heatmap(ax, matrix: pd.DataFrame, title: str, fmt: str = "{:+.3f}") -> None:
    values = matrix.to_numpy(dtype=float)
    scale = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
    ax.imshow(values, cmap="RdBu", vmin=-scale or -1, vmax=scale or 1)
    ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=45, ha="right")
    ax.set_yticks(range(matrix.shape[0]), matrix.index)
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=5)
    ax.set_title(title)


def draw(results: pd.DataFrame, grid: pd.DataFrame, folder: Path, profile: str) -> None:
    problems = sorted(set(results["problem"]))
    fig, axes = new_figure(ncols=len(problems), width=3.0)
    for ax, problem in zip(axes[0], problems, strict=True):
        for offset, budget in ((-0.15, "oneshot"), (0.15, "large")):
            table = cells(results, budget)
            table = table[table["problem"] == problem].sort_values("optimizer")
            x = np.arange(len(table)) + offset
            ax.errorbar(x, table["test_mean"], yerr=table["test_std"].fillna(0), fmt="o",
                        ms=3, capsize=2, label=budget)
            ax.set_xticks(np.arange(len(table)), table["optimizer"], rotation=60, ha="right")
        metric = results.loc[results["problem"] == problem, "metric"].dropna()
        ax.set(title=f"{problem} ({profile})", ylabel=metric.iloc[0] if len(metric) else "")
    axes[0][0].legend()
    save(fig, folder / "performance.png")

    fig, axes = new_figure(width=4.5)
    ax = axes[0][0]
    rows = []
    for problem in problems:
        shots = cells(results, "oneshot")
        shots = shots[shots["problem"] == problem]
        tuned = cells(results, "large")
        adam = tuned[(tuned["problem"] == problem) & (tuned["optimizer"] == "adam")]
        if shots.empty or adam.empty:
            continue
        higher = bool(adam["higher_is_better"].iloc[0])
        chosen = shots.loc[(shots["valid_mean"] if higher else -shots["valid_mean"]).idxmax()]
        rows.append((problem, gain(chosen["test_mean"], adam["test_mean"].iloc[0], higher),
                     chosen["optimizer"]))
    if rows:
        ax.bar([r[0] for r in rows], [r[1] for r in rows])
        for i, r in enumerate(rows):
            ax.annotate(r[2], (i, r[1]), ha="center", fontsize=6)
        ax.tick_params(axis="x", rotation=30)
    ax.axhline(0, color="black", lw=0.5)
    ax.set(ylabel="best one-shot (by valid.) - tuned Adam", title="breadth vs depth")
    save(fig, folder / "defaults_vs_tuned.png")

    oneshot = cells(results, "oneshot").set_index(["problem", "optimizer"])
    matrix = {}
    for schedule in sorted(set(results["schedule"])):
        for budget in ("oneshot", "small", "medium", "large"):
            found = cells(results, budget, schedule).set_index(["problem", "optimizer"])
            both = found.index.intersection(oneshot.index)
            gains = [gain(found.loc[i, "test_mean"], oneshot.loc[i, "test_mean"],
                          bool(found.loc[i, "higher_is_better"])) for i in both]
            matrix.setdefault(budget, {})[schedule] = float(np.median(gains)) if gains else np.nan
    fig, axes = new_figure(width=3.6)
    _heatmap(axes[0][0], pd.DataFrame(matrix), "median gain over one-shot constant")
    save(fig, folder / "improvement_heatmap.png")

    large = cells(results, "large")
    ranks = large.assign(rank=large.groupby("problem")["score"].rank(ascending=False))
    fig, axes = new_figure(width=4.0, height=3.0)
    _heatmap(axes[0][0], ranks.pivot(index="optimizer", columns="problem", values="rank"),
             "rank (large budget, constant)", "{:.0f}")
    save(fig, folder / "ranking.png")

    switch = {}
    for a in sorted(set(oneshot.index.get_level_values("optimizer"))):
        for b in sorted(set(large["optimizer"])):
            gains = []
            for problem in problems:
                if (problem, a) in oneshot.index:
                    tuned = large[(large["problem"] == problem) & (large["optimizer"] == b)]
                    if not tuned.empty:
                        gains.append(gain(tuned["test_mean"].iloc[0],
                                          oneshot.loc[(problem, a), "test_mean"],
                                          bool(tuned["higher_is_better"].iloc[0])))
            switch.setdefault(f"tuned {b}", {})[f"untuned {a}"] = (
                float(np.median(gains)) if gains else np.nan)
    fig, axes = new_figure(width=4.5, height=3.5)
    _heatmap(axes[0][0], pd.DataFrame(switch), "median gain switching A -> B")
    save(fig, folder / "switching_heatmap.png")

    sched = schedule_gains(results)
    if not sched.empty:
        fig, axes = new_figure(width=4.0)
        _heatmap(axes[0][0], sched.groupby(["problem", "schedule"])["gain"].median().unstack(),
                 "median gain over constant (large)")
        save(fig, folder / "schedule_gains.png")

    if not grid.empty:
        fig, axes = new_figure()
        ax = axes[0][0]
        done = grid[grid["status"] == "completed"]
        ax.scatter(done["lr"], done["test"], s=10, label="completed")
        bad = grid[grid["status"] != "completed"]
        ax.scatter(bad["lr"], [0] * len(bad), marker="x", color="red", s=14, label="diverged")
        ax.set(xscale="log", xlabel="SGD learning rate", ylabel=grid["metric"].iloc[0],
               title=f"seed robustness, {grid['problem'].iloc[0]}")
        ax.legend()
        save(fig, folder / "danger_zone.png")
