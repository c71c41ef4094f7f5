"""Figures of the warmup study (paper_figures/p4_warmup/): phase-diagram heatmaps with diverged
(D) and failed (F) cells marked, the largest trainable target LR against warmup length, sharpness
against the stability threshold 2 / eta_t, Adam's preconditioned sharpness, catapult savings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lrstudy.figures import new_figure, save
from lrstudy.studies import StudyContext
from lrstudy.studies.p4_warmup.cells import history, metrics

MARK = {"diverged": "D", "failed": "F"}


def heatmaps(ctx: StudyContext, phase: pd.DataFrame) -> None:
    groups = list(phase.groupby(["family", "param"]))
    if not groups:
        return
    fig, axes = new_figure(ncols=len(groups), width=3.0, height=2.4)
    for ax, ((fam, param), g) in zip(axes[0], groups, strict=True):
        xs, ws = sorted(g["x"].unique()), sorted(g["warmup"].unique())
        grid = np.full((len(ws), len(xs)), np.nan)
        for _, row in g.iterrows():
            i, j = ws.index(row["warmup"]), xs.index(row["x"])
            if row["outcome"] == "converged":
                grid[i, j] = row["test_acc"]
            else:
                ax.text(j, i, MARK[row["outcome"]], ha="center", va="center", fontsize=6)
        image = ax.imshow(grid, origin="lower", aspect="auto", vmin=0.8, vmax=1.0,
                          cmap="viridis")
        ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs], fontsize=5)
        ax.set_yticks(range(len(ws)), [str(max(w, 1)) for w in ws])
        ax.set(xlabel="x (eta_trgt = 2^x unit)", ylabel="T_wrm", title=f"{fam}, {param}")
        ax.grid(False)
    fig.colorbar(image, ax=axes[0].tolist(), label="final test accuracy")
    save(fig, ctx.figures / "phase_heatmaps.png")


def boundary(ctx: StudyContext, phase: pd.DataFrame) -> None:
    fig, axes = new_figure()
    ax = axes[0][0]
    for (fam, param), g in phase.groupby(["family", "param"]):
        ok = g[g["outcome"] == "converged"].groupby("warmup")["x"].max()
        ax.plot([max(w, 1) for w in ok.index], ok.values, marker="o", label=f"{fam} {param}")
    ax.set(xscale="log", xlabel="T_wrm (steps)", ylabel="largest converged x",
           title="max trainable eta_trgt vs warmup")
    ax.legend(fontsize=5)
    save(fig, ctx.figures / "max_lr_vs_warmup.png")


def mechanisms(ctx: StudyContext, mech: pd.DataFrame) -> None:
    sgd = mech[mech["family"] == "sgd"]
    if not sgd.empty:
        params = sorted(sgd["param"].unique())
        fig, axes = new_figure(ncols=2 * len(params), width=2.8)
        for k, param in enumerate(params):
            top, bottom = axes[0][2 * k], axes[0][2 * k + 1]
            for _, row in sgd[sgd["param"] == param].sort_values("warmup").iterrows():
                h = history(row["path"])
                s = h.dropna(subset=["sharpness"])
                line = top.plot(s["step"], s["sharpness"], label=f"T_wrm={max(row['warmup'], 1)}")
                top.plot(h["step"], 2 / h["lr"].clip(lower=1e-12), ls="--",
                         color=line[0].get_color(), lw=0.6)
                bottom.plot(h["step"], h["train_loss"], color=line[0].get_color())
            top.set(yscale="log", xlabel="step", ylabel="sharpness (-- 2/eta_t)",
                    title=f"GD {param}")
            bottom.set(yscale="log", xlabel="step", ylabel="train loss", title=f"GD {param}")
            top.legend(fontsize=5)
        save(fig, ctx.figures / "mechanisms_sgd.png")
    adam = mech[mech["family"] != "sgd"]
    if not adam.empty:
        fig, axes = new_figure(ncols=2, width=3.2)
        for _, row in adam.iterrows():
            h = history(row["path"])
            s = h.dropna(subset=["precond_sharpness"])
            label = f"{row['family']} {row['param']}"
            axes[0][0].plot(s["step"], s["precond_sharpness"], label=label)
            axes[0][1].plot(h["step"], h["train_loss"], label=label)
        beta1 = 0.9
        lr = adam["lr"].max()
        axes[0][0].axhline((2 + 2 * beta1) / (lr * (1 - beta1)), color="gray", ls="--", lw=0.6)
        axes[0][0].set(yscale="log", xlabel="step", ylabel="lambda_max(P^-1 H)",
                       title="Adam family, full batch, MSE")
        axes[0][1].set(yscale="log", xlabel="step", ylabel="train loss")
        axes[0][0].legend(fontsize=5)
        save(fig, ctx.figures / "mechanisms_adam.png")


def catapult(ctx: StudyContext, cat: pd.DataFrame) -> None:
    searched = cat[cat["family"] == "catapult"]
    if searched.empty:
        return
    fig, axes = new_figure()
    ax = axes[0][0]
    rows = [metrics(p).get("init", {}) for p in searched["path"]]
    rows = [r for r in rows if r]
    if not rows:
        return
    table = pd.DataFrame(rows).sort_values("target_lr")
    ax.plot(table["target_lr"], table["warmup_steps_saved"], marker="o", label="measured")
    formula = [w * min(1.0, c / t) for w, c, t in zip(
        table["warmup_steps_configured"], table["eta_c"], table["target_lr"], strict=True)]
    ax.plot(table["target_lr"], formula, ls="--", label="T_wrm eta_c / eta_trgt")
    eta_c = table["eta_c"].median()
    if math.isfinite(eta_c):
        ax.axvline(eta_c, color="gray", lw=0.6)
    ax.set(xscale="log", xlabel="eta_trgt", ylabel="warmup steps saved",
           title="eta_init = eta_c")
    ax.legend()
    save(fig, ctx.figures / "catapult_steps_saved.png")


def draw(ctx: StudyContext, cells: pd.DataFrame) -> None:
    phase = cells[cells["part"] == "phase"]
    if not phase.empty:
        heatmaps(ctx, phase)
        boundary(ctx, phase)
    mechanisms(ctx, cells[cells["part"] == "mechanisms"])
    catapult(ctx, cells[cells["part"] == "catapult"])
