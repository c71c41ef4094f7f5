"""P4 (Kalra & Barkeshli, why warmup): the grid and its lambda_0 calibration, every experiment
running two steps, and the measures on hand-built cells with known answers."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from conftest import CONF
from lrstudy.engine.run import run_training
from lrstudy.errors import ConfigError
from lrstudy.studies.p4_warmup import analysis, grid

PARTS = ("phase", "mechanisms", "catapult")
PROFILES = ("smoke", "mini", "full")
TINY = ["data=synthetic", "data.shape=[1,8,8]", "data.train_size=128", "data.test_size=32",
        "data.val_size=0", "data.batch_size=32", "data.train_subset=null",
        "model.width=16", "model.depth=2"]
CPU = ["trainer.device=cpu", "trainer.compile=false", "trainer.precision=fp32",
       "trainer.channels_last=false"]


def fake_calibration(profile: str) -> dict:
    keys = {grid.calibration_key(g.part, p, g.overrides)
            for g in grid.load_grid(profile)["groups"] for p in g.params}
    return {"lambda0": {k: {"lambda0": 4.0} for k in keys}}


@pytest.mark.parametrize("profile", PROFILES)
def test_grid_lays_out_cells_with_paired_cosine_min_lr(profile):
    lines = list(grid.invocations(profile, fake_calibration(profile)))
    assert lines
    for overrides in lines:
        values = dict(o.split("=", 1) for o in overrides)
        if values["arm"] in ("p4/sgd_cosine", "p4/momentum_cosine"):
            assert float(values["schedule.min_lr"]) == pytest.approx(
                float(values["optimizer.lr"]) / 10, rel=1e-5)
        else:
            assert "schedule.min_lr" not in values


@pytest.mark.parametrize("profile", PROFILES)
def test_jobs_list_every_cell_once(profile):
    spec = grid.load_grid(profile)
    expected = sum(len(g.arms) * len(g.params) * len(g.warmup or [None]) * len(g.x or g.lr)
                   for g in spec["groups"]) * len(spec["seeds"])
    jobs = grid.jobs(profile, fake_calibration(profile))
    assert len(jobs) == len({tuple(sorted(j)) for j in jobs}) == expected
    assert all("," not in o.split("=", 1)[1] for j in jobs for o in j if o.startswith("seed="))


def test_target_lrs_are_powers_of_two_over_lambda0():
    group = grid.Group(part="phase", arms=["sgd"], params=["sp"], x=[-1, 0, 3], unit="lambda0")
    calibration = {"lambda0": {"phase/sp": {"lambda0": 80.0}}}
    assert grid._lrs(group, calibration, "sp") == pytest.approx([1 / 160, 1 / 80, 8 / 80])
    adam = grid.Group(part="phase", arms=["adam"], params=["sp"], x=[0, 10], unit=1e-5)
    assert grid._lrs(adam, calibration, "sp") == pytest.approx([1e-5, 1.024e-2])
    with pytest.raises(ConfigError, match="exactly one of x, lr"):
        grid.Group(part="phase", arms=["sgd"], params=["sp"])


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("part", PARTS)
def test_every_p4_experiment_runs_two_steps(make_cfg, tmp_path, part, profile):
    """Full-profile experiments (CIFAR, WRN-16-4 LayerNorm, CUDA settings) on 32x32 synthetic
    images on the CPU; the model and every other setting stay the experiment's."""
    cfg = make_cfg(f"experiment=p4_warmup/{part}/{profile}", "profile=smoke", "arm=p4/sgd",
                   "data=synthetic", "data.shape=[3,32,32]", "data.train_size=96",
                   "data.batch_size=32", "data.train_subset=null", "data.eval_subset=32",
                   "trainer.max_steps=2", "trainer.eval_at_start=false",
                   "trainer.sharpness_iters=5", *CPU)
    assert cfg.experiment == "p4_warmup" and cfg.study.part == part
    if profile == "full" and part != "mechanisms":
        assert cfg.model.name == "wrn16_4" and cfg.model.norm == "layer"
    run_training(cfg, tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "completed"


@pytest.mark.parametrize("arm", ["sgd", "momentum", "sgd_cosine", "adam", "gi_adam", "ri_adam",
                                 "radam", "catapult", "persistent_catapult"])
def test_every_arm_composes_with_a_cell_name(make_cfg, arm):
    cfg = make_cfg("experiment=p4_warmup/phase/smoke", f"arm=p4/{arm}", "optimizer.lr=0.5",
                   "init.parameterization=mup")
    assert cfg.arm.startswith(arm) and "_mup_" in cfg.arm and cfg.arm.endswith("lr0.5")


def test_lambda0_calibration_equals_the_runs_own_step0_sharpness(make_cfg, tmp_path):
    overrides = ["experiment=p4_warmup/mechanisms/smoke", "arm=p4/sgd", "optimizer.lr=0.01",
                 *TINY, "trainer.max_steps=1", "trainer.sharpness_every=1",
                 "trainer.sharpness_dtype=float64", "trainer.sharpness_iters=50"]
    cfg = make_cfg(*overrides)
    run_training(cfg, tmp_path)
    step0 = pd.read_csv(tmp_path / "history.csv")["sharpness"].iloc[0]
    from lrstudy.engine.run import apply_profile

    measured = grid.measure_lambda0(apply_profile(make_cfg(*overrides)))
    assert measured["lambda0"] == pytest.approx(step0, rel=1e-6)
    assert measured["hvps"] > 0


def test_eta_c_search_grid_grows_with_delta(make_cfg):
    from lrstudy.engine.run import apply_profile

    cfg = apply_profile(make_cfg("experiment=p4_warmup/catapult/smoke", *TINY))
    rows = grid.catapult_search_grid(cfg, [1e-4], [0.01, 0.1, 1.0], target=1e3)
    etas = [r["eta_c"] for r in rows]
    assert etas == sorted(etas) and etas[0] > 1e-4
    assert all(r["forward_passes"] >= 2 for r in rows)


def cells(family: str, param: str, boundary: dict[int, int], acc) -> pd.DataFrame:
    """A heatmap: x in 0..5, converged up to boundary[warmup], test_acc = acc(x, warmup)."""
    rows = []
    for warmup, top in boundary.items():
        for x in range(6):
            rows.append({"part": "phase", "family": family, "param": param, "data": "mnist",
                         "warmup": warmup, "x": float(x), "seed": 0, "lr": 2.0**x,
                         "outcome": "converged" if x <= top else "diverged",
                         "test_acc": acc(x, warmup) if x <= top else None,
                         "test_loss": 1 - acc(x, warmup) if x <= top else None})
    return pd.DataFrame(rows)


def test_phase_measures_on_a_known_heatmap():
    sgd = cells("sgd", "sp", {0: 2, 16: 3, 256: 4}, lambda x, w: 0.9 + 0.01 * x + 1e-4 * w)
    momentum = cells("momentum", "sp", {0: 0, 16: 3, 256: 4}, lambda x, w: 0.95)
    out = analysis.phase_measures(pd.concat([sgd, momentum]))
    assert out["phase/sgd_sp/xmax_gain"].value == 2
    assert out["phase/sgd_sp/xmax_w1"].value == 2
    # best: x = 4 at w = 256 (0.9656), best at w = 0: x = 2 (0.92)
    assert out["phase/sgd_sp/best_gap_w1"].value == pytest.approx(0.9656 - 0.92)
    assert out["phase/sgd_sp/xbest_below_boundary"].value == 0  # best is at the boundary
    # x <= 1 is safe for every warmup: range across warmups is 256e-4 at each x
    assert out["phase/sgd_sp/acc_range_across_warmup"].value == pytest.approx(0.0256)
    assert out["phase/momentum_sp-sgd_sp/xmax_w1"].value == -2
    assert out["phase/momentum_sp-sgd_sp/xmax_gain"].value == 2
    paired = out["phase/momentum_sp-sgd_sp/test_acc"]
    diffs = [0.95 - (0.9 + 0.01 * x + 1e-4 * w) for w, top in ((0, 0), (16, 3), (256, 4))
             for x in range(top + 1)]
    assert paired.value == pytest.approx(np.mean(diffs)) and paired.n == len(diffs)
    assert paired.low < paired.value < paired.high


def test_failed_adam_cells_count_as_finite_failures():
    adam = cells("adam", "sp", {0: 2}, lambda x, w: 0.9)
    adam.loc[adam["x"] > 2, "outcome"] = "failed"
    out = analysis.phase_measures(adam)
    assert out["phase/adam_family/nonconverged_finite_share"].value == 1.0


def test_first_spike_finds_the_first_catapult():
    losses = np.array([1.0, 0.8, 0.7, 0.9, 0.5, 0.4, 2.0])
    assert analysis.first_spike(losses, np.arange(7) * 8) == 24.0  # 0.9 > 1.2 * 0.7
    assert math.isnan(analysis.first_spike(np.array([1.0, 0.9, 0.8]), np.arange(3)))


def test_claims_name_measures_the_analysis_writes():
    import yaml

    claims = yaml.safe_load((CONF / "claims" / "p4.yaml").read_text())["claims"]
    assert {c["id"] for c in claims} >= {f"P4-C{i}" for i in (2, 5, 11, 14, 16)}
    assert all(c["study"] == "p4_warmup" for c in claims)
