"""``python -m lrstudy.studies STUDY [--profile P]``: from a study's aggregated tables, compute
the measures its claims test (measures.json) and draw its figures (paper_figures/STUDY/)."""

from __future__ import annotations

import argparse
import importlib
import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from lrstudy.engine.files import write_json
from lrstudy.studies import STUDIES, StudyContext
from lrstudy.sweep.collect import load_runs


def results_dir(root: Path, profile: str, study: str) -> Path:
    return root / profile / study


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=STUDIES)
    parser.add_argument("--profile", default=None, help="default: params.yaml's profile")
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--figures", type=Path, default=Path("paper_figures"))
    args = parser.parse_args(argv)
    profile = args.profile or _params_profile()
    out = results_dir(args.results, profile, args.study)
    tables = {name: pd.read_csv(out / f"{name}.csv") for name in ("runs", "summary", "curves")}
    module = importlib.import_module(f"lrstudy.studies.{args.study}")
    ctx = StudyContext(profile, load_runs(out / "runs"), tables, args.figures / args.study)
    measures = module.analyze(ctx)
    write_json(out / "measures.json", {k: asdict(v) for k, v in sorted(measures.items())})
    print(json.dumps({k: round(v.value, 6) for k, v in sorted(measures.items())}, indent=1))


def _params_profile() -> str:
    import yaml

    return yaml.safe_load(Path("params.yaml").read_text())["profile"]


if __name__ == "__main__":
    main()
