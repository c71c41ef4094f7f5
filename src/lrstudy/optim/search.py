"""Random-search spaces of the crowded-valley benchmark (PAPERS.md 5.3), held as config data.

Each optimizer option carries ``search_space: {hyperparameter: {dist, low, high}}`` and
``oneshot: {hyperparameter: value}``. A study turns a drawn configuration, or the one-shot
defaults, into Hydra overrides (``as_overrides``), so every run directory and its config.yaml
record the values actually trained with.

Each hyperparameter consumes exactly one uniform draw, in the space's declaration order (LR
first): optimizers with spaces of the same shape get the same configurations from the same seed,
as the benchmark's did (Momentum's (lr, rho) equal AdaDelta's and RMSProp's).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from lrstudy.errors import ConfigError

DISTRIBUTIONS = ("log_uniform", "uniform", "int_uniform")


def check_search_space(space: Mapping[str, Mapping[str, Any]], hyperparameters: set[str],
                       prefix: str = "optimizer.search_space") -> None:
    """Raise ConfigError naming the key for an unknown hyperparameter or a malformed range."""
    for key, dim in space.items():
        where = f"{prefix}.{key}"
        if key not in hyperparameters:
            raise ConfigError(f"{where} is not a hyperparameter of this optimizer; choose from "
                              f"{sorted(hyperparameters)}")
        dist, low, high = dim["dist"], dim["low"], dim["high"]
        if dist not in DISTRIBUTIONS:
            raise ConfigError(f"{where}.dist={dist!r} must be one of {list(DISTRIBUTIONS)}")
        if not low < high:
            raise ConfigError(f"{where}.low={low} must be < {where}.high={high}")
        if dist == "log_uniform" and low <= 0:
            raise ConfigError(f"{where}.low={low} must be > 0 for a log_uniform distribution")
        if dist == "int_uniform" and not (float(low).is_integer() and float(high).is_integer()):
            raise ConfigError(f"{where}: int_uniform needs integer bounds, got [{low}, {high}]")


def sample_search_space(space: Mapping[str, Mapping[str, Any]],
                        rng: np.random.Generator) -> dict[str, float | int]:
    """One configuration drawn from ``space``; int_uniform bounds are inclusive."""
    sample: dict[str, float | int] = {}
    for key, dim in space.items():
        u = rng.random()
        low, high = dim["low"], dim["high"]
        if dim["dist"] == "uniform":
            sample[key] = low + u * (high - low)
        elif dim["dist"] == "log_uniform":
            sample[key] = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
        else:
            sample[key] = int(low) + int(u * (int(high) - int(low) + 1))
    return sample


def as_overrides(values: Mapping[str, Any], group: str = "optimizer") -> list[str]:
    """Hydra overrides ``group.key=value`` that apply a configuration to a run."""
    def literal(value: Any) -> str:
        return str(value).lower() if isinstance(value, bool) else repr(value)

    return [f"{group}.{key}={literal(value)}" for key, value in values.items()]
