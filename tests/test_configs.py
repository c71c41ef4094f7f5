"""Config tree: every experiment runs two steps, launchers compose, schemas reject bad keys."""

from __future__ import annotations

import json

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException

from conftest import CONF
from lrstudy.engine.run import run_training

EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_runs_two_steps(make_cfg, tmp_path, experiment):
    cfg = make_cfg(f"experiment={experiment}", "trainer.max_steps=2", "data.eval_subset=64",
                   "trainer.eval_at_start=false")
    assert cfg.experiment == experiment
    run_training(cfg, tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "completed"


@pytest.mark.parametrize(("launcher", "target"), [
    ("local", "hydra._internal.core_plugins.basic_launcher.BasicLauncher"),
    ("parallel", "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"),
    ("slurm", "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"),
])
def test_launchers_compose(launcher, target):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"hydra/launcher={launcher}"],
                      return_hydra_config=True)
    assert cfg.hydra.launcher._target_ == target


@pytest.mark.parametrize("profile", ["smoke", "mini", "full"])
def test_profiles_compose(make_cfg, profile):
    assert make_cfg(f"profile={profile}").profile.name == profile


@pytest.mark.parametrize("override", ["optimizer.betas=1", "schedule.t0_epochs=3",
                                      "trainer.epoch=3", "data.shape=[1]"])
def test_keys_outside_the_schema_fail_at_composition(make_cfg, override):
    with pytest.raises(ConfigCompositionException):
        make_cfg(override)
