"""One row per run of the warmup study: its cell (part, family, parameterisation, warmup, x) and
its outcome in the paper's terms (PAPERS.md 4.2): diverged (the engine stopped on a non-finite or
exploding loss), failed (finished, final train accuracy below 1.5x chance) or converged."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from lrstudy.studies.p4_warmup.grid import calibration_key
from lrstudy.sweep.collect import Run

CLASSES = {"cifar100": 100}  # default 10 (MNIST, CIFAR-10, Fashion-MNIST, SVHN)
FAILURE_FACTOR = 1.5
ADAM_UNIT = 1e-5  # the paper's Adam grid 2^x * 1e-5
SEARCHED = ("catapult", "persistent_catapult")


def family(config: dict) -> str:
    """sgd, momentum, sgd_cosine, adam, ..., or the catapult init options."""
    if config["init"]["name"] in SEARCHED:
        return config["init"]["name"]
    name = config["optimizer"]["name"]
    return f"{name}_cosine" if config["schedule"]["name"] == "cosine" else name


def outcome(run: Run) -> str:
    if run.metrics["status"] != "completed":
        return "diverged"
    chance = 1.0 / CLASSES.get(run.config["data"]["name"], 10)
    train_acc = run.metrics["final"].get("train_acc")
    if train_acc is None or not math.isfinite(train_acc):
        return "failed"
    return "failed" if train_acc < FAILURE_FACTOR * chance else "converged"


def load_calibration(runs: list[Run]) -> dict:
    """results/<profile>/p4_warmup/calibration.json, next to the runs directory."""
    if not runs:
        return {"lambda0": {}, "catapult_search": []}
    path = runs[0].path.parent.parent / "calibration.json"
    return json.loads(path.read_text()) if path.exists() else {"lambda0": {},
                                                                 "catapult_search": []}


def cell_table(runs: list[Run], calibration: dict) -> pd.DataFrame:
    """Cells with x = log2(eta_trgt * lambda_0) (SGD family) or log2(eta_trgt / 1e-5) (Adam)."""
    rows = []
    for run in runs:
        cfg = run.config
        part, param = cfg["study"]["part"], cfg["init"]["parameterization"]
        lr = float(cfg["optimizer"]["lr"])
        lam = calibration["lambda0"].get(calibration_key(part, param, []), {}).get("lambda0")
        adam = "beta2" in cfg["optimizer"]
        x = math.log2(lr / ADAM_UNIT) if adam else math.log2(lr * lam) if lam else math.nan
        final = run.metrics["final"]
        rows.append({"part": part, "family": family(cfg), "param": param,
                     "data": cfg["data"]["name"], "warmup": int(cfg["init"]["warmup_steps"]),
                     "lr": lr, "x": round(x, 3), "seed": run.seed, "outcome": outcome(run),
                     "test_acc": final.get("test_acc"), "test_loss": final.get("test_loss"),
                     "train_acc": final.get("train_acc"), "path": str(run.path)})
    return pd.DataFrame(rows)


def history(path: str) -> pd.DataFrame:
    return pd.read_csv(Path(path) / "history.csv")


def metrics(path: str) -> dict:
    return json.loads((Path(path) / "metrics.json").read_text())
