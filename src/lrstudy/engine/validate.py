"""Checks that need no data: they run first, so a bad value fails before anything is prepared."""

from __future__ import annotations

import torch
from omegaconf import DictConfig

from lrstudy.errors import ConfigError
from lrstudy.init import build_lr_control, check_parameterization
from lrstudy.optim import build_optimizer

CHOICES = {
    "trainer.loss": ("cross_entropy", "mse"),
    "trainer.dtype": ("float32", "float64"),
    "trainer.precision": ("fp32", "bf16"),
    "trainer.progress": ("auto", "on", "off"),
    "trainer.sharpness_dtype": ("float32", "float64"),
    "objective.mode": ("min", "max"),
    "objective.reduce": ("final", "best"),
}
EVAL_METRICS = ("val_loss", "val_acc", "test_loss", "test_acc")


def _get(cfg: DictConfig, dotted: str):
    node = cfg
    for key in dotted.split("."):
        node = node[key]
    return node


def _positive(cfg: DictConfig, *keys: str) -> None:
    for key in keys:
        value = _get(cfg, key)
        if value is not None and value <= 0:
            raise ConfigError(f"{key}={value} must be > 0")


def validate_config(cfg: DictConfig) -> None:
    """Raise ConfigError (one line naming the key) for any invalid value."""
    for key, allowed in CHOICES.items():
        if _get(cfg, key) not in allowed:
            raise ConfigError(f"{key}={_get(cfg, key)!r} must be one of {list(allowed)}")
    _positive(cfg, "data.batch_size", "data.eval_batch_size", "trainer.epochs",
              "trainer.sync_every", "trainer.divergence_factor", "trainer.max_steps",
              "data.train_subset", "data.eval_subset", "profile.max_steps",
              "profile.train_subset", "profile.eval_subset", "trainer.sharpness_batches",
              "trainer.sharpness_iters")
    if cfg.data.val_size < 0:
        raise ConfigError(f"data.val_size={cfg.data.val_size} must be >= 0")
    for key in ("eval_every_steps", "sharpness_every"):
        if cfg.trainer[key] < 0:
            raise ConfigError(f"trainer.{key}={cfg.trainer[key]} must be >= 0")
    if cfg.objective.metric not in EVAL_METRICS:
        raise ConfigError(f"objective.metric={cfg.objective.metric!r} must be one of "
                          f"{list(EVAL_METRICS)}")
    if cfg.objective.metric.startswith("val") and cfg.data.val_size == 0:
        raise ConfigError(f"objective.metric={cfg.objective.metric} needs data.val_size > 0")
    device = cfg.trainer.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"trainer.device={device} but CUDA is not available here")
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise ConfigError(f"trainer.device={device!r} must be auto, cpu, cuda or cuda:N")
    # dry builds: the schedule, init and optimizer check their own parameters
    check_parameterization(cfg.init, cfg.model)
    build_lr_control(cfg.schedule, cfg.init, cfg.optimizer, steps_per_epoch=1, total_steps=10**9)
    build_optimizer(cfg.optimizer, [torch.zeros(1, requires_grad=True)])
