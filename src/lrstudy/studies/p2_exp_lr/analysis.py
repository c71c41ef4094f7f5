"""P2 measures (conf/claims/p2.yaml) from the study's three kinds of results.

Measures, by the results they come from:

    equivalence/<case>/<variant>/max_deviation   max over steps and tensors of the per-tensor
                                                 direction deviation (equivalence.csv)
    equivalence/<case>/<variant>/max_scale_error max over steps of | |theta~|/|theta| / s - 1 |
    schedule/exp_lr_growth_per_epoch             the exp_lr schedule's LR ratio over 391 steps at
                                                 the paper's lr 0.1, wd 5e-4, momentum 0.9
    exp_lr/lr_growth                             the ExpLR arm's last LR over its first
    exp_lr/norm_over_lr_drift                    per seed, max over scale-invariant layers of
                                                 |log change of |w|^2/lr| / log change of lr over
                                                 the run's second half (0: |w|^2 tracks the LR)
    <arm>-<other>/final_test_acc                 final test accuracy difference, paired by seed
    <arm>-<other>/late_test_acc                  the same for the mean over the second half
    <arm>-step/angle_log_ratio                   per seed, mean over epochs of
                                                 |log(angle_arm / angle_step)| (whole network)
    toy/<setting>/late_max_excess_loss           max excess loss over the toy's second half

Seeded measures carry 95% t-intervals over seeds; the others are exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lrstudy.claims import Measure
from lrstudy.engine.layers import WHOLE
from lrstudy.schedules import build_schedule
from lrstudy.studies import StudyContext
from lrstudy.studies.p2_exp_lr.common import INVARIANT
from lrstudy.studies.p2_exp_lr.plots import draw
from lrstudy.sweep.collect import Run
from lrstudy.sweep.stats import paired_difference, summarize

PAPER_EPOCH = {"lr": 0.1, "weight_decay": 5e-4, "momentum": 0.9, "steps_per_epoch": 391}
PAIRS = (("exp_lr", "wd_const"), ("texp", "step"), ("texp_pp", "step"))


def results_root(ctx: StudyContext) -> Path:
    """results/<profile>/p2_exp_lr: a run lives in <root>/runs/<run id>/."""
    if not ctx.runs:
        raise ValueError("p2_exp_lr: no finished training runs to analyse")
    return ctx.runs[0].path.parents[1]


def run_layers(run: Run) -> pd.DataFrame:
    """One run's layers.csv (trainer.layer_stats) with its arm, seed, and the LR of the step
    that produced the weights (history.csv's LR at step - 1; at step 0, the first LR)."""
    layers = pd.read_csv(run.path / "layers.csv")
    lr = run.history.set_index("step")["lr"]
    layers["lr"] = (layers["step"] - 1).clip(lower=0).map(lr)
    return layers.assign(arm=run.arm, seed=run.seed)


def layer_table(runs: list[Run]) -> pd.DataFrame:
    """Every completed run's layers (run_layers)."""
    return pd.concat([run_layers(run) for run in runs if run.metrics["status"] == "completed"],
                     ignore_index=True)


def model_label(model: Mapping[str, Any]) -> str:
    return f"preresnet{model['depth']} w{model['width']} ({model['norm']} norm)"


def equivalence_measures(table: pd.DataFrame) -> dict[str, Measure]:
    measures = {}
    for (case, variant), rows in table.groupby(["case", "variant"]):
        where = {"data": rows["data"].iloc[0], "model": rows["model"].iloc[0], "seeds": 0}
        measures[f"equivalence/{case}/{variant}/max_deviation"] = Measure.exact(
            float(rows["deviation"].max()), **where, steps=int(rows["step"].max()))
        measures[f"equivalence/{case}/{variant}/max_scale_error"] = Measure.exact(
            float(rows["scale_error"].abs().max()), **where)
    return measures


def toy_measures(table: pd.DataFrame) -> dict[str, Measure]:
    late = table[table["step"] > table["step"].max() / 2]
    return {f"toy/{setting}/late_max_excess_loss": Measure.exact(
        float(rows["excess_loss"].max()), data="toy (reconstruction)", model="logistic, m=10",
        seeds=0) for setting, rows in late.groupby("setting")}


def schedule_measures() -> dict[str, Measure]:
    """P2-C2's 1.481 per epoch, from the exp_lr schedule the ExpLR arm trains with."""
    spe = PAPER_EPOCH["steps_per_epoch"]
    lr_at = build_schedule({"name": "exp_lr", "weight_decay": PAPER_EPOCH["weight_decay"],
                            "momentum": PAPER_EPOCH["momentum"]}, PAPER_EPOCH["lr"], spe, spe + 1)
    return {"schedule/exp_lr_growth_per_epoch": Measure.exact(
        lr_at(spe) / lr_at(0), data="formula", model="—", seeds=0)}


def _per_seed(runs: list[Run], arm: str, value: Callable[[Run], float]) -> dict[int, float]:
    return {run.seed: value(run) for run in runs
            if run.arm == arm and run.metrics["status"] == "completed"}


def _interval(values: list[float], detail: dict) -> Measure | None:
    stats = summarize(values)
    if stats.n == 0:
        return None
    return Measure(stats.mean, stats.t_low, stats.t_high, stats.n, {**detail, "seeds": stats.n})


def norm_over_lr_drift(layers: pd.DataFrame) -> float:
    """One run: max over scale-invariant layers (and the whole network) of the log change of
    |w|^2/lr over the second half of training, as a fraction of the LR's log change."""
    epochs = sorted(layers["epoch"].unique())
    mid, last = epochs[len(epochs) // 2], epochs[-1]
    chosen = layers[layers["layer"].str.match(INVARIANT) | (layers["layer"] == WHOLE)]
    drifts = []
    for _, rows in chosen.groupby("layer"):
        start = rows[rows["epoch"] == mid].iloc[0]
        end = rows[rows["epoch"] == last].iloc[0]
        ratio_change = math.log((end.sq_norm / end.lr) / (start.sq_norm / start.lr))
        drifts.append(abs(ratio_change) / math.log(end.lr / start.lr))
    return max(drifts)


def mean_abs_log_angle_ratio(layers: pd.DataFrame, arm: str, other: str, seed: int) -> float:
    """Mean over epochs of |log(angle_arm / angle_other)| for the whole network."""
    rows = layers[(layers["layer"] == WHOLE) & (layers["seed"] == seed) & (layers["epoch"] > 0)]
    a = rows[rows["arm"] == arm].set_index("epoch")["angle"]
    b = rows[rows["arm"] == other].set_index("epoch")["angle"]
    return float(np.abs(np.log(a / b)).dropna().mean())


def training_measures(ctx: StudyContext, layers: pd.DataFrame) -> dict[str, Measure]:
    runs = ctx.runs
    data = runs[0].config["data"]["name"]
    detail = {"data": data, "model": model_label(runs[0].config["model"])}
    measures: dict[str, Measure] = {}
    for arm, other in PAIRS:
        for name, value in (("final_test_acc", _final_acc), ("late_test_acc", _late_acc)):
            diff = paired_difference(_per_seed(runs, arm, value), _per_seed(runs, other, value))
            if diff.n:
                measures[f"{arm}-{other}/{name}"] = Measure(
                    diff.mean, diff.t_low, diff.t_high, diff.n, {**detail, "seeds": diff.n})
        if other == "step":
            seeds = sorted(set(layers.loc[layers["arm"] == arm, "seed"])
                           & set(layers.loc[layers["arm"] == other, "seed"]))
            found = _interval([mean_abs_log_angle_ratio(layers, arm, other, s) for s in seeds],
                              detail)
            if found is not None:
                measures[f"{arm}-{other}/angle_log_ratio"] = found
    explr = layers[layers["arm"] == "exp_lr"]
    drift = _interval([norm_over_lr_drift(rows) for _, rows in explr.groupby("seed")], detail)
    if drift is not None:
        measures["exp_lr/norm_over_lr_drift"] = drift
    growth = [run.history["lr"].iloc[-1] / run.history["lr"].iloc[0] for run in runs
              if run.arm == "exp_lr"]
    if growth:
        measures["exp_lr/lr_growth"] = Measure.exact(float(np.mean(growth)), **detail,
                                                     seeds=len(growth))
    return measures


def _final_acc(run: Run) -> float:
    return run.metrics["final"]["test_acc"]


def _late_acc(run: Run) -> float:
    """Mean test accuracy over the evaluations in the second half of training."""
    evals = run.evals
    return float(evals.loc[evals["epoch"] > evals["epoch"].max() / 2, "test_acc"].mean())


def analyze(ctx: StudyContext) -> dict[str, Measure]:
    root = results_root(ctx)
    equivalence = pd.read_csv(root / "numerics" / "equivalence.csv")
    toy = pd.read_csv(root / "numerics" / "toy.csv")
    layers = layer_table(ctx.runs)
    measures = {**equivalence_measures(equivalence), **toy_measures(toy),
                **schedule_measures(), **training_measures(ctx, layers)}
    draw(ctx, equivalence, toy, layers)
    return measures
