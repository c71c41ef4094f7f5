"""P5 (crowded valley): search draws, job lists, winner selection, the listed sweeper, every
DeepOBS problem config for a few steps, and the claim measures on a hand-made table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_fixtures import write_stand_in_sources
from lrstudy.engine.run import run_training
from lrstudy.errors import ConfigError
from lrstudy.studies.p3_lr_bandits import settings as p3_settings
from lrstudy.studies.p4_warmup import grid as p4_grid
from lrstudy.studies.p5_crowded_valley import measures, protocol
from lrstudy.sweep.collect import Run

PROBLEMS = ("quadratic_deep", "mnist_vae", "fmnist_2c2d", "mnist_2c2d", "cifar10_3c3d",
            "fmnist_vae", "cifar100_allcnnc", "svhn_wrn164", "tolstoi_char_rnn")


@pytest.fixture(scope="module")
def smoke() -> protocol.Settings:
    return protocol.load_settings("smoke")


def test_draws_are_prefixes_shared_by_equal_shapes_and_log_uniform(smoke):
    full = protocol.load_settings("full")
    momentum = protocol.draws(full.spaces["momentum"], 5, 42)
    assert protocol.draws(full.spaces["momentum"], 2, 42) == momentum[:2]
    assert protocol.draws(full.spaces["rmsprop"], 5, 42) == [
        {"lr": d["lr"], "decay": d["momentum"]} for d in momentum]
    u = np.random.default_rng(42).random()
    assert momentum[0]["lr"] == pytest.approx(10 ** (-4 + 4 * u), rel=1e-5)
    for d in protocol.draws(full.spaces["lookahead_momentum"], 50, 42):
        assert 1 <= d["k"] <= 20 and isinstance(d["k"], int) and 1e-4 <= d["lr"] <= 1


def test_tuning_jobs_cover_oneshot_seeds_large_search_and_grid(smoke):
    jobs = protocol.tuning_jobs(smoke)
    cells = len(smoke.problems) * len(smoke.schedules) * len(smoke.optimizers)
    grid = len(smoke.danger_zone["lrs"]) * len(smoke.danger_zone["seeds"])
    assert len(jobs) == cells * (len(smoke.seeds) + smoke.budgets["large"]) + grid
    assert len({tuple(j) for j in jobs}) == len(jobs)
    adam = [j for j in jobs if "optimizer=adam" in j and "study.trial=oneshot" in j]
    assert "optimizer.lr=0.001" in adam[0] and "optimizer.beta2=0.999" in adam[0]


def fake_run(trial, objective, status="completed", seed=42, mode="min", test=1.0) -> Run:
    config = {"study": {"problem": "quadratic_deep", "trial": trial}, "seed": seed,
              "schedule": {"name": "constant"}, "optimizer": {"name": "sgd"},
              "objective": {"metric": "val_loss", "mode": mode}}
    return Run(Path(f"r{trial}_{seed}"), config, {"status": status, "objective": objective,
                                                 "final": {"test_loss": test}}, {})


def test_winners_by_budget_skip_diverged_and_prefer_earlier_draws(smoke):
    settings = protocol.Settings(**{**smoke.__dict__, "budgets": {"small": 1, "medium": 3,
                                                                  "large": 4}})
    runs = [fake_run(0, math.inf, "diverged"), fake_run(1, 2.0), fake_run(2, 2.0),
            fake_run(3, 1.0), fake_run("oneshot", 0.1), fake_run(3, 9.0, seed=43)]
    chosen = protocol.winners(runs, settings)
    cell = ("quadratic_deep", "constant", "sgd")
    assert chosen[(*cell, "small")] is None  # its only draw diverged
    assert chosen[(*cell, "medium")] == "1" and chosen[(*cell, "large")] == "3"
    jobs = protocol.rerun_jobs(settings, chosen)
    assert {j[4] for j in jobs} == {"study.trial=1", "study.trial=3"}
    assert {j[3] for j in jobs} == {f"seed={s}" for s in settings.rerun_seeds}


@pytest.mark.parametrize("problem", PROBLEMS)
def test_every_problem_config_runs_a_few_steps(make_cfg, tmp_path, monkeypatch, problem):
    write_stand_in_sources(tmp_path / "sources", monkeypatch)
    small = [] if problem == "tolstoi_char_rnn" else ["data.batch_size=16"]
    small += [] if problem in ("quadratic_deep", "tolstoi_char_rnn") else ["data.val_size=16"]
    # images, or sequences of 50 characters (tolstoi evaluates 50 streams at a time)
    evals = "data.eval_subset=" + ("50" if problem == "tolstoi_char_rnn" else "32")
    cfg = make_cfg(f"problem={problem}", "trainer.max_steps=3", evals,
                   "data.train_subset=64", "trainer.eval_at_start=false", *small)
    assert cfg.study.problem == problem and cfg.trainer.eval_train
    run_training(cfg, tmp_path / "run")
    assert json.loads((tmp_path / "run/metrics.json").read_text())["status"] == "completed"
    assert {"train_loss", "train_acc"} <= set(pd.read_csv(tmp_path / "run/eval.csv").columns)


def table(rows) -> pd.DataFrame:
    return pd.DataFrame([{"schedule": "constant", "higher_is_better": True, "n": 3,
                          "valid_mean": r[3], "test_std": 0.01, "metric": "test_acc",
                          "problem": r[0], "optimizer": r[1], "budget": r[2],
                          "test_mean": r[4]} for r in rows])


def test_measures_on_a_hand_made_table():
    results = table([("a", "adam", "large", 0.9, 0.90), ("a", "sgd", "large", 0.8, 0.80),
                     ("b", "adam", "large", 0.5, 0.50), ("b", "sgd", "large", 0.7, 0.70),
                     ("a", "adam", "oneshot", 0.85, 0.85), ("a", "sgd", "oneshot", 0.6, 0.60),
                     ("b", "adam", "oneshot", 0.4, 0.40), ("b", "sgd", "oneshot", 0.69, 0.69)])
    grid = pd.DataFrame({"problem": "a", "lr": [0.1, 0.1, 1.0, 1.0], "seed": [1, 2, 1, 2],
                         "status": ["completed", "completed", "completed", "diverged"],
                         "metric": "test_acc", "test": [0.9, 0.9, 0.9, math.nan]})
    found = measures.compute(results, grid, {"data": "a", "model": "m", "seeds": 3})
    assert found["c1/all_problem_top_optimizers"].value == 0  # adam tops a, sgd tops b
    # best one-shot by validation: a -> adam 0.85 (< 0.90 - 0.01), b -> sgd 0.69 (>= 0.49)
    assert found["c2/defaults_match_tuned_adam_share"].value == 0.5
    assert found["c3/adam_near_best_share"].value == 0.5
    assert found["c4/median_gain_large"].value == pytest.approx(np.median([0.05, 0.2, 0.1,
                                                                            0.01]))
    assert found["c7/danger_zone_lrs"].value == 1


@pytest.mark.parametrize("load", [protocol.load_settings, p3_settings.load_settings,
                                  p4_grid.load_grid])
def test_settings_files_name_the_missing_profile(load):
    expected = r"has no profile 'huge' \(has \['full', 'mini', 'smoke'\]\)"
    with pytest.raises(ConfigError, match=expected):
        load("huge")
