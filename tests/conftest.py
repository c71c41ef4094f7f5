"""Shared fixtures: configs from Hydra's compose API, one prepared-data root per session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

from lrstudy.config import register_configs
from lrstudy.paths import register_resolvers

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"

register_configs()
register_resolvers()
if "LRSTUDY_DATA_SOURCE" not in os.environ and SHARED_DATASETS.is_dir():
    os.environ["LRSTUDY_DATA_SOURCE"] = str(SHARED_DATASETS)


def has_source(*relative: str) -> bool:
    source = os.environ.get("LRSTUDY_DATA_SOURCE")
    return bool(source) and all((Path(source) / r).exists() for r in relative)


needs_mnist = pytest.mark.skipif(not has_source("mnist/train-images-idx3-ubyte.gz"),
                                 reason="MNIST raw files not in LRSTUDY_DATA_SOURCE")
needs_tolstoi = pytest.mark.skipif(not has_source("text/tolstoi_deepobs_input.txt"),
                                   reason="Tolstoi text not in LRSTUDY_DATA_SOURCE")


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """Prepared datasets shared by every test of the session (preparation is the slow part)."""
    return tmp_path_factory.mktemp("data")


STAND_INS = {"fmnist", "cifar10", "cifar100", "svhn"}  # sets this machine lacks


@pytest.fixture(scope="module")
def stand_in_root(tmp_path_factory) -> Iterator[Path]:
    """A prepared-data root whose sources are the real offline files plus small official-format
    stand-ins for STAND_INS (tests/data_fixtures.py), for one test module."""
    from data_fixtures import write_stand_in_sources

    with pytest.MonkeyPatch.context() as monkeypatch:
        write_stand_in_sources(tmp_path_factory.mktemp("sources"), monkeypatch)
        yield tmp_path_factory.mktemp("data")


@pytest.fixture
def make_cfg(data_root) -> Callable[..., DictConfig]:
    """Compose conf/train.yaml with overrides, pointed at the session's data root."""

    def _make(*overrides: str) -> DictConfig:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            cfg = compose(config_name="train", overrides=list(overrides))
        with open_dict(cfg):
            cfg.paths.data = str(data_root)
            cfg.trainer.progress = "off"
        return cfg

    return _make


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python src/train.py ARGS`` the way a user does."""
    return subprocess.run([sys.executable, str(ROOT / "src" / "train.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
