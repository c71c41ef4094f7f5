"""The command line as users type it: errors before training, multiruns, run-directory names."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from lrstudy.paths import run_id


def test_run_id_is_derived_from_sorted_overrides():
    assert run_id("") == "default"
    assert run_id("optimizer.lr=0.1,seed=2") == "optimizer.lr=0.1,seed=2"
    assert run_id("data.root=/tmp/x y") == "data.root=_tmp_x_y"


@pytest.mark.parametrize(("override", "message"), [
    ("optimizer.lr=-1", "optimizer.lr=-1.0 must be > 0"),
    ("schedule.min_lr=5", "schedule.min_lr=5.0 must lie in [0, optimizer.lr=0.1]"),
    ("data.batch_size=0", "data.batch_size=0 must be > 0"),
    ("trainer.precision=fp8", "trainer.precision='fp8' must be one of"),
    ("objective.metric=val_f1", "objective.metric='val_f1' must be one of"),
])
def test_invalid_values_fail_before_training_with_one_line(tmp_path, override, message):
    result = run_cli(override, f"hydra.run.dir={tmp_path}")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "history.csv").exists()


@pytest.mark.parametrize(("override", "message"), [
    ("schedule=nope", "Could not find 'schedule/nope'"),
    ("optimizer.nesterof=true", "Could not override 'optimizer.nesterof'"),
    ("data.batch_size=abc", "data.batch_size"),
    ("model=resnet18", "model=resnet18"),  # a 32x32 RGB model cannot take 8x8 digits
])
def test_unknown_options_and_mismatches_fail_before_training(tmp_path, override, message):
    result = run_cli(override, f"hydra.run.dir={tmp_path}", f"paths.data={tmp_path / 'data'}")
    assert result.returncode in (1, 2)  # 1: Hydra's composition errors, 2: ours
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "history.csv").exists()


def test_two_job_multirun_writes_two_run_directories(tmp_path, data_root):
    result = run_cli("-m", "seed=0,1", "trainer.epochs=1", f"hydra.sweep.dir={tmp_path}",
                     f"paths.data={data_root}")
    assert result.returncode == 0, result.stderr[-3000:]
    runs = sorted(p.name for p in tmp_path.iterdir() if (p / "DONE").exists())
    assert runs == ["seed=0,trainer.epochs=1", "seed=1,trainer.epochs=1"]
    # rerunning the same sweep skips both jobs
    again = run_cli("-m", "seed=0,1", "trainer.epochs=1", f"hydra.sweep.dir={tmp_path}",
                    f"paths.data={data_root}")
    output = again.stdout + again.stderr
    assert again.returncode == 0 and output.count("already done") == 2, output


@pytest.mark.slow
def test_default_run_trains_for_real(tmp_path: Path, data_root):
    result = run_cli(f"hydra.run.dir={tmp_path}", f"paths.data={data_root}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "completed" in result.stdout + result.stderr
    assert (tmp_path / "DONE").exists()
