"""What the P2 entry points share: the config tree, composition, where results go."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from lrstudy.config import register_configs
from lrstudy.paths import register_resolvers

CONF = Path(__file__).resolve().parents[4] / "conf"  # the repository's conf/ (src layout)
STUDY = "p2_exp_lr"
INVARIANT = r"^blocks\.\d+\.conv1\.weight$"  # PreResNet layers scale invariant on their own


def register() -> None:
    """The config schemas and resolvers every entry point needs (idempotent)."""
    register_configs()
    register_resolvers()


def compose_config(overrides: Sequence[str]) -> DictConfig:
    """conf/train.yaml with ``overrides``, composed as src/train.py would."""
    register()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides))
