"""The measures of conf/claims/p4.yaml from the warmup study's cells.

Heatmap cells are single runs (as the paper's), so most measures are exact values of the
mini grid, in doublings of eta_trgt (x) or accuracy points; where cells are paired (catapult vs
linear warmup over target LRs, GI-Adam vs Adam over matched cells) the interval is a
t-interval over those pairs. A measure whose cells are missing is left out (its claim reads
"not run").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lrstudy.claims import Measure
from lrstudy.studies import StudyContext
from lrstudy.studies.p4_warmup import plots
from lrstudy.studies.p4_warmup.cells import cell_table, history, load_calibration, metrics
from lrstudy.sweep.stats import t_interval

SPIKE = 1.2  # a catapult: the full-batch loss exceeds 1.2x its running minimum


def _exact(value: float, cells: pd.DataFrame, **extra) -> Measure:
    detail = {"data": cells["data"].iloc[0], "model": "fcn", "seeds": int(cells["seed"].nunique()),
              **extra}
    return Measure(value, value, value, len(cells), detail)


def _paired(diffs: list[float], cells: pd.DataFrame) -> Measure | None:
    diffs = [d for d in diffs if math.isfinite(d)]
    if not diffs:
        return None
    low, high = t_interval(diffs) if len(diffs) > 1 else (math.nan, math.nan)
    return Measure(float(np.mean(diffs)), low, high, len(diffs),
                   {"data": cells["data"].iloc[0], "model": "fcn", "seeds": len(diffs)})


def xmax(cells: pd.DataFrame) -> pd.Series:
    """Per warmup: the largest x whose cell converged (NaN if none did)."""
    ok = cells[cells["outcome"] == "converged"]
    return ok.groupby("warmup")["x"].max().reindex(sorted(cells["warmup"].unique()))


def xbest(cells: pd.DataFrame) -> pd.Series:
    ok = cells[cells["outcome"] == "converged"]
    return ok.loc[ok.groupby("warmup")["test_acc"].idxmax()].set_index("warmup")["x"]


def phase_measures(cells: pd.DataFrame) -> dict[str, Measure]:
    out: dict[str, Measure] = {}
    phase = cells[cells["part"] == "phase"]
    groups = {f"{f}_{p}": g for (f, p), g in phase.groupby(["family", "param"])}
    for name, g in groups.items():
        top = xmax(g)
        if len(top) > 1 and top.notna().all():
            out[f"phase/{name}/xmax_gain"] = _exact(top.iloc[-1] - top.iloc[0], g)
            out[f"phase/{name}/xmax_w1"] = _exact(top.iloc[0], g)
        ok = g[g["outcome"] == "converged"]
        if not ok.empty and (ok["warmup"] == 0).any():
            best_w1 = ok.loc[ok["warmup"] == 0, "test_acc"].max()
            out[f"phase/{name}/best_gap_w1"] = _exact(ok["test_acc"].max() - best_w1, g)
            gap = (top - xbest(g)).dropna()
            out[f"phase/{name}/xbest_below_boundary"] = _exact(float(gap.mean()), g)
            # P4-C2: away from the boundary (x below every warmup's xmax), the accuracy range
            # across warmups at fixed x
            safe = ok[ok["x"] <= top.min() - 1]
            counts = safe.groupby("x")["test_acc"].transform("size")
            ranges = safe[counts == len(top)].groupby("x")["test_acc"] \
                .agg(lambda a: a.max() - a.min())
            if not ranges.empty:
                out[f"phase/{name}/acc_range_across_warmup"] = _exact(float(ranges.mean()), g)
    for other, base in (("momentum_sp", "sgd_sp"), ("sgd_cosine_sp", "sgd_sp"),
                        ("gi_adam_sp", "adam_sp"), ("ri_adam_sp", "adam_sp"),
                        ("radam_sp", "adam_sp")):
        for key in ("xmax_w1", "xmax_gain"):
            a, b = out.get(f"phase/{other}/{key}"), out.get(f"phase/{base}/{key}")
            if a and b:
                out[f"phase/{other}-{base}/{key}"] = _exact(a.value - b.value, groups[other])
        if other in groups and base in groups:
            out |= _matched(groups[other], groups[base], f"phase/{other}-{base}")
    if "sgd_cosine_sp" in groups and "sgd_sp" in groups:
        shift = (xmax(groups["sgd_cosine_sp"]) - xmax(groups["sgd_sp"])).abs().dropna()
        if not shift.empty:
            out["phase/sgd_cosine_sp-sgd_sp/xmax_abs_shift"] = _exact(
                float(shift.mean()), groups["sgd_cosine_sp"])
    adam = phase[phase["family"].isin(["adam", "gi_adam", "ri_adam", "radam"])]
    failed = adam[adam["outcome"] != "converged"]
    if not failed.empty:
        out["phase/adam_family/nonconverged_finite_share"] = _exact(
            float((failed["outcome"] == "failed").mean()), failed)
    return out


def _matched(a: pd.DataFrame, b: pd.DataFrame, name: str) -> dict[str, Measure]:
    """Paired over cells (x, warmup) where both converged: test accuracy and loss differences."""
    keys = ["x", "warmup", "seed"]
    both = a.merge(b, on=keys, suffixes=("_a", "_b"))
    both = both[(both["outcome_a"] == "converged") & (both["outcome_b"] == "converged")]
    out = {}
    if name.startswith("phase/sgd_cosine"):  # P4-C7: small vs large target LRs
        for label, pick in (("small_x", both["x"] == both["x"].min()),
                            ("large_x", both["x"] == both["x"].max())):
            found = _paired((both.loc[pick, "test_acc_a"] - both.loc[pick, "test_acc_b"])
                            .tolist(), a)
            if found:
                out[f"{name}/test_acc_{label}"] = found
    for metric in ("test_acc", "test_loss"):
        found = _paired((both[f"{metric}_a"] - both[f"{metric}_b"]).tolist(), a)
        if found:
            out[f"{name}/{metric}"] = found
    return out


def first_spike(losses: np.ndarray, steps: np.ndarray) -> float:
    running = np.minimum.accumulate(losses)
    spikes = np.nonzero(losses[1:] > SPIKE * running[:-1])[0]
    return float(steps[spikes[0] + 1]) if len(spikes) else math.nan


def mechanism_measures(cells: pd.DataFrame) -> dict[str, Measure]:
    out: dict[str, Measure] = {}
    mech = cells[cells["part"] == "mechanisms"]
    for param, g in mech[mech["family"] == "sgd"].groupby("param"):
        name = f"mechanisms/sgd_{param}"
        warm = g.sort_values("warmup")
        if (warm["warmup"] == 0).any():
            w1 = warm[warm["warmup"] == 0].iloc[0]
            out[f"{name}/w1_diverged"] = _exact(float(w1["outcome"] == "diverged"), warm)
        longest = warm.iloc[-1]
        h = history(longest["path"]).dropna(subset=["sharpness"])
        within = h[h["step"] < longest["warmup"]]
        crossed = within[within["sharpness"] * within["lr"] >= 2]
        if not crossed.empty:
            after = within[within["step"] >= crossed["step"].iloc[0]]
            ratio = (after["sharpness"] * after["lr"] / 2 - 1).abs()
            out[f"{name}/tracking_error"] = _exact(float(ratio.median()), warm)
        if len(h) and h["sharpness"].iloc[0] > 0:
            end = h[h["step"] <= longest["warmup"]]["sharpness"].iloc[-1]
            out[f"{name}/sharpness_end_over_initial"] = _exact(end / h["sharpness"].iloc[0],
                                                               warm)
        spikes = {}
        for _, row in warm[warm["warmup"] > 0].iterrows():
            full = history(row["path"])
            spikes[row["warmup"]] = first_spike(full["train_loss"].to_numpy(),
                                                full["step"].to_numpy())
        if len(spikes) > 1:
            order = sorted(spikes)
            out[f"{name}/first_catapult_delay"] = _exact(spikes[order[-1]] - spikes[order[0]],
                                                         warm)
    adam = mech[mech["family"].isin(["adam", "gi_adam", "ri_adam"]) & (mech["warmup"] == 0)]
    initial = {}
    for _, row in adam.iterrows():
        h = history(row["path"])
        key = f"{row['family']}_{row['param']}"
        pre = h.dropna(subset=["precond_sharpness"])
        initial[key] = float(pre["precond_sharpness"].iloc[0])
        out[f"mechanisms/{key}/log10_precond_sharpness_0"] = _exact(math.log10(initial[key]),
                                                                    adam)
        beta1 = 0.9
        plain = h.dropna(subset=["sharpness"])
        out[f"mechanisms/{key}/sharpness_over_threshold_max"] = _exact(
            float((plain["sharpness"] * plain["lr"] / (2 + 2 * beta1)).max()), adam)
        early = h[h["step"] < 32]["train_loss"]
        out[f"mechanisms/{key}/early_loss_peak_over_initial"] = _exact(
            float(early.max() / early.iloc[0]), adam)
    for variant in ("gi_adam", "ri_adam"):
        for param in ("sp", "simple_mup"):
            a, b = initial.get(f"{variant}_{param}"), initial.get(f"adam_{param}")
            if a and b:
                out[f"mechanisms/{variant}_{param}-adam_{param}/precond_sharpness_0_ratio"] = \
                    _exact(a / b, adam)
    return out


def catapult_measures(cells: pd.DataFrame, calibration: dict) -> dict[str, Measure]:
    out: dict[str, Measure] = {}
    cat = cells[cells["part"] == "catapult"]
    searched = cat[cat["family"] == "catapult"]
    errors, passes = [], []
    for _, row in searched.iterrows():
        init = metrics(row["path"]).get("init", {})
        if not init:
            continue
        passes.append(init["forward_passes"])
        if init["target_lr"] > init["eta_c"]:  # T_save = T_wrm eta_c / eta_trgt (before T_fp/2)
            formula = init["warmup_steps_configured"] * init["eta_c"] / init["target_lr"]
            errors.append(abs(init["warmup_steps_saved"] - formula))
    if errors:
        out["catapult/steps_saved_formula_error_max"] = _exact(max(errors), searched)
    if passes:
        out["catapult/search_forward_passes_max"] = _exact(float(max(passes)), searched)
    linear = cat[cat["family"] == "sgd"]
    if not searched.empty and not linear.empty:
        same = linear[linear["warmup"].isin(searched["warmup"].unique())]
        out |= _matched(searched, same, "catapult/catapult-linear")
    persistent = cat[cat["family"] == "persistent_catapult"]
    if not persistent.empty and not linear.empty:
        shortest = linear[linear["warmup"] == linear["warmup"].min()]
        top_p = persistent.loc[persistent["outcome"] == "converged", "x"].max()
        top_l = shortest.loc[shortest["outcome"] == "converged", "x"].max()
        if math.isfinite(top_p) and math.isfinite(top_l):
            out["catapult/persistent-linear_shortest/xmax"] = _exact(top_p - top_l, persistent)
        horizon = int(linear["warmup"].max())
        diffs = []
        for _, row in persistent.iterrows():
            match = shortest[(shortest["x"] == row["x"]) & (shortest["seed"] == row["seed"])]
            if match.empty or row["outcome"] == "diverged" or \
                    match.iloc[0]["outcome"] == "diverged":
                continue
            peaks = [float(np.log(_peak(p, horizon))) for p in (row["path"],
                                                                 match.iloc[0]["path"])]
            diffs.append(peaks[0] - peaks[1])
        found = _paired(diffs, persistent)
        if found:
            out["catapult/persistent-linear_shortest/log_peak_loss"] = found
    table = pd.DataFrame(calibration.get("catapult_search", []))
    if not table.empty:
        detail = {"data": cells["data"].iloc[0] if len(cells) else "—", "model": "fcn",
                  "seeds": 1}
        at = table[table["delta"] == 0.1] if (table["delta"] == 0.1).any() else table
        out["catapult/eta_c_spread_over_lr0"] = Measure.exact(
            float(at["eta_c"].max() / at["eta_c"].min()), **detail)
        mid = table[table["lr0"] == table["lr0"].median()] if len(table) else table
        if mid.empty:
            mid = table[table["lr0"] == table["lr0"].iloc[0]]
        out["catapult/eta_c_spread_over_delta"] = Measure.exact(
            float(mid["eta_c"].max() / mid["eta_c"].min()), **detail)
    return out


def _peak(path: str, horizon: int) -> float:
    """max training loss over the first ``horizon`` steps, relative to the first step's."""
    h = history(path)
    early = h[h["step"] < horizon]["train_loss"]
    return float(early.max() / early.iloc[0])


def analyze(ctx: StudyContext) -> dict[str, Measure]:
    calibration = load_calibration(ctx.runs)
    cells = cell_table(ctx.runs, calibration)
    if cells.empty:
        return {}
    measures = phase_measures(cells) | mechanism_measures(cells) | \
        catapult_measures(cells, calibration)
    plots.draw(ctx, cells)
    return measures
