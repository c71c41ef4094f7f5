"""P3 (LR search with Lipschitz bandits): settings, the sweep command lines, the measures on
hand-made results with known answers, and the driver end to end on a tiny smoke setting
(resumed: a finished study starts no process)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_dir

from conftest import CONF, ROOT, needs_mnist
from lrstudy.errors import ConfigError
from lrstudy.report import build_report
from lrstudy.studies import __main__ as studies_main
from lrstudy.studies.p3_lr_bandits import analysis, search
from lrstudy.studies.p3_lr_bandits.settings import (
    SETTINGS_FILE,
    OptimizerSpace,
    Sweep,
    load_settings,
)
from lrstudy.sweep.aggregate import aggregate

DETAIL = {"data": "mnist", "model": "fcn"}


@pytest.mark.parametrize("profile", ["smoke", "mini", "full"])
def test_every_profile_has_consistent_settings(profile):
    settings = load_settings(profile)
    assert set(settings.algorithms) == {"zooming", "hyperopt", "blie", "random"}
    for space in settings.optimizers.values():
        lrs = space.grid_lrs()
        assert lrs == sorted(lrs) and len(lrs) >= 3
        assert space.unit(space.interval[0]) == pytest.approx(0.0)
        assert space.unit(space.interval[1]) == pytest.approx(1.0)
    search_seeds = {1000 * s + k for s in settings.seeds for k in range(settings.budget)}
    assert not search_seeds & {settings.retrain_seed(s) for s in settings.seeds}
    assert settings.algorithms["hyperopt"]["n_startup_jobs"] < settings.budget


def test_settings_reject_bad_fidelities_and_retrain_seed(tmp_path):
    spec = yaml.safe_load(SETTINGS_FILE.read_text())["smoke"]
    for change in ({"fidelities": {"low": 2, "high": 1}}, {"retrain": 1}):
        path = tmp_path / "settings.yaml"
        path.write_text(yaml.safe_dump({"smoke": {**spec, **change}}))
        with pytest.raises(ConfigError, match=next(iter(change))):
            load_settings("smoke", path)


def test_sweep_command_composes_into_the_requested_sweeper():
    settings = load_settings("mini")
    sweep = Sweep("adam", "low", "zooming", 3)
    overrides = search.sweep_overrides(sweep, settings, search.common_overrides("mini", "data"),
                                       "local")
    space = "optimizer.lr=tag(log, interval(1e-05, 0.3))"    # a sweep: only Hydra's -m takes it
    assert space in overrides
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[o for o in overrides if o != space],
                      return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("ZoomingSweeper")
    assert (sweeper.budget, sweeper.seed, sweeper.direction) == (settings.budget, 3, "maximize")
    assert list(sweeper.reward_range) == [0.0, 1.0] and sweeper.pull_seed_key == "seed"
    assert cfg.optimizer.name == "adam" and cfg.trainer.epochs == settings.fidelities["low"]
    assert cfg.objective.metric == "val_acc" and cfg.objective.mode == "max"


def _trace(algorithm: str, seed: int, values: list[float | None], steps: int = 10) -> list[dict]:
    rows, best = [], -math.inf
    for number, value in enumerate(values):
        best = max(best, value) if value is not None else best
        rows.append({"optimizer": "sgd", "fidelity": "high", "epochs": 4,
                     "algorithm": algorithm, "sweeper_seed": seed, "number": number,
                     "value": value, "status": "completed" if value is not None else "diverged",
                     "best_so_far": best if math.isfinite(best) else None,
                     "steps": steps if value is not None else 2})
    return rows


def test_search_measures_have_known_values():
    evaluations = pd.DataFrame(
        _trace("hyperopt", 0, [0.5, 0.7, 0.8, 0.8]) + _trace("zooming", 0, [None, 0.9, 0.5, 0.6])
        + _trace("hyperopt", 1, [0.6, 0.6, 0.6, 0.9]) + _trace("zooming", 1, [0.7, 0.7, 0.8, 0.8]))
    measures = analysis.search_measures(evaluations, DETAIL)
    assert measures["sgd/high/zooming/best_value"].value == pytest.approx(0.85)
    assert measures["sgd/high/zooming-hyperopt/best_value"].value == pytest.approx(0.0)
    # seed 0: TPE reaches its 0.8 at evaluation 3, zooming at 2 (+1); seed 1: TPE's 0.9 at 4,
    # zooming never (budget + 1 = 5, -1)
    evals = measures["sgd/high/hyperopt-zooming/evals_to_tpe_final"]
    assert evals.value == pytest.approx(0.0) and evals.n == 2
    steps = measures["sgd/high/hyperopt-zooming/steps_to_tpe_final"]
    assert steps.value == pytest.approx(((30 - 12) + (40 - 40)) / 2)
    assert analysis.reach(pd.DataFrame(_trace("zooming", 0, [None, None])), 0.1, 2) == (3, 4.0)


def test_retrain_measures_pair_zooming_low_with_high_fidelity_sweeps():
    rows = [{"optimizer": "sgd", "fidelity": fid, "algorithm": alg, "sweeper_seed": seed,
             "status": "completed", "final_test_acc": acc}
            for alg, fid, seed, acc in [("zooming", "low", 0, 0.90), ("zooming", "low", 1, 0.92),
                                        ("hyperopt", "high", 0, 0.91), ("hyperopt", "high", 1, 0.9),
                                        ("blie", "high", 0, 0.95)]]
    rows.append({"optimizer": "sgd", "fidelity": "high", "algorithm": "blie", "sweeper_seed": 1,
                 "status": "none found", "final_test_acc": None})
    measures = analysis.retrain_measures(pd.DataFrame(rows), DETAIL)
    diff = measures["sgd/zooming_low-hyperopt_high/retrained_test_acc"]
    assert diff.value == pytest.approx(0.005) and diff.n == 2
    assert measures["sgd/zooming_low-blie_high/retrained_test_acc"].n == 1


def _grid(accuracies: dict[float, list[float | None]]) -> pd.DataFrame:
    return pd.DataFrame([{"optimizer": "sgd", "lr": lr, "seed": seed,
                          "status": "completed" if acc is not None else "diverged",
                          "val_acc": acc if acc is not None else math.nan, "test_acc": math.nan}
                         for lr, accs in accuracies.items() for seed, acc in enumerate(accs)])


def test_grid_slope_is_per_unit_coordinate_and_ignores_divergence():
    space = OptimizerSpace((1e-3, 1.0), (-3, 0, 1))          # 3 decades: a decade is 1/3 unit
    smooth = _grid({1e-3: [0.5, 0.5], 1e-2: [0.6, 0.6], 1e-1: [0.7, 0.7], 1.0: [None, 0.1],
                    10.0: [None, None]})
    measures = analysis.grid_measures(smooth, {"sgd": space}, DETAIL)
    assert measures["sgd/grid/lipschitz"].value == pytest.approx(0.3)   # 0.1 per 1/3 unit
    assert measures["sgd/grid/diverged_fraction"].value == pytest.approx(0.3)
    cliff = _grid({1e-3: [0.1, 0.1], 1e-2: [0.9, 0.9], 1e-1: [0.9, 0.9]})
    assert analysis.grid_measures(cliff, {"sgd": space}, DETAIL)["sgd/grid/lipschitz"].value \
        == pytest.approx(2.4)


TINY = {"optimizers": {"sgd": {"interval": [1.0e-4, 3.0], "grid": [-2, 0, 1]}},
        "algorithms": {"zooming": {"radius_scale": 0.1, "lipschitz": 3.0,
                                   "reward_range": [0.0, 1.0]},
                       "hyperopt": {"n_startup_jobs": 1}},
        "seeds": [0], "budget": 2, "batch_size": 1, "fidelities": {"low": 1, "high": 2},
        "grid_seeds": [0], "retrain": 500}


@needs_mnist
def test_driver_runs_resumes_and_feeds_the_analysis(tmp_path, data_root, monkeypatch):
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(yaml.safe_dump({"smoke": TINY}))
    argv = ["--profile", "smoke", "--results", str(tmp_path / "results"), "--data",
            str(data_root), "--settings", str(settings_file), "--launcher", "local"]
    search.main(argv)
    out = tmp_path / "results" / "smoke" / "p3_lr_bandits"
    evaluations = pd.read_csv(out / "search" / "evaluations.csv")
    assert len(evaluations) == 2 * 2 * 2                   # fidelities x algorithms x budget
    assert evaluations["steps"].notna().all() and set(evaluations["seed"]) == {0}
    retrain = pd.read_csv(out / "search" / "retrain.csv")
    assert len(retrain) == 4 and (retrain["status"] == "completed").all()

    def no_process(*args, **kwargs):
        raise AssertionError(f"a finished study started {args[0]}")

    monkeypatch.setattr(search.subprocess, "run", no_process)
    search.main(argv)                                      # everything finished: no process

    aggregate(out / "runs", out)
    studies_main.main(["p3_lr_bandits", "--profile", "smoke", "--results",
                       str(tmp_path / "results"), "--figures", str(tmp_path / "figures")])
    measures = json.loads((out / "measures.json").read_text())
    assert {"sgd/high/zooming-hyperopt/best_value", "sgd/grid/lipschitz",
            "sgd/zooming_low-hyperopt_high/retrained_test_acc"} <= set(measures)
    for figure in ("best_trace", "evals_to_tpe_final", "lr_grid", "retrained"):
        assert (tmp_path / "figures" / "p3_lr_bandits" / f"{figure}.pdf").exists()
    report = build_report(ROOT / "conf" / "claims", tmp_path / "results", "smoke")
    assert "| P3-C1a |" in report and "| P3-C5 |" in report
