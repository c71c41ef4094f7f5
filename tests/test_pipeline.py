"""End to end: `dvc repro` in a temporary copy of the repository (slow; CI runs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


def copy_repository(target: Path) -> None:
    """The files a fresh clone would have (tracked plus new, unignored ones)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.email=ci@lrstudy",
                                                 "-c", "user.name=ci", "commit", "-qm", "copy"]):
        subprocess.run(["git", *args], cwd=target, check=True)


def dvc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run([str(Path(sys.executable).parent / "dvc"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=1800)


def test_dvc_repro_prepares_the_data_and_leaves_the_pipeline_clean(tmp_path):
    if not os.environ.get("LRSTUDY_DATA_SOURCE"):
        pytest.skip("LRSTUDY_DATA_SOURCE is not set")
    copy_repository(tmp_path)
    first = dvc("repro", cwd=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for name in ("digits", "mnist1d", "mnist", "tolstoi", "quadratic_deep"):
        assert (tmp_path / "data/prepared" / name / "manifest.json").exists(), name
    status = dvc("status", cwd=tmp_path)
    assert status.returncode == 0 and "up to date" in status.stdout, status.stdout
    again = dvc("repro", cwd=tmp_path)
    assert again.returncode == 0 and "didn't change, skipping" in again.stdout, again.stdout
