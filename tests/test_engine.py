"""The engine end to end on small real data: run contract, skip, rerun, divergence, resume."""

from __future__ import annotations

import csv
import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from conftest import ROOT
from lrstudy.engine.layers import LAYER_COLUMNS, WHOLE
from lrstudy.engine.run import run_training
from lrstudy.engine.rundir import EVAL_COLUMNS, HISTORY_COLUMNS, SCHEMA_VERSION, TRAIN_EVAL_COLUMNS

QUICK = ("trainer.epochs=2", "data.batch_size=128")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_run_writes_the_whole_contract(make_cfg, tmp_path):
    cfg = make_cfg(*QUICK)
    objective = run_training(cfg, tmp_path)
    for name in ("config.yaml", "history.csv", "eval.csv", "metrics.json", "meta.json", "DONE",
                 "checkpoint.pt"):
        assert (tmp_path / name).exists(), name
    history = read_csv(tmp_path / "history.csv")
    assert tuple(history[0]) == HISTORY_COLUMNS
    steps_per_epoch = (1437 - 200) // 128
    assert [int(r["step"]) for r in history] == list(range(2 * steps_per_epoch))
    evals = read_csv(tmp_path / "eval.csv")
    assert tuple(evals[0]) == EVAL_COLUMNS
    assert [int(r["step"]) for r in evals] == [0, steps_per_epoch, 2 * steps_per_epoch]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["steps"] == 2 * steps_per_epoch
    assert metrics["objective"] == objective == pytest.approx(float(evals[-1]["val_loss"]))
    assert metrics["best"]["val_acc"] >= metrics["final"]["val_acc"] > 0.5  # it learned
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["schema_version"] == SCHEMA_VERSION and meta["seed"] == 0
    assert meta["packages"]["torch"] and len(meta["config_hash"]) == 16
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert saved["optimizer"]["name"] == "momentum" and saved["paths"]["data"] == cfg.paths.data
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    # the LR actually applied each step is the cosine schedule's
    lrs = [float(r["lr"]) for r in history]
    assert lrs[0] == pytest.approx(0.1) and lrs == sorted(lrs, reverse=True)


def test_eval_train_and_layer_stats_extend_the_contract(make_cfg, tmp_path):
    run_training(make_cfg(*QUICK, "trainer.eval_train=true", "trainer.layer_stats=true"),
                 tmp_path)
    evals = read_csv(tmp_path / "eval.csv")
    assert tuple(evals[0]) == (*EVAL_COLUMNS, *TRAIN_EVAL_COLUMNS)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["final"]["train_loss"] == float(evals[-1]["train_loss"])
    assert float(evals[0]["train_acc"]) < 0.3 < 0.6 < metrics["final"]["train_acc"] <= 1
    layers = read_csv(tmp_path / "layers.csv")
    assert tuple(layers[0]) == LAYER_COLUMNS
    weights = torch.load(tmp_path / "checkpoint.pt", weights_only=False)["model"]
    names = [n for n in weights if n.endswith(("weight", "bias"))]
    last = {r["layer"]: r for r in layers if int(r["step"]) == metrics["steps"]}
    assert set(last) == {*names, WHOLE}
    for name in names:
        assert float(last[name]["sq_norm"]) == pytest.approx(float(weights[name].pow(2).sum()))
    assert float(last[WHOLE]["sq_norm"]) == pytest.approx(
        sum(float(last[n]["sq_norm"]) for n in names))
    first = [r for r in layers if int(r["step"]) == 0]
    assert all(math.isnan(float(r["angle"])) for r in first)
    assert all(0 < float(r["angle"]) < math.pi for r in last.values())


def test_tensorboard_holds_scalars_and_hparams(make_cfg, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_training(make_cfg(*QUICK), tmp_path)
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "lr", "val/loss", "val/acc", "test/loss", "test/acc"} <= tags
    assert "_hparams_/experiment" in events.summary_metadata


def test_same_config_is_skipped_and_changed_config_reruns(make_cfg, tmp_path):
    first = run_training(make_cfg(*QUICK), tmp_path)
    stamp = (tmp_path / "metrics.json").stat().st_mtime_ns
    assert run_training(make_cfg(*QUICK), tmp_path) == first
    assert (tmp_path / "metrics.json").stat().st_mtime_ns == stamp
    changed = run_training(make_cfg(*QUICK, "optimizer.lr=0.05"), tmp_path)
    assert changed != first
    assert (tmp_path / "metrics.json").stat().st_mtime_ns != stamp
    assert yaml.safe_load((tmp_path / "config.yaml").read_text())["optimizer"]["lr"] == 0.05


def test_same_seed_same_run_different_seed_different_run(make_cfg, tmp_path):
    a = run_training(make_cfg(*QUICK), tmp_path / "a")
    b = run_training(make_cfg(*QUICK), tmp_path / "b")
    c = run_training(make_cfg(*QUICK, "seed=1"), tmp_path / "c")
    assert a == b != c
    assert (tmp_path / "a/history.csv").read_text() == (tmp_path / "b/history.csv").read_text()


@pytest.mark.parametrize("lr", ["1e6", "30"])
def test_divergence_is_recorded_and_returns_the_worst_objective(make_cfg, tmp_path, lr):
    objective = run_training(make_cfg(*QUICK, "optimizer=sgd", f"optimizer.lr={lr}",
                                      "trainer.sync_every=5"), tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["status"] == "diverged" and objective == math.inf == metrics["objective"]
    assert (tmp_path / "DONE").exists()
    last = read_csv(tmp_path / "history.csv")[-1]
    assert not math.isfinite(float(last["train_loss"])) or float(last["train_loss"]) > 10
    assert metrics["steps"] < 2 * 9  # stopped early


def test_maximised_objective_diverges_to_minus_inf(make_cfg, tmp_path):
    cfg = make_cfg(*QUICK, "optimizer=sgd", "optimizer.lr=1e6", "objective.metric=val_acc",
                   "objective.mode=max")
    assert run_training(cfg, tmp_path) == -math.inf


def _train_cmd(run_dir: Path, data_root: Path, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "src/train.py"), f"hydra.run.dir={run_dir}",
            f"paths.data={data_root}", "trainer.epochs=5", "trainer.sync_every=1",
            "data.batch_size=32", "trainer.eval_train=true", "trainer.layer_stats=true", *extra]


def _wait_for_rows(history: Path, rows: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if history.exists() and history.read_text().count("\n") > rows:
            return
        time.sleep(0.02)
    raise AssertionError("the run ended before it could be interrupted")


def _comparable(run_dir: Path) -> tuple[str, str, str, dict]:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics.pop("wall_time_s")
    return ((run_dir / "history.csv").read_text(), (run_dir / "eval.csv").read_text(),
            (run_dir / "layers.csv").read_text(), metrics)


@pytest.mark.parametrize("kill", [signal.SIGTERM, signal.SIGKILL])
def test_resume_after_kill_equals_uninterrupted_run(tmp_path, data_root, kill):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    subprocess.run(_train_cmd(straight, data_root), check=True, capture_output=True, cwd=ROOT)
    proc = subprocess.Popen(_train_cmd(resumed, data_root), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_for_rows(resumed / "history.csv", 38 * 2 + 17, proc)  # mid-epoch 3
    proc.send_signal(kill)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (128 + kill, -kill), err.decode()[-2000:]
    assert not (resumed / "DONE").exists() and (resumed / "checkpoint.pt").exists()
    done = subprocess.run(_train_cmd(resumed, data_root), capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resuming at step" in done.stdout + done.stderr
    assert _comparable(resumed) == _comparable(straight)


SMALL_IMAGES = ("data=synthetic", "model=cnn_3c3d", "data.train_size=64", "data.val_size=16",
                "data.batch_size=8", "trainer.max_steps=3", "trainer.eval_at_start=false")


def test_bf16_autocast_and_channels_last_train(make_cfg, tmp_path):
    run_training(make_cfg(*SMALL_IMAGES, "trainer.precision=bf16", "trainer.channels_last=true"),
                 tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "completed"
    eager = run_training(make_cfg(*SMALL_IMAGES), tmp_path / "fp32")
    assert json.loads((tmp_path / "metrics.json").read_text())["objective"] != eager


def test_float64_runs_keep_float64_weights(make_cfg, tmp_path):
    import torch

    run_training(make_cfg(*SMALL_IMAGES, "trainer.dtype=float64"), tmp_path)
    weights = torch.load(tmp_path / "checkpoint.pt", weights_only=False)["model"]
    assert {v.dtype for v in weights.values() if v.is_floating_point()} == {torch.float64}


@pytest.mark.slow
def test_compiled_model_trains_like_the_eager_one(make_cfg, tmp_path):
    eager = run_training(make_cfg(*SMALL_IMAGES), tmp_path / "eager")
    compiled = run_training(make_cfg(*SMALL_IMAGES, "trainer.compile=true"), tmp_path / "c")
    assert compiled == pytest.approx(eager, rel=1e-4)


def test_keep_checkpoint_false_leaves_no_checkpoint(make_cfg, tmp_path):
    run_training(make_cfg(*SMALL_IMAGES, "trainer.keep_checkpoint=false"), tmp_path)
    assert (tmp_path / "DONE").exists() and not (tmp_path / "checkpoint.pt").exists()
