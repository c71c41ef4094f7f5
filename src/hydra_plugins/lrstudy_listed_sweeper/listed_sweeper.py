"""``hydra/sweeper=listed hydra.sweeper.jobs_file=FILE``: one job per line of FILE.

Each non-blank line (``#`` starts a comment) holds one job's overrides, shell-quoted and
separated by spaces; the command line's own overrides are prepended to every job. A study that
is not a cartesian grid (random-search draws, winners re-run over seeds) writes its runs here,
and any Hydra launcher (basic, joblib, submitit) runs them; finished runs are skipped by the run
directory's DONE marker as in any other sweep.
"""

# no `from __future__ import annotations`: Hydra executes plugin modules outside sys.modules,
# where dataclasses cannot resolve string annotations
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import MISSING, DictConfig, OmegaConf

from lrstudy.sweep.jobs import read_jobs


@dataclass
class ListedSweeperConf:
    _target_: str = "hydra_plugins.lrstudy_listed_sweeper.listed_sweeper.ListedSweeper"
    jobs_file: str = MISSING
    max_batch_size: int | None = None  # jobs handed to the launcher at once (None: all)


ConfigStore.instance().store(group="hydra/sweeper", name="listed", node=ListedSweeperConf,
                             provider="lrstudy")


class ListedSweeper(Sweeper):
    def __init__(self, jobs_file: str, max_batch_size: int | None = None) -> None:
        self.jobs_file = Path(jobs_file)
        self.max_batch_size = max_batch_size
        self.config: DictConfig | None = None
        self.launcher: Any = None
        self.hydra_context: HydraContext | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.config, self.hydra_context = config, hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        for override in parser.parse_overrides(arguments):
            if override.is_sweep_override():
                raise HydraException(f"hydra/sweeper=listed: {override.input_line} sweeps; "
                                     "list every job in hydra.sweeper.jobs_file instead")
        if not self.jobs_file.is_file():
            raise HydraException(f"hydra.sweeper.jobs_file={self.jobs_file} does not exist")
        jobs = [[*arguments, *job] for job in read_jobs(self.jobs_file)]
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        size = self.max_batch_size or max(len(jobs), 1)
        returns: list[Sequence[Any]] = []
        for start in range(0, len(jobs), size):
            batch = jobs[start:start + size]
            self.validate_batch_is_legal(batch)
            results = self.launcher.launch(batch, initial_job_idx=start)
            for result in results:
                _ = result.return_value  # re-raises a failed job's exception
            returns.append(results)
        return returns
