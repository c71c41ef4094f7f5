"""Fully connected network (FCN-d-n of the warmup study): flattens any image or vector input."""

from __future__ import annotations

from math import prod

from omegaconf import DictConfig
from torch import nn

from lrstudy.data.spec import DataSpec
from lrstudy.errors import ConfigError
from lrstudy.models import checks

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "linear": nn.Identity,
}


class FCN(nn.Sequential):
    """``depth`` hidden layers of ``width`` units, then a linear readout.

    Framework-default (PyTorch) initialisation: the ``init`` group owns any other choice.
    """

    task = "classification"

    def __init__(self, in_features: int, num_classes: int, depth: int, width: int,
                 activation: str, bias: bool) -> None:
        layers: list[nn.Module] = [nn.Flatten()]
        features = in_features
        for _ in range(depth):
            layers += [nn.Linear(features, width, bias=bias), ACTIVATIONS[activation]()]
            features = width
        layers.append(nn.Linear(features, num_classes, bias=bias))
        super().__init__(*layers)


def build_fcn(cfg: DictConfig, spec: DataSpec) -> FCN:
    if spec.kind not in ("image", "vector"):
        checks.mismatch(cfg.name, "images or vectors", spec)
    if cfg.activation not in ACTIVATIONS:
        raise ConfigError(f"model={cfg.name}: activation={cfg.activation} is not one of "
                          f"{', '.join(ACTIVATIONS)}")
    if cfg.depth < 0 or cfg.width < 1:
        raise ConfigError(f"model={cfg.name} needs depth >= 0 and width >= 1, "
                          f"got depth={cfg.depth} width={cfg.width}")
    return FCN(prod(spec.shape), checks.classes(cfg.name, spec), cfg.depth, cfg.width,
               cfg.activation, cfg.bias)
