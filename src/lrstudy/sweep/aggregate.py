"""Aggregate a sweep into tidy tables: per arm, per metric, per eval step, with intervals.

    runs.csv     one row per run (arm, seed, status, final and best metrics)
    summary.csv  one row per (model, arm) and final metric: n, n_diverged, mean, std,
                 t and bootstrap intervals
    curves.csv   one row per (model, arm), epoch and metric: the same statistics along training
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from lrstudy.sweep.collect import Run, load_runs, runs_table
from lrstudy.sweep.stats import summarize

CURVE_METRICS = ("val_loss", "val_acc", "test_loss", "test_acc")


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    metrics = [c for c in table.columns if c.startswith(("final_", "best_"))]
    for (model, arm), runs in table.groupby(["model", "arm"], sort=True):
        diverged = int((runs["status"] != "completed").sum())
        for metric in metrics:
            values = runs.loc[runs["status"] == "completed", metric].astype(float).tolist()
            rows.append({"model": model, "arm": arm, "metric": metric, "n_runs": len(runs),
                         "n_diverged": diverged, **summarize(values).as_dict()})
    return pd.DataFrame(rows)


def _train_loss_per_epoch(run: Run) -> pd.DataFrame:
    history = run.history.assign(epoch=lambda h: (h["epoch"] + 1e-9).astype(int) + 1)
    return (history.groupby("epoch", as_index=False)["train_loss"].mean()
            .melt(id_vars="epoch", var_name="metric"))


def curves_table(runs: list[Run]) -> pd.DataFrame:
    """Statistics per (arm, epoch, metric) over seeds; diverged runs stop contributing."""
    frames = []
    for run in runs:
        evals = run.evals.melt(id_vars=["step", "epoch"], value_vars=list(CURVE_METRICS),
                               var_name="metric").drop(columns="step")
        frames.append(pd.concat([evals, _train_loss_per_epoch(run)])
                      .assign(model=run.config["model"]["name"], arm=run.arm, seed=run.seed))
    tidy = pd.concat(frames, ignore_index=True)
    rows = []
    keys = ["model", "arm", "metric", "epoch"]
    for (model, arm, metric, epoch), group in tidy.groupby(keys, sort=True):
        values = [v for v in group["value"].astype(float) if math.isfinite(v)]
        if values:
            rows.append({"model": model, "arm": arm, "metric": metric, "epoch": epoch,
                         **summarize(values).as_dict()})
    return pd.DataFrame(rows)


def aggregate(sweep_dir: Path, out_dir: Path) -> dict[str, pd.DataFrame]:
    """Write runs.csv, summary.csv and curves.csv for the sweep into ``out_dir``."""
    runs = load_runs(sweep_dir)
    if not runs:
        raise ValueError(f"no finished runs under {sweep_dir}")
    tables = {"runs": runs_table(runs)}
    tables["summary"] = summary_table(tables["runs"])
    tables["curves"] = curves_table(runs)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(out_dir / f"{name}.csv", index=False)
    return tables
