"""Model zoo: ``build_model(cfg.model, data.spec)`` dispatches on ``cfg.name``.

Every model has a class attribute ``task`` (classification | vae | char_lm | quadratic) from
which the engine picks the loss, and raises ``ConfigError`` at build time when the dataset does
not fit it.
"""

from __future__ import annotations

from collections.abc import Callable

from omegaconf import DictConfig
from torch import nn

from lrstudy.data.spec import DataSpec
from lrstudy.errors import ConfigError
from lrstudy.models.char_rnn import build_char_rnn
from lrstudy.models.deepobs_cnn import build_2c2d, build_3c3d, build_allcnnc
from lrstudy.models.mlp import build_fcn
from lrstudy.models.preresnet import build_preresnet
from lrstudy.models.quadratic import build_quadratic
from lrstudy.models.vae import build_vae
from lrstudy.models.wrn import build_wrn

Builder = Callable[[DictConfig, DataSpec], nn.Module]


def build_timm(cfg: DictConfig, spec: DataSpec) -> nn.Module:
    """timm models, imported on first use: timm (and torchvision) take seconds to import."""
    from lrstudy.models.timm_models import build_timm as build

    return build(cfg, spec)

BUILDERS: dict[str, Builder] = {
    "fcn": build_fcn,
    "cnn_2c2d": build_2c2d,
    "cnn_3c3d": build_3c3d,
    "allcnnc": build_allcnnc,
    "wrn16_4": build_wrn,
    "mnist_vae": build_vae,
    "char_rnn": build_char_rnn,
    "quadratic": build_quadratic,
    "preresnet32": build_preresnet,
    "resnet18": build_timm,
    "resnet34": build_timm,
    "vit": build_timm,
    "botnet": build_timm,
}


def build_model(cfg: DictConfig, spec: DataSpec) -> nn.Module:
    """The model ``cfg`` describes, sized for ``spec``, on the CPU in float32."""
    builder = BUILDERS.get(cfg.name)
    if builder is None:
        raise ConfigError(f"unknown model={cfg.name}; known: {', '.join(sorted(BUILDERS))}")
    return builder(cfg, spec)
