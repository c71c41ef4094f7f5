"""Aggregation and report on a real (tiny) sweep: arms, seeds, divergence, intervals, verdicts."""

from __future__ import annotations

import json

import pytest

from conftest import CONF
from lrstudy.engine.run import run_training
from lrstudy.report import build_report
from lrstudy.sweep.aggregate import aggregate
from lrstudy.sweep.collect import load_runs
from lrstudy.sweep.stats import summarize

QUICK = ("trainer.epochs=2", "data.batch_size=128", "objective.metric=val_acc",
         "objective.mode=max")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, data_root):
    """2 arms x 3 seeds on digits, plus one diverged run in a third arm."""
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict

    root = tmp_path_factory.mktemp("sweep")
    jobs = [(f"arm={arm}", f"optimizer.lr={lr}", f"seed={seed}")
            for arm, lr in (("fast", 0.1), ("slow", 0.01)) for seed in (0, 1, 2)]
    jobs.append(("arm=broken", "optimizer=sgd", "optimizer.lr=1e6", "seed=0"))
    for job in jobs:
        overrides = [o for o in job if not o.startswith("arm=")]
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            cfg = compose(config_name="train", overrides=[*QUICK, *overrides])
        with open_dict(cfg):
            cfg.paths.data = str(data_root)
            cfg.arm = job[0].removeprefix("arm=")
        run_training(cfg, root / "runs" / ",".join(job))
    return root


def test_aggregate_groups_by_arm_and_counts_divergence(sweep):
    tables = aggregate(sweep / "runs", sweep)
    runs, summary = tables["runs"], tables["summary"]
    assert len(runs) == 7 and set(runs["arm"]) == {"fast", "slow", "broken"}
    acc = summary[summary["metric"] == "final_val_acc"].set_index("arm")
    assert acc.loc["fast", "n"] == 3 and acc.loc["fast", "n_diverged"] == 0
    assert acc.loc["broken", "n"] == 0 and acc.loc["broken", "n_diverged"] == 1
    fast = runs[runs["arm"] == "fast"]["final_val_acc"].tolist()
    expected = summarize(fast)
    assert acc.loc["fast", "mean"] == pytest.approx(expected.mean)
    assert acc.loc["fast", "t_low"] == pytest.approx(expected.t_low)
    for name in ("runs", "summary", "curves"):
        assert (sweep / f"{name}.csv").exists()


def test_curves_have_every_eval_epoch_and_train_loss(sweep):
    curves = aggregate(sweep / "runs", sweep)["curves"]
    fast_acc = curves[(curves["arm"] == "fast") & (curves["metric"] == "val_acc")]
    assert sorted(fast_acc["epoch"]) == [0.0, 1.0, 2.0] and (fast_acc["n"] == 3).all()
    assert set(curves[curves["metric"] == "train_loss"]["epoch"]) == {1, 2}


def test_mixed_schema_versions_are_refused(sweep, tmp_path):
    import shutil

    copy = tmp_path / "runs"
    shutil.copytree(sweep / "runs", copy)
    meta_path = next(copy.glob("*/meta.json"))
    meta = json.loads(meta_path.read_text())
    meta["schema_version"] = 999
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="schema_version 999"):
        load_runs(copy)


def test_report_rows_carry_verdicts_and_not_run(tmp_path):
    results = tmp_path / "results"
    study = results / "mini" / "p1_log_anneal"
    study.mkdir(parents=True)
    detail = {"data": "mnist", "model": "cnn_3c3d", "seeds": 3}
    measures = {
        "primary/log_anneal_inv-cosine_wr/final_test_acc":
            {"value": 0.001, "low": -0.002, "high": 0.004, "n": 3, "detail": detail},
        "primary/log_anneal_inv-step/final_test_acc":
            {"value": -0.03, "low": -0.05, "high": -0.01, "n": 3, "detail": detail},
    }
    (study / "measures.json").write_text(json.dumps(measures))
    report = build_report(CONF / "claims", results, "mini")
    rows = {line.split(" | ")[0].strip("| "): line for line in report.splitlines()
            if line.startswith("| P1-")}
    assert "**reproduced**" in rows["P1-C2"] and "+0.0010 [-0.0020, +0.0040]" in rows["P1-C2"]
    assert "**not reproduced**" in rows["P1-C4"]
    assert "**not run**" in rows["P1-C1"]
    assert "Ambiguities and choices" in report
