"""``python -m lrstudy.studies.p4_warmup {calibrate,sweep} [--profile P]``: the warmup study's
sweep, which the generic one cannot express (target LRs scaled by a measured lambda_0).

    calibrate  results/<profile>/p4_warmup/calibration.json: lambda_0 per part and
               parameterisation, and the eta_c search table of P4-C13
    sweep      every cell of conf/study/p4_warmup_grid.yaml as one Hydra multirun over a
               jobs file (hydra/sweeper=listed, hydra/launcher=parallel by default) into
               results/<profile>/p4_warmup/runs; finished runs are skipped, as in any sweep
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from lrstudy.config import register_configs
from lrstudy.engine.files import write_json
from lrstudy.paths import register_resolvers
from lrstudy.studies.__main__ import _params_profile
from lrstudy.studies.p4_warmup.grid import calibrate, jobs
from lrstudy.sweep.jobs import launch, write_jobs

STUDY = "p4_warmup"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("calibrate", "sweep"))
    parser.add_argument("--profile", default=None, help="default: params.yaml's profile")
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--data", default="data", help="prepared-data root (paths.data)")
    parser.add_argument("--launcher", default="parallel", help="hydra/launcher option")
    args = parser.parse_args(argv)
    profile = args.profile or _params_profile()
    out = args.results / profile / STUDY
    if args.command == "calibrate":
        register_configs()
        register_resolvers()
        write_json(out / "calibration.json", calibrate(profile, args.data))
        print((out / "calibration.json").read_text())
        return
    calibration = json.loads((out / "calibration.json").read_text())
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    runs = out / "runs"
    launch(write_jobs(runs / "jobs.txt", jobs(profile, calibration)), runs,
           [f"hydra/launcher={args.launcher}", f"paths.data={args.data}", "trainer.progress=off"],
           env)


if __name__ == "__main__":
    main()
