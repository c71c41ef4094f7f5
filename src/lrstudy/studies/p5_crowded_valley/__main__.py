"""``python -m lrstudy.studies.p5_crowded_valley sweep|tables --profile P``.

sweep: run both protocol phases as Hydra multiruns into results/P/p5_crowded_valley/runs
(extra arguments go to src/train.py, e.g. hydra/launcher=slurm). tables: write the tidy
per-run, per-epoch CSV (DeepOBS JSON spirit) next to it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lrstudy.studies.p5_crowded_valley import protocol, tables
from lrstudy.sweep.collect import load_runs

STUDY = "p5_crowded_valley"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("sweep", "tables"))
    parser.add_argument("--profile", required=True)
    parser.add_argument("--results", type=Path, default=Path("results"))
    args, extra = parser.parse_known_args(argv)
    out = args.results / args.profile / STUDY
    if args.command == "sweep":
        protocol.sweep(args.profile, (out / "runs").resolve(), extra)
    else:
        tables.deepobs_table(load_runs(out / "runs")).to_csv(out / "deepobs_runs.csv",
                                                             index=False)


if __name__ == "__main__":
    main()
