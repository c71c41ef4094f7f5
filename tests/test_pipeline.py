"""End to end: `dvc repro` of the smoke profile in a temporary copy of the repository (slow;
CI runs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def test_smoke_profile_runs_every_stage_end_to_end(tmp_path):
    if not os.environ.get("LRSTUDY_DATA_SOURCE"):
        pytest.skip("LRSTUDY_DATA_SOURCE is not set")
    copy_repository(tmp_path)
    (tmp_path / "params.yaml").write_text("profile: smoke\n")
    first = dvc("repro", cwd=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    report = (tmp_path / "paper_figures/REPORT.md").read_text()
    assert "profile **smoke**" in report and "smoke — not evidence" in report
    for claims in sorted((tmp_path / "conf/claims").glob("*.yaml")):
        for claim in yaml.safe_load(claims.read_text())["claims"]:
            assert f"| {claim['id']} |" in report, claim["id"]
    for name in ("digits", "mnist1d", "mnist", "tolstoi", "quadratic_deep"):
        assert (tmp_path / "data/prepared" / name / "manifest.json").exists(), name
    for figure in ("curves", "final_accuracy", "schedules"):
        assert (tmp_path / "paper_figures/p1_log_anneal" / f"{figure}.pdf").exists()
    status = dvc("status", cwd=tmp_path)
    assert "up to date" in status.stdout, status.stdout
    again = dvc("repro", cwd=tmp_path)
    assert again.returncode == 0 and "didn't change, skipping" in again.stdout, again.stdout
