"""Per-study analysis: measures for the claims (measures.json) and the paper figures.

Each study module exposes ``analyze(ctx) -> dict[str, Measure]`` and draws its figures into
``ctx.figures``. Shared mechanisms (run loading, intervals, style) live in lrstudy.sweep and
lrstudy.figures; a study module holds only what is specific to its paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lrstudy.errors import ConfigError
from lrstudy.sweep.collect import Run


@dataclass
class StudyContext:
    profile: str
    runs: list[Run]
    tables: dict[str, pd.DataFrame]  # runs, summary, curves (lrstudy.sweep.aggregate)
    figures: Path  # paper_figures/<study>/

    @property
    def primary_model(self) -> str:
        """The experiment's own model (the first one swept when several are)."""
        return self.runs[0].config["model"]["name"] if self.runs else ""


def profile_entry(path: Path, profile: str) -> dict[str, Any]:
    """One profile's entry of a study's settings file that no run composes (P3's search, P4's
    grid, P5's protocol), so editing it never invalidates finished runs."""
    spec = yaml.safe_load(Path(path).read_text())
    if profile not in spec:
        raise ConfigError(f"{Path(path).name} has no profile {profile!r} (has {sorted(spec)})")
    return spec[profile]


STUDIES = ("p1_log_anneal", "p2_exp_lr", "p3_lr_bandits", "p4_warmup", "p5_crowded_valley")
