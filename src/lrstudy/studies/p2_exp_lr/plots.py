"""P2 figures (paper_figures/p2_exp_lr/), in the shared style of lrstudy.figures.

    equivalence  per-tensor direction deviation vs step, with and without the momentum
                 correction, per norm type (P2-C1, C5, C6)
    explr_vs_wd  test accuracy, LR and whole-network |w|^2 of ExpLR vs fixed LR + WD (P2-C4)
    norm_over_lr |w|^2/lr per scale-invariant layer for both arms (P2-C2)
    texp         test accuracy, LR and per-epoch angle of step decay, TEXP, TEXP++ (P2-C3)
    toy          the BN + WD toy's excess loss and |w| per setting (P2-C7)
"""

from __future__ import annotations

import pandas as pd

from lrstudy.engine.layers import WHOLE
from lrstudy.figures import band, new_figure, save
from lrstudy.studies import StudyContext
from lrstudy.studies.p2_exp_lr.common import INVARIANT

FLOOR = 1e-17  # deviations of exactly 0 on a log axis
NORM_CASES = ("batch", "group", "layer")
EXTRA_CASES = {"batch_default_eps": "batch, PyTorch eps 1e-5", "batch_cosine":
               "batch, cosine vs its exp. counterpart"}
TOY_LABELS = {"bn": "BN only", "wd": "WD only", "bn_wd": "BN + WD"}
DECAY_ARMS = ("step", "texp", "texp_pp")
STYLES = {"step": "-", "texp": "--", "texp_pp": ":"}  # the curves overlap: keep each visible
CONST_ARMS = ("wd_const", "exp_lr")


def draw(ctx: StudyContext, equivalence: pd.DataFrame, toy: pd.DataFrame,
         layers: pd.DataFrame) -> None:
    draw_equivalence(ctx, equivalence)
    draw_toy(ctx, toy)
    draw_explr(ctx, layers)
    draw_norm_over_lr(ctx, layers)
    draw_texp(ctx, layers)


def draw_equivalence(ctx: StudyContext, table: pd.DataFrame) -> None:
    norms = [n for n in NORM_CASES if n in set(table["case"])]
    fig, axes = new_figure(ncols=len(norms))
    for ax, norm in zip(axes[0], norms, strict=True):
        for variant, style in (("corrected", "-"), ("uncorrected", "--")):
            rows = table[(table["case"] == norm) & (table["variant"] == variant)]
            ax.plot(rows["step"], rows["deviation"].clip(lower=FLOOR), style,
                    label=f"ExpLR, {variant}")
        if norm == "batch":
            for case, label in EXTRA_CASES.items():
                rows = table[table["case"] == case]
                ax.plot(rows["step"], rows["deviation"].clip(lower=FLOOR), ":", label=label)
        ax.set(xlabel="step", yscale="log", title=f"{norm} norm, float64")
    axes[0][0].set_ylabel("max over tensors |w/|w| - w~/|w~||")
    axes[0][0].legend()
    _save(fig, ctx, "equivalence")


def draw_toy(ctx: StudyContext, table: pd.DataFrame) -> None:
    fig, axes = new_figure(ncols=2)
    for setting, label in TOY_LABELS.items():
        rows = table[table["setting"] == setting]
        axes[0][0].plot(rows["step"], rows["excess_loss"].clip(lower=FLOOR), label=label)
        axes[0][1].plot(rows["step"], rows["w_norm"], label=label)
    axes[0][0].set(xlabel="GD step", ylabel="loss - optimum", yscale="log",
                   title="BN+WD toy (reconstruction)")
    axes[0][1].set(xlabel="GD step", ylabel="|w|", yscale="log")
    axes[0][0].legend()
    _save(fig, ctx, "toy")


def _first_seed(layers: pd.DataFrame, arm: str) -> pd.DataFrame:
    rows = layers[layers["arm"] == arm]
    return rows[rows["seed"] == rows["seed"].min()]


def _accuracy(ctx: StudyContext, ax, arms: tuple[str, ...]) -> None:
    curves = ctx.tables["curves"]
    for arm in arms:
        band(ax, curves[(curves["arm"] == arm) & (curves["metric"] == "test_acc")], "epoch",
             arm, limits=(0.0, 1.0))
    ax.set(xlabel="epoch", ylabel="test accuracy (mean, 95% CI)", title=ctx.profile)
    ax.legend()


def _lr_curve(ax, ctx: StudyContext, arm: str, style: str = "-") -> None:
    """The LR the arm's first run trained with (the same for every seed)."""
    run = next((r for r in ctx.runs if r.arm == arm), None)
    if run is not None:
        ax.plot(run.history["epoch"], run.history["lr"], style, label=arm)


def draw_explr(ctx: StudyContext, layers: pd.DataFrame) -> None:
    fig, axes = new_figure(ncols=3)
    _accuracy(ctx, axes[0][0], CONST_ARMS)
    for arm in CONST_ARMS:
        _lr_curve(axes[0][1], ctx, arm)
        whole = _first_seed(layers, arm)
        whole = whole[whole["layer"] == WHOLE]
        axes[0][2].plot(whole["epoch"], whole["sq_norm"], label=arm)
    axes[0][1].set(xlabel="epoch", ylabel="learning rate", yscale="log", title="LR (seed 0)")
    axes[0][2].set(xlabel="epoch", ylabel="|w|^2, whole network", yscale="log",
                   title="weight norm (seed 0)")
    axes[0][1].legend()
    _save(fig, ctx, "explr_vs_wd")


def draw_norm_over_lr(ctx: StudyContext, layers: pd.DataFrame) -> None:
    """Both arms in one panel: by Thm 1.1 their curves coincide (up to the factor alpha)."""
    fig, axes = new_figure(width=4.5, height=3.0)
    ax = axes[0][0]
    colors: dict[str, str] = {}
    for arm, style in zip(CONST_ARMS, ("-", "--"), strict=True):
        rows = _first_seed(layers, arm)
        chosen = rows[rows["layer"].str.match(INVARIANT) | (rows["layer"] == WHOLE)]
        for layer, frame in chosen.groupby("layer"):
            line = ax.plot(frame["epoch"], frame["sq_norm"] / frame["lr"], style,
                           color=colors.get(layer),
                           label=f"{layer.removesuffix('.weight')}, {arm}")[0]
            colors[layer] = line.get_color()
    ax.set(xlabel="epoch", ylabel="|w|^2 / lr", yscale="log",
           title="|w|^2/lr per scale-invariant layer (seed 0)")
    ax.legend(ncols=2, fontsize=6)
    _save(fig, ctx, "norm_over_lr")


def draw_texp(ctx: StudyContext, layers: pd.DataFrame) -> None:
    fig, axes = new_figure(ncols=3)
    _accuracy(ctx, axes[0][0], DECAY_ARMS)
    for arm in DECAY_ARMS:
        _lr_curve(axes[0][1], ctx, arm, STYLES[arm])
        whole = layers[(layers["arm"] == arm) & (layers["layer"] == WHOLE)
                       & (layers["epoch"] > 0)]
        mean = whole.groupby("epoch", as_index=False)["angle"].mean()
        axes[0][2].plot(mean["epoch"], mean["angle"], STYLES[arm], marker=".", label=arm)
    axes[0][1].set(xlabel="epoch", ylabel="learning rate", yscale="log", title="LR (seed 0)")
    axes[0][2].set(xlabel="epoch", ylabel="angle(w_e, w_e-1), rad", yscale="log",
                   title="per-epoch angle, whole network (mean over seeds)")
    axes[0][2].legend()
    _save(fig, ctx, "texp")


def _save(fig, ctx: StudyContext, name: str) -> None:
    fig.tight_layout()
    save(fig, ctx.figures / f"{name}.png")
