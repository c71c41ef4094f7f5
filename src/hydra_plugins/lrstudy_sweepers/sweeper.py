"""Hydra sweepers driving the ask/tell searchers of :mod:`lrstudy.bandits`.

Every sweeper: rounds of ``batch_size`` jobs through the configured launcher (job numbers keep
counting across rounds, so job directories are unique per round), the task's return value is the
objective, a failed job (an exception) or a non-finite value counts as the worst reward and the
sweep goes on until more than ``max_failure_rate`` of the jobs failed. After every round
``<name>_state.json`` is written; rerunning the same sweep resumes from it (the budget may be
raised to continue), and ``optimization_results.yaml`` holds the best params, the best value and
the trace.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import HydraException
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)

STATE_VERSION = 1


class SweeperConfigError(HydraException):
    """A sweeper setting that cannot work; the message names the key."""


class BanditSweeper(Sweeper):
    algorithm = "random"
    constant_keys: tuple[str, ...] = ()

    def __init__(self, params: dict[str, str] | None = None, budget: int = 20,
                 batch_size: int = 1, direction: str = "minimize", seed: int = 0,
                 max_failure_rate: float = 0.5, pull_seed_key: str | None = None,
                 results_dir: str | None = None, **constants: Any) -> None:
        checks = [("budget", budget >= 1, "must be >= 1"),
                  ("batch_size", batch_size >= 1, "must be >= 1"),
                  ("direction", direction in ("minimize", "maximize"),
                   "must be minimize or maximize"),
                  ("max_failure_rate", 0.0 <= max_failure_rate <= 1.0, "must be in [0, 1]")]
        for key, ok, why in checks:
            if not ok:
                value = locals()[key]
                raise SweeperConfigError(f"hydra.sweeper.{key}: {why}, got {value!r}")
        unknown = set(constants) - set(self.constant_keys)
        if unknown:
            raise SweeperConfigError(f"hydra.sweeper.{sorted(unknown)[0]}: not a setting of the "
                                     f"{self.algorithm} sweeper")
        self.params = dict(params or {})
        self.budget, self.batch_size, self.direction = budget, batch_size, direction
        self.seed, self.max_failure_rate = seed, max_failure_rate
        self.pull_seed_key, self.results_dir = pull_seed_key, results_dir
        self.constants = {k: OmegaConf.to_container(v) if OmegaConf.is_config(v) else v
                          for k, v in constants.items()}
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Any = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> list[list[JobReturn]]:
        from hydra_plugins.lrstudy_sweepers.space import parse_space
        from lrstudy.bandits import make_searcher

        assert self.config is not None and self.launcher is not None
        space, fixed = parse_space(self.params, arguments, self.hydra_context)
        if self.pull_seed_key and any(o.split("=", 1)[0].lstrip("+~") == self.pull_seed_key
                                      for o in fixed):
            raise SweeperConfigError(f"hydra.sweeper.pull_seed_key: {self.pull_seed_key!r} is "
                                     "also overridden on the command line; drop one of them")
        sweep_dir = Path(self.config.hydra.sweep.dir)
        out_dir = Path(self.results_dir) if self.results_dir else sweep_dir
        sweep_dir.mkdir(parents=True, exist_ok=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")

        fingerprint = {"algorithm": self.algorithm, "space": space.fingerprint(), "fixed": fixed,
                       "seed": self.seed, "direction": self.direction,
                       "pull_seed_key": self.pull_seed_key, "constants": self.constants}
        searcher = make_searcher(self.algorithm, space, self.budget, self.seed, **self.constants)
        state_path = out_dir / f"{self.algorithm}_state.json"
        evaluations = self._resume(state_path, fingerprint, searcher)
        returns: list[list[JobReturn]] = []
        while len(evaluations) < self.budget:
            points = searcher.ask(min(self.batch_size, self.budget - len(evaluations)))
            if not self.pull_seed_key:   # an identical job twice in a batch would share its dir
                points = [p for i, p in enumerate(points)
                          if space.overrides(p) not in map(space.overrides, points[:i])]
            batch, records = [], []
            for point in points:
                overrides = space.overrides(point)
                if self.pull_seed_key:
                    pull = sum(e["overrides"] == overrides for e in evaluations + records)
                    overrides = [*overrides, f"{self.pull_seed_key}={1000 * self.seed + pull}"]
                    records.append({"overrides": overrides[:-1]})
                batch.append([*fixed, *overrides])
            self.validate_batch_is_legal(batch)
            results = self.launcher.launch(batch, initial_job_idx=len(evaluations))
            told = []
            for point, job, ret in zip(points, batch, results, strict=True):
                record = self._record(len(evaluations), space, point, job[len(fixed):], ret)
                evaluations.append(record)
                told.append((point, record["reward"]))
            searcher.tell(told)
            returns.append(list(results))
            _write_json(state_path, {"version": STATE_VERSION, "fingerprint": fingerprint,
                                     "evaluations": evaluations,
                                     "searcher": searcher.state_dict()})
            self._check_failures(evaluations, results)
        self._write_results(out_dir, evaluations)
        return returns

    def _resume(self, path: Path, fingerprint: dict[str, Any], searcher: Any) -> list[dict]:
        if not path.exists():
            return []
        state = json.loads(path.read_text())
        if state.get("version") != STATE_VERSION or state["fingerprint"] != _jsonable(fingerprint):
            raise SweeperConfigError(
                f"hydra.sweeper.results_dir: {path} holds a different sweep (search space, "
                "overrides, seed or constants changed); delete it or use another hydra.sweep.dir")
        searcher.load_state_dict(state["searcher"])
        log.info("%s: resuming after %d evaluations", path, len(state["evaluations"]))
        return state["evaluations"]

    def _record(self, number: int, space: Any, point: Any, overrides: list[str],
                ret: JobReturn) -> dict[str, Any]:
        """One evaluation: the objective, its status and the reward (None = the worst)."""
        value, error = None, None
        if ret.status == JobStatus.FAILED:
            status, error = "failed", f"{type(ret._return_value).__name__}: {ret._return_value}"
        else:
            try:
                value = float(ret.return_value)
            except (TypeError, ValueError):
                status, error = "failed", f"returned {ret.return_value!r}, not a number"
            else:
                status = "completed" if math.isfinite(value) else "diverged"
        reward = None if status != "completed" else (-value if self.direction == "minimize"
                                                     else value)
        return {"number": number, "overrides": overrides[: len(space.overrides(point))],
                "job_overrides": overrides, "params": space.params(point),
                "value": value if value is not None and math.isfinite(value) else None,
                "status": status, "reward": reward, "error": error}

    def _check_failures(self, evaluations: list[dict], results: Any) -> None:
        failed = sum(e["status"] == "failed" for e in evaluations)
        if failed / len(evaluations) > self.max_failure_rate:
            log.error("%d of %d jobs failed (hydra.sweeper.max_failure_rate=%s)", failed,
                      len(evaluations), self.max_failure_rate)
            for ret in results:
                if ret.status == JobStatus.FAILED:
                    _ = ret.return_value   # re-raises the job's own exception
            raise HydraException(f"{failed} of {len(evaluations)} jobs failed "
                                 f"(hydra.sweeper.max_failure_rate={self.max_failure_rate})")

    def _write_results(self, out_dir: Path, evaluations: list[dict]) -> None:
        sign = 1.0 if self.direction == "maximize" else -1.0
        trace, best = [], None
        for e in evaluations:
            if e["reward"] is not None and (best is None or e["reward"] > best["reward"]):
                best = e
            trace.append({"number": e["number"], "params": e["params"], "value": e["value"],
                          "status": e["status"],
                          "best_so_far": None if best is None else sign * best["reward"]})
        results = {"name": self.algorithm, "direction": self.direction, "budget": self.budget,
                   "seed": self.seed, "n_evaluations": len(evaluations),
                   "n_failed": sum(e["status"] == "failed" for e in evaluations),
                   "n_diverged": sum(e["status"] == "diverged" for e in evaluations),
                   "best_params": None if best is None else best["params"],
                   "best_value": None if best is None else best["value"],
                   "trace": trace}
        OmegaConf.save(OmegaConf.create(results), out_dir / "optimization_results.yaml")
        log.info("best %s = %s at %s", self.direction, results["best_value"],
                 results["best_params"])


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data))


def _write_json(path: Path, data: Any) -> None:
    """Atomic write: an interrupted sweep never leaves a half-written state file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


class ZoomingSweeper(BanditSweeper):
    algorithm = "zooming"
    constant_keys = ("radius_scale", "lipschitz", "reward_range")


class BLiESweeper(BanditSweeper):
    algorithm = "blie"
    constant_keys = ("lipschitz", "eta", "pulls_scale", "reward_range")


class HyperoptSweeper(BanditSweeper):
    algorithm = "hyperopt"
    constant_keys = ("n_startup_jobs", "gamma", "n_ei_candidates")


class RandomSweeper(BanditSweeper):
    algorithm = "random"
