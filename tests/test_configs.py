"""Config tree: every experiment runs two steps, launchers compose, schemas reject bad keys."""

from __future__ import annotations

import json

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException

from conftest import CONF, STAND_INS
from lrstudy.engine.run import run_training

EXPERIMENTS = sorted(str(p.relative_to(CONF / "experiment").with_suffix(""))
                     for p in (CONF / "experiment").rglob("*.yaml"))
# what a CPU and the stand-in datasets need; everything else is the experiment's own
ON_CPU = ("trainer.max_steps=2", "trainer.eval_at_start=false", "trainer.device=cpu",
          "trainer.compile=false", "trainer.precision=fp32", "trainer.channels_last=false",
          "trainer.sharpness_every=0", "data.eval_subset=64", "data.batch_size=8")


def first_sweep_point(experiment: str) -> list[str]:
    """The first value of every parameter the experiment sweeps (e.g. its first arm)."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"experiment={experiment}"],
                      return_hydra_config=True)
    params = cfg.hydra.sweeper.get("params") or {}
    return [f"{key}={str(value).split(',')[0].strip()}" for key, value in params.items()]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_runs_two_steps(make_cfg, stand_in_root, tmp_path, experiment):
    """Every experiment file, full-profile ones included, at its first sweep point."""
    cfg = make_cfg(f"experiment={experiment}", *first_sweep_point(experiment), *ON_CPU)
    if cfg.data.name in STAND_INS:
        cfg.data.val_size = min(cfg.data.val_size, 16)
    if cfg.data.name == "tolstoi":
        cfg.data.batch_size, cfg.data.eval_batch_size = 4, 50
    cfg.paths.data = str(stand_in_root)
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
