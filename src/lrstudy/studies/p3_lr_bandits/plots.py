"""P3 figures into paper_figures/p3_lr_bandits/: best-found value vs evaluations, evaluations to
reach TPE's final value, the dense LR grid with divergence marked, retrained accuracy."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from lrstudy.figures import band, new_figure, save
from lrstudy.studies.p3_lr_bandits.analysis import TARGET, reach
from lrstudy.studies.p3_lr_bandits.settings import FIDELITIES, Settings
from lrstudy.sweep.stats import summarize

ORDER = ("zooming", "hyperopt", "blie", "random")


def _algorithms(frame: pd.DataFrame) -> list[str]:
    present = set(frame["algorithm"])
    return [a for a in ORDER if a in present] + sorted(present - set(ORDER))


def best_trace(evaluations: pd.DataFrame, figures: Path, profile: str) -> None:
    opts = list(dict.fromkeys(evaluations["optimizer"]))
    fig, axes = new_figure(ncols=len(opts) * len(FIDELITIES))
    for i, (opt, fid) in enumerate((o, f) for o in opts for f in FIDELITIES):
        ax = axes[0][i]
        table = evaluations[(evaluations["optimizer"] == opt) & (evaluations["fidelity"] == fid)]
        for alg in _algorithms(table):
            rows = []
            for number, group in table[table["algorithm"] == alg].groupby("number"):
                rows.append({"evaluation": number + 1,
                             **summarize(group["best_so_far"].astype(float)).as_dict()})
            band(ax, pd.DataFrame(rows), "evaluation", alg, limits=(0.0, 1.0))
        epochs = table["epochs"].iloc[0] if len(table) else math.nan
        ax.set(xlabel="evaluations", title=f"{opt}, {fid} fidelity ({epochs:g} ep), {profile}")
    axes[0][0].set_ylabel("best-found val. accuracy\n(mean, 95% t-interval over seeds)")
    axes[0][0].legend()
    save(fig, figures / "best_trace.png")


def evals_to_target(evaluations: pd.DataFrame, figures: Path) -> None:
    """Per sweeper seed, the evaluations each algorithm needed to reach TPE's final value of the
    same seed; hollow markers at budget + 1: never reached."""
    opts = list(dict.fromkeys(evaluations["optimizer"]))
    fig, axes = new_figure(ncols=len(opts) * len(FIDELITIES))
    for i, (opt, fid) in enumerate((o, f) for o in opts for f in FIDELITIES):
        ax = axes[0][i]
        table = evaluations[(evaluations["optimizer"] == opt) & (evaluations["fidelity"] == fid)]
        budget = int(table["number"].max()) + 1 if len(table) else 0
        algs = _algorithms(table)
        for j, alg in enumerate(algs):
            counts = []
            for seed, tpe in table[table["algorithm"] == TARGET].groupby("sweeper_seed"):
                target = tpe.sort_values("number")["best_so_far"].iloc[-1]
                own = table[(table["algorithm"] == alg) & (table["sweeper_seed"] == seed)]
                if len(own) and math.isfinite(target):
                    counts.append(reach(own, target, budget)[0])
            never = [c for c in counts if c > budget]
            ax.scatter([j] * (len(counts) - len(never)), [c for c in counts if c <= budget],
                       s=10, alpha=0.6)
            ax.scatter([j] * len(never), never, s=14, facecolors="none", edgecolors="gray")
            if counts:
                ax.scatter([j], [sum(counts) / len(counts)], marker="_", s=200, color="black")
        ax.axhline(budget, color="gray", linewidth=0.6, linestyle=":")
        ax.set_xticks(range(len(algs)), algs, rotation=30, ha="right")
        ax.set(title=f"{opt}, {fid} fidelity")
    axes[0][0].set_ylabel("evaluations to reach\nTPE's final best value")
    save(fig, figures / "evals_to_tpe_final.png")


def lr_grid(grid: pd.DataFrame, settings: Settings, figures: Path, profile: str) -> None:
    """Mean final accuracy over grid seeds vs LR; red crosses: diverged runs (how many of the
    seeds); dotted lines: the searched interval."""
    opts = [o for o in settings.optimizers if o in set(grid["optimizer"])]
    fig, axes = new_figure(ncols=max(len(opts), 1))
    for ax, opt in zip(axes[0], opts, strict=False):
        table = grid[grid["optimizer"] == opt]
        for metric in ("val_acc", "test_acc"):
            rows = [{"lr": lr, **summarize(g.loc[g["status"] == "completed", metric]).as_dict()}
                    for lr, g in table.groupby("lr")]
            frame = pd.DataFrame(rows).dropna(subset=["mean"])
            if len(frame):
                band(ax, frame, "lr", metric.replace("_acc", " accuracy"), limits=(0.0, 1.0))
        diverged = table[table["status"] != "completed"].groupby("lr").size()
        for lr, count in diverged.items():
            ax.scatter([lr], [0.0], marker="x", color="red", s=20)
            ax.annotate(f"{count}/{table[table['lr'] == lr]['seed'].nunique()}", (lr, 0.02),
                        fontsize=5, ha="center", color="red")
        for edge in settings.optimizers[opt].interval:
            ax.axvline(edge, color="gray", linestyle=":", linewidth=0.8)
        ax.set(xscale="log", xlabel=f"{opt} learning rate", ylim=(-0.03, 1.0),
               title=f"dense LR grid, {settings.fidelities['high']:g} epochs, {profile}")
    axes[0][0].set_ylabel("final accuracy (x: diverged)")
    axes[0][0].legend()
    save(fig, figures / "lr_grid.png")


def retrained(retrain: pd.DataFrame, figures: Path) -> None:
    """Test accuracy of each sweep's best LR retrained at the high fidelity (fresh seed)."""
    done = retrain[retrain["status"] == "completed"]
    opts = list(dict.fromkeys(retrain["optimizer"]))
    fig, axes = new_figure(ncols=max(len(opts), 1))
    for ax, opt in zip(axes[0], opts, strict=False):
        table = done[done["optimizer"] == opt]
        labels = []
        for alg in _algorithms(retrain):
            for fid in FIDELITIES:
                values = table[(table["algorithm"] == alg) & (table["fidelity"] == fid)]
                x = len(labels)
                labels.append(f"{alg} {fid}")
                ax.scatter([x] * len(values), values["final_test_acc"], s=8, alpha=0.5)
                s = summarize(values["final_test_acc"])
                if not math.isnan(s.t_low):
                    ax.errorbar([x], [s.mean], yerr=[[s.mean - s.t_low], [s.t_high - s.mean]],
                                fmt="o", color="black", capsize=3)
        ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right")
        ax.set(ylabel="test accuracy, retrained", title=f"{opt}: found LR, fully trained")
    save(fig, figures / "retrained.png")


def draw(evaluations: pd.DataFrame, retrain: pd.DataFrame, grid: pd.DataFrame,
         settings: Settings, figures: Path, profile: str) -> None:
    best_trace(evaluations, figures, profile)
    evals_to_target(evaluations, figures)
    lr_grid(grid, settings, figures, profile)
    retrained(retrain, figures)
