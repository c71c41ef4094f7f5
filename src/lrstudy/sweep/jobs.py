"""Jobs files: explicit run lists for ``hydra/sweeper=listed``.

A study whose runs are not one cartesian grid (P4's cells with paired cosine floors and
lambda_0-scaled LRs, P5's random-search draws) writes one line per run and launches a single
multirun over the file: the interpreter starts once and the launcher's workers stay busy across
what would otherwise be many small sweeps, each waiting for its slowest run. ``expand`` uses
Hydra's own BasicSweeper, so a listed job carries exactly the ``key=value`` strings a plain
``-m`` sweep would, and therefore gets the same run directory.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser

TRAIN = Path(__file__).resolve().parents[2] / "train.py"


def read_jobs(path: Path) -> list[list[str]]:
    """The override lists of a jobs file, in file order, duplicates removed."""
    jobs: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for line in Path(path).read_text().splitlines():
        job = shlex.split(line, comments=True)
        if job and tuple(job) not in seen:
            seen.add(tuple(job))
            jobs.append(job)
    return jobs


def write_jobs(path: Path, jobs: Iterable[list[str]]) -> Path:
    """One shell-quoted line per job; ``read_jobs`` reads it back unchanged."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(shlex.join(job) + "\n" for job in jobs))
    return path


def expand(overrides: list[str]) -> list[list[str]]:
    """The jobs of one multirun command line (``a=1,2 b=x`` -> ``[[a=1, b=x], [a=2, b=x]]``)."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def launch(jobs_file: Path, sweep_dir: Path, common: list[str],
           env: Mapping[str, str] | None = None) -> None:
    """One ``src/train.py -m hydra/sweeper=listed`` over the file; finished runs are skipped."""
    command = [sys.executable, str(TRAIN), "-m", "hydra/sweeper=listed",
               f"hydra.sweeper.jobs_file={jobs_file}", f"hydra.sweep.dir={sweep_dir}", *common]
    print(" ".join(command[2:]), flush=True)
    subprocess.run(command, check=True, env=None if env is None else dict(env))
