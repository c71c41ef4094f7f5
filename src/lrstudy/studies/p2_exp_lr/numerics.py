"""``python -m lrstudy.studies.p2_exp_lr.numerics --profile P``: P2's two computations that are
not training runs, into results/P/p2_exp_lr/numerics/ (the DVC stage p2_numerics):

    equivalence.csv  float64 lockstep trajectories (conf/experiment/p2_exp_lr/equivalence.yaml;
                     the same at every profile but smoke, which cuts the steps)
    toy.csv          the BN + weight-decay toy
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from lrstudy.engine.files import write_text
from lrstudy.studies.__main__ import results_dir
from lrstudy.studies.p2_exp_lr.common import STUDY, compose_config
from lrstudy.studies.p2_exp_lr.equivalence import run_equivalence
from lrstudy.studies.p2_exp_lr.toy import run_toy

EQUIVALENCE = "p2_exp_lr/equivalence"


def numerics_dir(results: Path, profile: str) -> Path:
    return results_dir(results, profile, STUDY) / "numerics"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True)
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--data", default="data", help="prepared-data root (paths.data)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides (equivalence)")
    args = parser.parse_args(argv)
    out = numerics_dir(args.results, args.profile)
    cfg = compose_config([f"experiment={EQUIVALENCE}", f"profile={args.profile}",
                          f"paths.data={args.data}", *args.overrides])
    equivalence = run_equivalence(cfg, args.jobs)
    write_text(out / "equivalence.csv", equivalence.to_csv(index=False))
    toy = run_toy()
    write_text(out / "toy.csv", toy.to_csv(index=False, float_format="%.6g"))
    worst = equivalence.groupby(["case", "variant"])["deviation"].max()
    print(worst.to_string(float_format=lambda v: f"{v:.3g}"))
    late = toy[toy["step"] > toy["step"].max() / 2]
    print(late.groupby("setting")["excess_loss"].max().to_string(float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
