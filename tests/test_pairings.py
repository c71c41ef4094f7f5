"""Every data x model pairing the configs declare composes and trains two steps on the CPU.

Real offline files are used where this machine has them (MNIST, Tolstoi, MNIST-1D, digits,
quadratic_deep); Fashion-MNIST, CIFAR-10/100 and SVHN come from small stand-in files written in
their official formats, so the same preparation, checksum and loading code runs for them.
"""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import CONF, STAND_INS
from lrstudy.engine.run import run_training

PAIRS = sorted(
    (path.stem, data)
    for path in (CONF / "model").glob("*.yaml")
    for data in yaml.safe_load(path.read_text()).get("datasets", [])
)


def test_every_model_declares_its_datasets():
    declared = {model for model, _ in PAIRS}
    assert declared == {p.stem for p in (CONF / "model").glob("*.yaml")}


@pytest.mark.parametrize(("model", "data"), PAIRS, ids=[f"{m}-{d}" for m, d in PAIRS])
def test_pair_trains_two_steps(make_cfg, stand_in_root, tmp_path, model, data):
    overrides = [f"model={model}", f"data={data}", "trainer.max_steps=2",
                 "trainer.eval_at_start=false", "data.batch_size=8", "data.eval_subset=64",
                 "data.eval_batch_size=64"]
    if data in STAND_INS:
        overrides += ["data.val_size=16"]
    if model == "mnist_vae":
        overrides += ["data.normalize=false"]
    if data == "tolstoi":
        overrides += ["data.batch_size=4", "data.eval_batch_size=50"]
    cfg = make_cfg(*overrides)
    cfg.paths.data = str(stand_in_root)
    run_training(cfg, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["steps"] == 2
    assert metrics["final"]["test_loss"] is not None
