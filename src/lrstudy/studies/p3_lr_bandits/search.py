"""``python -m lrstudy.studies.p3_lr_bandits.search --profile P``: the LR-search study's runs
into results/P/p3_lr_bandits/ (the DVC stage p3_search), in three resumable phases:

    grid     the dense LR grid per optimizer at the high fidelity: a plain Hydra multirun into
             runs/ (aggregated like any sweep); finished runs are skipped
    search   every (optimizer, fidelity, algorithm, sweeper seed) as one
             ``src/train.py -m hydra/sweeper=<algorithm>`` into search/<opt>/<fid>/<alg>/seed_S/;
             a sweep whose results match its command is skipped, an interrupted one resumes
    retrain  each sweep's best LR once more at the high fidelity with a fresh seed
             (hydra/sweeper=listed) into search/retrain/

and the tidy tables search/evaluations.csv (one row per evaluation, with its training steps and
wall time) and search/retrain.csv (one row per sweep) that the analysis reads.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lrstudy.engine.files import write_text
from lrstudy.studies.__main__ import _params_profile
from lrstudy.studies.p3_lr_bandits.settings import (
    ROOT,
    SETTINGS_FILE,
    STUDY,
    Settings,
    Sweep,
    load_settings,
)
from lrstudy.sweep.collect import load_runs

COMMAND_FILE = "command.json"  # the overrides a finished sweep ran with


def _train(*overrides: str) -> list[str]:
    return [sys.executable, str(ROOT / "src" / "train.py"), "-m", *overrides]


def common_overrides(profile: str, data: str, extra: Sequence[str] = ()) -> list[str]:
    return [f"experiment={STUDY}/{profile}", f"profile={profile}", f"paths.data={data}",
            "trainer.progress=off", *extra]


def _finished(directory: Path) -> set[tuple[str, str, int]]:
    """(optimizer, LR, seed) of every finished run below ``directory``."""
    return {(r.config["optimizer"]["name"], *_run_key(r.config["optimizer"]["lr"], r.seed))
            for r in load_runs(directory)} if directory.exists() else set()


def grid_commands(settings: Settings, out: Path, common: list[str],
                  launcher: str) -> list[list[str]]:
    """One multirun per optimizer whose grid (LRs x grid seeds, high fidelity) is not finished;
    train.py itself skips the finished runs of an unfinished grid."""
    seeds, done = ",".join(map(str, settings.grid_seeds)), _finished(out / "runs")
    return [_train(*common, f"optimizer={name}",
                   f"optimizer.lr={','.join(f'{lr:g}' for lr in space.grid_lrs())}",
                   f"seed={seeds}", f"trainer.epochs={settings.fidelities['high']:g}",
                   f"hydra/launcher={launcher}", f"hydra.sweep.dir={out / 'runs'}")
            for name, space in settings.optimizers.items()
            if not {(name, *_run_key(lr, s)) for lr in space.grid_lrs()
                    for s in settings.grid_seeds} <= done]


def sweep_overrides(sweep: Sweep, settings: Settings, common: list[str],
                    launcher: str) -> list[str]:
    """The ``src/train.py -m`` arguments of one bandit sweep (results in its own directory)."""
    constants = [f"hydra.sweeper.{key}={json.dumps(value).replace(' ', '')}"
                 for key, value in sorted(settings.algorithms[sweep.algorithm].items())]
    return [*common, f"optimizer={sweep.optimizer}",
            f"trainer.epochs={settings.fidelities[sweep.fidelity]:g}",
            settings.optimizers[sweep.optimizer].search_override(),
            f"hydra/sweeper={sweep.algorithm}", f"hydra.sweeper.budget={settings.budget}",
            f"hydra.sweeper.batch_size={settings.batch_size}", f"hydra.sweeper.seed={sweep.seed}",
            "hydra.sweeper.direction=maximize", "hydra.sweeper.pull_seed_key=seed", *constants,
            f"hydra/launcher={launcher}"]


def is_finished(directory: Path, overrides: list[str], budget: int) -> bool:
    """True when the sweep in ``directory`` ran exactly these overrides to its whole budget."""
    results, command = directory / "optimization_results.yaml", directory / COMMAND_FILE
    if not (results.exists() and command.exists()):
        return False
    done = yaml.safe_load(results.read_text())
    return json.loads(command.read_text()) == overrides and done["n_evaluations"] >= budget


def run_sweep(sweep: Sweep, overrides: list[str], out: Path, env: dict[str, str]) -> str:
    directory = sweep.directory(out)
    directory.mkdir(parents=True, exist_ok=True)
    command = _train(*overrides, f"hydra.sweep.dir={directory}")
    with open(directory / "sweep.log", "w") as log:
        done = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = (directory / "sweep.log").read_text()[-3000:]
        raise RuntimeError(f"sweep {directory} failed ({shlex.join(command[1:])}):\n{tail}")
    write_text(directory / COMMAND_FILE, json.dumps(overrides))
    return f"{directory.relative_to(out)}: done"


def run_search(settings: Settings, out: Path, common: list[str], launcher: str, jobs: int,
               env: dict[str, str]) -> None:
    """Every sweep not finished yet, ``jobs`` at a time (each sweep is sequential)."""
    todo = []
    for sweep in settings.sweeps():
        overrides = sweep_overrides(sweep, settings, common, launcher)
        if is_finished(sweep.directory(out), overrides, settings.budget):
            print(f"{sweep.directory(out).relative_to(out)}: finished, skipped", flush=True)
        else:
            todo.append((sweep, overrides))
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        for message in pool.map(lambda t: run_sweep(*t, out, env), todo):
            print(message, flush=True)


def retrain_jobs(settings: Settings, out: Path) -> list[tuple[str, str, int]]:
    """(optimizer, LR, seed) per sweep that found a best LR: that LR with a fresh seed."""
    jobs = []
    for sweep in settings.sweeps():
        best = _results(sweep.directory(out))["best_params"]
        if best is not None:
            job = (sweep.optimizer, *_run_key(best["optimizer.lr"],
                                              settings.retrain_seed(sweep.seed)))
            if job not in jobs:
                jobs.append(job)
    return jobs


def run_retrain(settings: Settings, out: Path, common: list[str], launcher: str,
                env: dict[str, str]) -> None:
    """The retraining runs as one listed multirun, unless every one of them is finished."""
    jobs = retrain_jobs(settings, out)
    if set(jobs) <= _finished(out / "search" / "retrain"):
        return
    jobs_file = out / "search" / "retrain_jobs.txt"
    write_text(jobs_file, "".join(
        shlex.join([f"optimizer={name}", f"optimizer.lr={lr}", f"seed={seed}",
                    f"trainer.epochs={settings.fidelities['high']:g}"]) + "\n"
        for name, lr, seed in jobs))
    subprocess.run(_train(*common, "hydra/sweeper=listed", f"hydra.sweeper.jobs_file={jobs_file}",
                          f"hydra/launcher={launcher}",
                          f"hydra.sweep.dir={out / 'search' / 'retrain'}"), check=True, env=env)


def _results(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / "optimization_results.yaml").read_text())


def _run_key(lr: float, seed: int) -> tuple[str, int]:
    return f"{float(lr):.8g}", int(seed)


def evaluations_table(settings: Settings, out: Path) -> pd.DataFrame:
    """One row per evaluation of every sweep: LR, value, status, best so far, and the training
    steps and wall time of its run (the compute it cost)."""
    rows = []
    for sweep in settings.sweeps():
        directory = sweep.directory(out)
        results = _results(directory)
        state = json.loads((directory / f"{sweep.algorithm}_state.json").read_text())
        runs = {_run_key(r.config["optimizer"]["lr"], r.seed): r for r in load_runs(directory)}
        for record, trace in zip(state["evaluations"], results["trace"], strict=True):
            seed = next(int(o.split("=", 1)[1]) for o in record["job_overrides"]
                        if o.startswith("seed="))
            lr = record["params"]["optimizer.lr"]
            run = runs.get(_run_key(lr, seed))
            rows.append({"optimizer": sweep.optimizer, "fidelity": sweep.fidelity,
                         "epochs": settings.fidelities[sweep.fidelity],
                         "algorithm": sweep.algorithm, "sweeper_seed": sweep.seed,
                         "number": record["number"], "lr": lr, "seed": seed,
                         "value": record["value"], "status": record["status"],
                         "best_so_far": trace["best_so_far"],
                         "steps": run.metrics["steps"] if run else None,
                         "wall_time_s": run.metrics["wall_time_s"] if run else None})
    return pd.DataFrame(rows)


def retrain_table(settings: Settings, out: Path) -> pd.DataFrame:
    """One row per sweep: its best LR and value, and that LR retrained at the high fidelity."""
    runs = {(r.config["optimizer"]["name"], *_run_key(r.config["optimizer"]["lr"], r.seed)): r
            for r in load_runs(out / "search" / "retrain")}
    rows = []
    for sweep in settings.sweeps():
        results = _results(sweep.directory(out))
        best = results["best_params"]
        row = {"optimizer": sweep.optimizer, "fidelity": sweep.fidelity,
               "algorithm": sweep.algorithm, "sweeper_seed": sweep.seed,
               "lr": None if best is None else best["optimizer.lr"],
               "best_value": results["best_value"], "status": "none found"}
        if best is not None:
            key = _run_key(best["optimizer.lr"], settings.retrain_seed(sweep.seed))
            run = runs.get((sweep.optimizer, *key))
            if run is not None:
                row |= {"status": run.metrics["status"],
                        **{f"final_{k}": v for k, v in run.metrics["final"].items()}}
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="default: params.yaml's profile")
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--data", default="data", help="prepared-data root (paths.data)")
    parser.add_argument("--settings", type=Path, default=SETTINGS_FILE)
    parser.add_argument("--launcher", default="parallel",
                        help="hydra/launcher of the grid and the retraining runs")
    parser.add_argument("--sweep-launcher", default="local",
                        help="hydra/launcher inside each bandit sweep")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="bandit sweeps run at once")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for every run")
    args = parser.parse_args(argv)
    profile = args.profile or _params_profile()
    settings = load_settings(profile, args.settings)
    out = (args.results / profile / STUDY).resolve()
    common = common_overrides(profile, args.data, args.overrides)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    for command in grid_commands(settings, out, common, args.launcher):
        print(shlex.join(command[2:]), flush=True)
        subprocess.run(command, check=True, env=env)
    run_search(settings, out, common, args.sweep_launcher, args.jobs, env)
    run_retrain(settings, out, common, args.launcher, env)
    evaluations_table(settings, out).to_csv(out / "search" / "evaluations.csv", index=False)
    retrain_table(settings, out).to_csv(out / "search" / "retrain.csv", index=False)
    print(f"{len(settings.sweeps())} sweeps in {out / 'search'}")


if __name__ == "__main__":
    main()
