"""P2 (Li & Arora, exponential LR): the equivalence runs, the toy, the training loop, the
analysis and the report, on sizes that take seconds."""

from __future__ import annotations

import math

import pytest
import torch
import yaml

from conftest import CONF
from lrstudy.engine.run import run_training
from lrstudy.report import build_report
from lrstudy.schedules import weight_rescales
from lrstudy.studies.__main__ import main as studies_main
from lrstudy.studies.p2_exp_lr import equivalence
from lrstudy.studies.p2_exp_lr.analysis import run_layers
from lrstudy.studies.p2_exp_lr.common import compose_config
from lrstudy.studies.p2_exp_lr.toy import Toy, run_toy
from lrstudy.sweep.aggregate import aggregate
from lrstudy.sweep.collect import load_runs

ARMS = ("wd_const", "exp_lr", "step", "texp", "texp_pp")
TINY_DATA = ["data=synthetic", "data.shape=[1,8,8]", "data.train_size=64", "data.test_size=32",
             "data.val_size=0", "data.batch_size=16"]
NOT_IMPLEMENTED = {"P2-C8"}


def tiny_arm(make_cfg, arm: str, seed: int = 0, *extra: str):
    """The smoke experiment's arm on 8x8 synthetic images: 2 epochs of 4 steps."""
    return make_cfg("experiment=p2_exp_lr/smoke", "profile=smoke", f"arm=p2/{arm}", f"seed={seed}",
                    *TINY_DATA, *extra)


def test_equivalence_is_exact_with_the_correction_and_drifts_without(make_cfg):
    cfg = make_cfg("experiment=p2_exp_lr/equivalence", "profile=mini", *TINY_DATA,
                   "data.train_size=640", "trainer.max_steps=40")
    table = equivalence.run_equivalence(cfg)
    worst = table.groupby(["case", "variant"])["deviation"].max()
    assert set(table["step"]) == set(range(1, 41))
    for norm in ("batch", "group", "layer"):
        assert worst[norm, "corrected"] < 1e-10, norm
        assert worst[norm, "uncorrected"] > 1e-6, norm
    assert worst["batch_cosine", "corrected"] < 1e-10
    exact = table[(table["variant"] == "corrected") & (table["case"] != "batch_default_eps")]
    assert exact["scale_error"].abs().max() < 1e-10


def test_exponential_counterpart_of_a_constant_lr_is_exp_lr():
    lrs, scales = equivalence.exponential_counterpart([0.1] * 50, 5e-4, 0.9)
    alpha = equivalence.explr_alpha(0.1, 5e-4, 0.9)
    assert lrs == pytest.approx([0.1 * alpha ** (-2 * t - 1) for t in range(50)], rel=1e-12)
    assert scales == pytest.approx([alpha ** -(t + 1) for t in range(50)], rel=1e-12)


def test_toy_converges_with_bn_or_wd_alone_but_not_with_both():
    table = run_toy(Toy())
    late = table[table["step"] > Toy().steps / 2].groupby("setting")["excess_loss"].max()
    assert late["bn"] < 1e-9 and late["wd"] < 1e-9
    assert late["bn_wd"] > 1e-4


def test_texp_pp_rescales_at_the_milestones_only(make_cfg):
    cfg = tiny_arm(make_cfg, "texp_pp")
    assert weight_rescales(cfg.schedule, 4) == {4: math.sqrt(10), 6: math.sqrt(10)}
    assert weight_rescales(tiny_arm(make_cfg, "texp").schedule, 4) == {}


def _directions(run_dir) -> dict[str, torch.Tensor]:
    model = torch.load(run_dir / "checkpoint.pt", weights_only=False)["model"]
    return {k: v / v.norm() for k, v in model.items() if k.endswith("conv1.weight")}


@pytest.mark.parametrize("arm", ["texp", "texp_pp"])
def test_texp_arms_train_the_step_decay_run_in_float64(make_cfg, tmp_path, arm):
    """Through the engine: TEXP (Thm 2.12) and TEXP++ (with the loop's rescaling) end at the
    step-decay run's directions, up to the one-step momentum transients at the phase ends and
    BN's eps; the fixed-LR run, which skips the decays, ends far from them."""
    for name in ("step", "wd_const", arm):
        run_training(tiny_arm(make_cfg, name, 0, "trainer.dtype=float64"), tmp_path / name)
    step = _directions(tmp_path / "step")

    def gap(name: str) -> float:
        other = _directions(tmp_path / name)
        return max(float((step[k] - other[k]).norm()) for k in step)

    assert gap(arm) < 1e-3 < gap("wd_const")


def test_exp_lr_arm_keeps_norm_over_lr_of_the_fixed_lr_arm(make_cfg, tmp_path):
    """|w~|^2 / lr~ = alpha |w|^2 / lr (Thm 1.1); float32 and BN's eps keep it approximate."""
    runs = {}
    for arm in ("wd_const", "exp_lr"):
        run_training(tiny_arm(make_cfg, arm), tmp_path / arm)
        runs[arm] = run_layers(load_runs(tmp_path / arm)[0])
    ratio = {arm: (t["sq_norm"] / t["lr"]).to_numpy() for arm, t in runs.items()}
    assert ratio["exp_lr"] == pytest.approx(ratio["wd_const"], rel=0.05)
    assert runs["exp_lr"]["lr"].iloc[-1] > runs["exp_lr"]["lr"].iloc[0]


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory, data_root):
    """A smoke-sized P2 result tree: the five arms x 2 seeds, equivalence, toy, aggregate."""

    def compose(*overrides: str):
        cfg = compose_config(["profile=smoke", *overrides, *TINY_DATA])
        cfg.paths.data, cfg.trainer.progress = str(data_root), "off"
        return cfg

    results = tmp_path_factory.mktemp("results")
    root = results / "smoke" / "p2_exp_lr"
    for arm in ARMS:
        for seed in (0, 1):
            run_training(compose("experiment=p2_exp_lr/smoke", f"arm=p2/{arm}", f"seed={seed}"),
                            root / "runs" / f"{arm}-{seed}")
    aggregate(root / "runs", root)
    table = equivalence.run_equivalence(compose("experiment=p2_exp_lr/equivalence",
                                                "trainer.max_steps=5"))
    (root / "numerics").mkdir()
    table.to_csv(root / "numerics" / "equivalence.csv", index=False)
    run_toy(Toy(steps=200)).to_csv(root / "numerics" / "toy.csv", index=False)
    return results


def test_analysis_writes_every_claimed_measure_and_the_figures(smoke_results, tmp_path):
    studies_main(["p2_exp_lr", "--profile", "smoke", "--results", str(smoke_results),
                  "--figures", str(tmp_path)])
    measures = yaml.safe_load((smoke_results / "smoke/p2_exp_lr/measures.json").read_text())
    claims = yaml.safe_load((CONF / "claims" / "p2.yaml").read_text())["claims"]
    missing = {c["id"]: c["measure"] for c in claims
               if c["measure"] not in measures and c["id"] not in NOT_IMPLEMENTED}
    assert not missing
    for claim in claims:
        if claim.get("figure"):
            assert (tmp_path / claim["figure"]).exists(), claim["figure"]
            assert (tmp_path / claim["figure"]).with_suffix(".pdf").exists()
    report = build_report(CONF / "claims", smoke_results, "smoke")
    for claim in claims:
        assert f"| {claim['id']} |" in report
    assert "smoke — not evidence" in report and "| P2-C8 |" in report
