"""Read a sweep directory back: one record per finished run, grouped by config minus seed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lrstudy.engine.rundir import SCHEMA_VERSION

IGNORED = ("seed", "paths")  # keys that do not make two runs different arms


@dataclass
class Run:
    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    meta: dict[str, Any]

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def group(self) -> str:
        """Hash of the config without seed: runs that differ only by seed share it."""
        rest = {k: v for k, v in self.config.items() if k not in IGNORED}
        rest["trainer"] = {k: v for k, v in rest["trainer"].items() if k != "progress"}
        return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def arm(self) -> str:
        return self.config.get("arm") or self.group

    @cached_property
    def evals(self) -> pd.DataFrame:
        return pd.read_csv(self.path / "eval.csv")

    @cached_property
    def history(self) -> pd.DataFrame:
        return pd.read_csv(self.path / "history.csv")


def load_runs(sweep_dir: Path) -> list[Run]:
    """Every finished run below ``sweep_dir`` (a run is finished when it has DONE).

    Refuses runs written under another result-schema version: mixing them would compare
    numbers that do not mean the same thing.
    """
    runs = []
    for done in sorted(Path(sweep_dir).glob("**/DONE")):
        path = done.parent
        meta = json.loads((path / "meta.json").read_text())
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"{path}: schema_version {meta.get('schema_version')} differs from "
                             f"{SCHEMA_VERSION}; rerun it or aggregate it separately")
        runs.append(Run(path, yaml.safe_load((path / "config.yaml").read_text()),
                        json.loads((path / "metrics.json").read_text()), meta))
    return runs


def runs_table(runs: list[Run]) -> pd.DataFrame:
    """One row per run: arm, seed, status, objective and every final/best metric."""
    rows = []
    for run in runs:
        row = {"run": run.path.name, "data": run.config["data"]["name"],
               "model": run.config["model"]["name"], "arm": run.arm, "group": run.group,
               "seed": run.seed,
               "status": run.metrics["status"], "objective": run.metrics["objective"],
               "steps": run.metrics["steps"], "wall_time_s": run.metrics["wall_time_s"]}
        row |= {f"final_{k}": v for k, v in run.metrics["final"].items()}
        row |= {f"best_{k}": v for k, v in run.metrics["best"].items()}
        rows.append(row)
    table = pd.DataFrame(rows)
    duplicated = table.duplicated(["group", "seed"])
    if duplicated.any():
        raise ValueError(f"duplicate seeds for one config: {table[duplicated]['run'].tolist()}")
    return table
