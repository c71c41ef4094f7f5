"""P5: descending through a crowded valley (Schmidt, Schneider & Hennig 2021; PAPERS.md 5).

protocol: the one-shot / random-search / re-run job lists and winner selection;
tables: the tidy per-epoch table and the per-budget results; measures: P5-C1..C5, C7;
figures: the paper's plots. ``analyze(ctx)`` is the figures stage's entry point.
"""

from __future__ import annotations

from lrstudy.claims import Measure
from lrstudy.studies import StudyContext
from lrstudy.studies.p5_crowded_valley import figures, measures, tables
from lrstudy.studies.p5_crowded_valley.protocol import load_settings


def analyze(ctx: StudyContext) -> dict[str, Measure]:
    settings = load_settings(ctx.profile)
    results = tables.results_table(ctx.runs, settings)
    grid = tables.grid_table(ctx.runs)
    ctx.figures.mkdir(parents=True, exist_ok=True)
    results.to_csv(ctx.figures / "results.csv", index=False)
    detail = {"data": "+".join(sorted(set(results["problem"]))),
              "model": f"{len(set(results['optimizer']))} optimizers",
              "seeds": len(settings.seeds)}
    figures.draw(results, grid, ctx.figures, ctx.profile)
    return measures.compute(results, grid, detail)
