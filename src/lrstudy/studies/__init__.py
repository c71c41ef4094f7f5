"""Per-study analysis: measures for the claims (measures.json) and the paper figures.

Each study module exposes ``analyze(ctx) -> dict[str, Measure]`` and draws its figures into
``ctx.figures``. Shared mechanisms (run loading, intervals, style) live in lrstudy.sweep and
lrstudy.figures; a study module holds only what is specific to its paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

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


STUDIES = ("p1_log_anneal", "p2_exp_lr", "p3_lr_bandits", "p4_warmup", "p5_crowded_valley")
