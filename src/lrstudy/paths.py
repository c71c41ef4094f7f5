"""Run-directory naming: a run's directory is derived from its sorted overrides, never a clock."""

from __future__ import annotations

import re

from omegaconf import OmegaConf

DEFAULT_RUN_ID = "default"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.,=+\-@:]")


def run_id(override_dirname: str) -> str:
    """Filesystem-safe directory name for Hydra's ``override_dirname`` ("" -> "default").

    Hydra sorts the overrides, so the same set of overrides always maps to the same directory;
    characters such as ``/`` or spaces inside values become ``_``.
    """
    return _UNSAFE.sub("_", override_dirname) or DEFAULT_RUN_ID


def register_resolvers() -> None:
    """Register ``${lrstudy.run_id:...}``; idempotent so every entry point may call it."""
    if not OmegaConf.has_resolver("lrstudy.run_id"):
        OmegaConf.register_new_resolver("lrstudy.run_id", run_id)
