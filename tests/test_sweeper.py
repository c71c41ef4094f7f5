"""The bandit sweepers as Hydra plugins: discovery, Hydra's own sweeper suites, the output
contract, resume, failure handling, config errors, and the train.py command of the README."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.core.plugins import Plugins
from hydra.errors import HydraException
from hydra.plugins.sweeper import Sweeper
from hydra.test_utils.launcher_common_tests import (
    BatchedSweeperTestSuite,
    sweep_1_job,
    sweep_2_jobs,
)
from omegaconf import OmegaConf

from hydra_plugins.lrstudy_sweepers.sweeper import (
    BLiESweeper,
    HyperoptSweeper,
    RandomSweeper,
    ZoomingSweeper,
)

NAMES = ["zooming", "blie", "hyperopt", "random"]
ROOT = Path(__file__).resolve().parents[1]


def test_plugins_are_discovered():
    """Hydra imports plugins through its own loader: compare by qualified name."""
    found = {f"{c.__module__}.{c.__name__}" for c in Plugins.instance().discover(Sweeper)}
    ours = [ZoomingSweeper, BLiESweeper, HyperoptSweeper, RandomSweeper]
    assert {f"{c.__module__}.{c.__name__}" for c in ours} <= found


@pytest.mark.parametrize("name", NAMES)
def test_hydra_sweep_1_and_2_jobs(hydra_sweep_runner, name, tmpdir):
    """Hydra's generic launcher checks: a grid ``+a=0,1`` is a set of separate arms, played in
    grid order in the first round."""
    # chdir explicitly: Hydra's version base is process-global, and other tests set 1.3
    base = [f"hydra/sweeper={name}", "hydra/launcher=basic", "hydra.sweeper.budget=2",
            "hydra.sweeper.batch_size=2", "hydra.job.chdir=true"]
    sweep_1_job(hydra_sweep_runner, overrides=list(base), task_function=None,
                temp_dir=Path(tmpdir) / "one")
    if name in ("zooming", "blie"):      # deterministic grid order; TPE/random draw arms
        sweep_2_jobs(hydra_sweep_runner, overrides=list(base), task_function=None,
                     temp_dir=Path(tmpdir) / "two")


@pytest.mark.parametrize("launcher_name, overrides", [
    ("basic", ["hydra/sweeper=zooming", "hydra.sweeper.budget=6", "hydra.sweeper.batch_size=2",
               "hydra.job.chdir=true"]),
])
class TestZoomingBatchedSweeper(BatchedSweeperTestSuite):
    """Hydra's batched-sweeper suite: 6 grid arms in 3 rounds of 2, 6 distinct job dirs."""


def _objective(calls: list[float]):
    def task(cfg) -> float:
        calls.append(cfg.lr)
        if cfg.lr > 0.3:
            raise RuntimeError("boom: lr too large")
        if cfg.lr > 0.1:
            return math.inf   # diverged
        return (math.log10(cfg.lr) + 2.0) ** 2
    return task


def _sweep(runner, tmp_path: Path, task, *extra: str):
    """A sweep whose state and results go to ``tmp_path`` (Hydra's runner deletes its sweep
    dir on exit, which also checks that ``results_dir`` is honoured)."""
    overrides = ["hydra/launcher=basic", "+lr=tag(log, interval(1e-4, 1))",
                 f"hydra.sweeper.results_dir={tmp_path}", *extra]
    sweep = runner(calling_file=None, calling_module="hydra.test_utils.a_module",
                   task_function=task, config_path="configs", config_name="compose.yaml",
                   overrides=overrides, temp_dir=str(tmp_path / "sweep"))
    with sweep:
        returns = sweep.returns
    return returns


@pytest.mark.parametrize("name", NAMES)
def test_results_contract_and_failures_count_as_worst(hydra_sweep_runner, tmp_path, name):
    calls: list[float] = []
    _sweep(hydra_sweep_runner, tmp_path, _objective(calls), f"hydra/sweeper={name}",
           "hydra.sweeper.budget=10", "hydra.sweeper.batch_size=3",
           "hydra.sweeper.max_failure_rate=1.0", "hydra.sweeper.seed=1")
    results = OmegaConf.to_container(OmegaConf.load(tmp_path / "optimization_results.yaml"))
    trace = results["trace"]
    assert results["name"] == name and results["n_evaluations"] == len(trace) == len(calls) == 10
    finite = [t["value"] for t in trace if t["status"] == "completed"]
    assert results["best_value"] == min(finite)
    assert results["best_params"]["lr"] == pytest.approx(
        next(t["params"]["lr"] for t in trace if t["value"] == min(finite)))
    for t in trace:
        lr = t["params"]["lr"]
        assert t["status"] == ("failed" if lr > 0.3 else "diverged" if lr > 0.1 else "completed")
    assert results["n_failed"] == sum(t["status"] == "failed" for t in trace)
    best = [t["best_so_far"] for t in trace if t["best_so_far"] is not None]
    assert best == sorted(best, reverse=True)
    state = json.loads((tmp_path / f"{name}_state.json").read_text())
    assert len(state["evaluations"]) == 10


def test_zooming_finds_the_optimum_on_a_smooth_objective(hydra_sweep_runner, tmp_path):
    _sweep(hydra_sweep_runner, tmp_path, _objective([]), "hydra/sweeper=zooming",
           "hydra.sweeper.budget=12", "hydra.sweeper.max_failure_rate=1.0")
    results = OmegaConf.load(tmp_path / "optimization_results.yaml")
    assert results.best_value < 0.05       # |log10(lr) + 2| < 0.22 over four decades


def test_resume_does_not_repeat_finished_evaluations(hydra_sweep_runner, tmp_path):
    first: list[float] = []
    args = ("hydra/sweeper=zooming", "hydra.sweeper.batch_size=2",
            "hydra.sweeper.max_failure_rate=1.0")
    _sweep(hydra_sweep_runner, tmp_path, _objective(first), *args, "hydra.sweeper.budget=6")
    again: list[float] = []
    _sweep(hydra_sweep_runner, tmp_path, _objective(again), *args, "hydra.sweeper.budget=6")
    assert again == []
    more: list[float] = []
    _sweep(hydra_sweep_runner, tmp_path, _objective(more), *args, "hydra.sweeper.budget=9")
    assert len(more) == 3
    fresh: list[float] = []
    _sweep(hydra_sweep_runner, tmp_path / "fresh", _objective(fresh), *args,
           "hydra.sweeper.budget=9")
    assert first + more == fresh           # resuming equals running through
    with pytest.raises(HydraException, match=r"hydra.sweeper.results_dir: .* different sweep"):
        _sweep(hydra_sweep_runner, tmp_path, _objective([]), *args, "hydra.sweeper.budget=9",
               "hydra.sweeper.seed=5")


def test_max_failure_rate_stops_with_the_jobs_error(hydra_sweep_runner, tmp_path):
    calls: list[float] = []
    with pytest.raises(RuntimeError, match="boom: lr too large"):
        _sweep(hydra_sweep_runner, tmp_path, _objective(calls), "hydra/sweeper=zooming",
               "hydra.sweeper.budget=10", "hydra.sweeper.max_failure_rate=0.2")
    assert len(calls) < 10
    state = json.loads((tmp_path / "zooming_state.json").read_text())
    assert len(state["evaluations"]) == len(calls)   # saved before stopping


def test_pull_seed_key_gives_repeated_pulls_fresh_seeds(hydra_sweep_runner, tmp_path):
    seen: list[tuple[float, int]] = []

    def task(cfg) -> float:
        seen.append((cfg.lr, cfg.seed))
        return 1.0
    _sweep(hydra_sweep_runner, tmp_path, task, "hydra/sweeper=zooming",
           "hydra.sweeper.budget=3", "hydra.sweeper.radius_scale=10", "hydra.sweeper.seed=2",
           "hydra.sweeper.pull_seed_key=+seed")
    # one arm covers everything, so it is pulled three times with seeds 2000, 2001, 2002
    assert seen == [(0.01, 2000), (0.01, 2001), (0.01, 2002)]


@pytest.mark.parametrize(("override", "message"), [
    ("hydra.sweeper.direction=up", "hydra.sweeper.direction: must be minimize or maximize"),
    ("hydra.sweeper.budget=0", "hydra.sweeper.budget: must be >= 1"),
    ("hydra.sweeper.max_failure_rate=2", "hydra.sweeper.max_failure_rate: must be in"),
])
def test_invalid_settings_name_the_key(hydra_sweep_runner, tmp_path, override, message):
    with pytest.raises(Exception, match=re.escape(message)):
        _sweep(hydra_sweep_runner, tmp_path, _objective([]), "hydra/sweeper=zooming", override)


def test_log_interval_must_be_positive(hydra_sweep_runner, tmp_path):
    with pytest.raises(HydraException, match=r"hydra\.sweeper\.params\.\+lr: a log interval"):
        runner_args = ("hydra/sweeper=zooming", "hydra/launcher=basic",
                       "+lr=tag(log, interval(0, 1))")
        sweep = hydra_sweep_runner(calling_file=None,
                                   calling_module="hydra.test_utils.a_module",
                                   task_function=_objective([]), config_path="configs",
                                   config_name="compose.yaml", overrides=list(runner_args),
                                   temp_dir=str(tmp_path))
        with sweep:
            pass


@pytest.mark.slow
def test_train_py_zooming_command(tmp_path):
    """The README command on the digits default (smoke profile), then a rerun that resumes."""
    cmd = [sys.executable, str(ROOT / "src" / "train.py"), "-m", "hydra/sweeper=zooming",
           "optimizer.lr=tag(log, interval(1e-4, 1))", "hydra.sweeper.budget=3", "profile=smoke",
           f"paths.runs={tmp_path}"]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True)
    results = OmegaConf.load(tmp_path / "optimization_results.yaml")
    assert results.n_evaluations == 3 and math.isfinite(results.best_value)
    runs = sorted(p.name for p in tmp_path.iterdir() if (p / "DONE").exists())
    assert runs == ["optimizer.lr=0.0001,profile=smoke", "optimizer.lr=0.01,profile=smoke",
                    "optimizer.lr=1.0,profile=smoke"]
    rerun = subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True)
    assert "resuming after 3 evaluations" in rerun.stderr + rerun.stdout
