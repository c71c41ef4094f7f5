"""P1: cyclical log annealing vs SGDR cosine, single cosine and step decay (PAPERS.md 1).

Measures (paired by seed, 95% t-intervals), per model ``<model>`` of the sweep and aliased as
``primary`` for the experiment's own model:
    <model>/<log arm>-<other arm>/final_test_acc   final test accuracy difference
    <model>/<log arm>-cosine_wr/late_test_acc       mean test accuracy over the last 20% of evals
    schedule/restart_lr_over_base_lr                unclipped LR one step after a restart / peak
    schedule/end_of_cycle_lr_over_min_lr            LR at the end of a cycle / min_lr
"""

from __future__ import annotations

import math

import pandas as pd

from lrstudy.claims import Measure
from lrstudy.figures import band, new_figure, save
from lrstudy.schedules import build_schedule
from lrstudy.studies import StudyContext
from lrstudy.sweep.stats import paired_difference

LOG_ARMS = ("log_anneal_inv", "log_anneal_lit")
OTHER_ARMS = ("cosine_wr", "cosine", "step")
ARM_ORDER = (*LOG_ARMS, *OTHER_ARMS)
LATE_FRACTION = 0.2


def _per_seed(ctx: StudyContext, model: str, arm: str, value) -> dict[int, float]:
    return {run.seed: value(run) for run in ctx.runs
            if run.config["model"]["name"] == model and run.arm == arm
            and run.metrics["status"] == "completed"}


def _final_acc(run) -> float:
    return run.metrics["final"]["test_acc"]


def _late_acc(run) -> float:
    evals = run.evals
    late = evals[evals["epoch"] >= (1 - LATE_FRACTION) * evals["epoch"].max()]
    return float(late["test_acc"].mean())


def _difference(ctx, model, a, b, value, data) -> Measure | None:
    diff = paired_difference(_per_seed(ctx, model, a, value), _per_seed(ctx, model, b, value))
    if diff.n == 0:
        return None
    return Measure(diff.mean, diff.t_low, diff.t_high, diff.n,
                   {"data": data, "model": model, "seeds": diff.n})


# P1-C5 is about the formula, so it is evaluated at the paper-scale setup (PAPERS.md 1.4:
# CIFAR-10 at batch 128, T_0 = 10 epochs, min_lr 1e-3, lr 0.1), not at a profile's short cycles:
# the restart spike needs pi * T_i > 1 / min_lr steps, which mini's 150-step cycles do not reach.
PAPER_CYCLE = {"steps_per_epoch": 391, "t0_epochs": 10, "min_lr": 1e-3, "lr": 0.1}


def schedule_measures(ctx: StudyContext) -> dict[str, Measure]:
    """Properties of the formula itself (P1-C5): the log_anneal arm's schedule (its base
    reading) with the paper-scale cycle of PAPER_CYCLE."""
    run = next((r for r in ctx.runs if r.arm == "log_anneal_inv"), None)
    if run is None:
        return {}
    spe, lr = PAPER_CYCLE["steps_per_epoch"], PAPER_CYCLE["lr"]
    schedule = {**run.config["schedule"], "t0_epochs": PAPER_CYCLE["t0_epochs"],
                "min_lr": PAPER_CYCLE["min_lr"]}
    first_cycle = round(schedule["t0_epochs"] * spe)
    unclipped = build_schedule({**schedule, "clip": False}, lr, spe, 2 * first_cycle)
    clipped = build_schedule(schedule, lr, spe, 2 * first_cycle)
    detail = {"data": f"formula, {spe} steps/epoch, T_0 = {schedule['t0_epochs']} epochs",
              "model": "—", "seeds": 0}
    return {
        "schedule/restart_lr_over_base_lr": Measure.exact(unclipped(first_cycle) / lr, **detail),
        "schedule/end_of_cycle_lr_over_min_lr": Measure.exact(
            clipped(first_cycle - 1) / schedule["min_lr"], **detail),
    }


def analyze(ctx: StudyContext) -> dict[str, Measure]:
    measures = schedule_measures(ctx)
    runs = ctx.tables["runs"]
    for model, table in runs.groupby("model"):
        data = table["data"].iloc[0]
        names = [model, "primary"] if model == ctx.primary_model else [model]
        for log_arm in LOG_ARMS:
            for other in OTHER_ARMS:
                found = _difference(ctx, model, log_arm, other, _final_acc, data)
                for name in names:
                    if found is not None:
                        measures[f"{name}/{log_arm}-{other}/final_test_acc"] = found
            late = _difference(ctx, model, log_arm, "cosine_wr", _late_acc, data)
            for name in names:
                if late is not None:
                    measures[f"{name}/{log_arm}-cosine_wr/late_test_acc"] = late
    draw(ctx)
    return measures


def _arms(frame: pd.DataFrame) -> list[str]:
    return [a for a in ARM_ORDER if a in set(frame["arm"])]


def draw(ctx: StudyContext) -> None:
    curves, runs = ctx.tables["curves"], ctx.tables["runs"]
    for model, model_curves in curves.groupby("model"):
        suffix = "" if model == ctx.primary_model else f"_{model}"
        fig, axes = new_figure(ncols=2)
        loss_floor = model_curves.loc[model_curves["metric"] == "train_loss", "mean"].min() / 10
        panels = (("test_acc", (0.0, 1.0)), ("train_loss", (loss_floor, math.inf)))
        for arm in _arms(model_curves):
            for ax, (metric, limits) in zip(axes[0], panels, strict=True):
                frame = model_curves[(model_curves["arm"] == arm)
                                     & (model_curves["metric"] == metric)]
                band(ax, frame, "epoch", arm, limits=limits)
        axes[0][0].set(xlabel="epoch", ylabel="test accuracy", title=f"{model}, {ctx.profile}")
        axes[0][1].set(xlabel="epoch", ylabel="train loss (epoch mean)", yscale="log")
        axes[0][0].legend()
        save(fig, ctx.figures / f"curves{suffix}.png")

        fig, axes = new_figure()
        ax = axes[0][0]
        table = runs[(runs["model"] == model) & (runs["status"] == "completed")]
        summary = ctx.tables["summary"]
        for i, arm in enumerate(_arms(table)):
            row = summary[(summary["model"] == model) & (summary["arm"] == arm)
                          & (summary["metric"] == "final_test_acc")].iloc[0]
            ax.scatter([i] * int((table["arm"] == arm).sum()),
                       table.loc[table["arm"] == arm, "final_test_acc"], s=8, alpha=0.5)
            if not math.isnan(row["t_low"]):
                ax.errorbar([i], [row["mean"]], yerr=[[row["mean"] - row["t_low"]],
                                                       [row["t_high"] - row["mean"]]],
                            fmt="o", color="black", capsize=3)
        arms = _arms(table)
        ax.set_xticks(range(len(arms)), arms, rotation=30, ha="right")
        ax.set(ylabel="final test accuracy", title=f"{model}: mean and 95% t-interval")
        save(fig, ctx.figures / f"final_accuracy{suffix}.png")

    fig, axes = new_figure(width=4.5)
    ax = axes[0][0]
    for arm in _arms(runs):
        run = next(r for r in ctx.runs if r.arm == arm and r.config["model"]["name"]
                   == ctx.primary_model)
        ax.plot(run.history["epoch"], run.history["lr"], label=arm)
    ax.set(xlabel="epoch", ylabel="learning rate", yscale="log",
           title="schedules as applied (history.csv)")
    ax.legend()
    save(fig, ctx.figures / "schedules.png")
