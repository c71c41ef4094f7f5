"""Parameterisations of the warmup study (PAPERS.md 4.3): sp, mup and simple_mup.

Each weight layer (Linear or Conv2d) has a role: ``input`` (the first one, reading the data),
``output`` (the last one, the readout) or ``hidden``, and fans counted as torch and flax count
them (channels x receptive field for convolutions). Weights are truncated normal at +-2 sd (flax's
``variance_scaling``, rescaled to the stated variance), biases zero, sigma_w^2 = 2 (readout: 1):

    sp          every layer   W ~ N(0, sigma_w^2 / fan_in)
    mup         input/hidden  W ~ N(0, sigma_w^2 / fan_out), layer output x sqrt(fan_out / fan_in)
                output        W ~ N(0, 1 / fan_in),          layer output x sqrt(1 / fan_in)
    simple_mup  mup's initialisation and multipliers without mup's Adam LR multipliers

The multipliers scale the whole layer output, bias included, as the authors' muLinear, muConv and
muReadout do; they are forward hooks, so the models and their state_dicts are unchanged. With SGD
these make the LR width-independent. For Adam-family optimizers mup adds per-layer LR multipliers
(param-group ``lr_scale``) so that every layer's update is width-independent at init, as in
Tensor Programs V, Table 3, written for these forward multipliers:

    input 1 / sqrt(fan_out)      hidden 1 / sqrt(fan_in * fan_out)      output 1 / sqrt(fan_in)

PAPERS.md transcribes the paper as input 1/sqrt(fan_out), hidden 1/sqrt(fan_in), output 1/fan_in:
those hidden and output rules are swapped relative to the rules above (for square hidden layers
1/sqrt(fan_in * fan_out) = 1/fan_in); read literally, hidden updates would grow as sqrt(width)
and readout updates shrink as 1/sqrt(width). ``init.base_width`` (the model's ``width`` for fcn,
``widen`` for wrn16_4) divides each multiplier by its value at that width, so the Adam LR means
the same at the base width as without mup (Microsoft mup's base shapes); unset, they are absolute.

Other details: the authors' muConv computes fan_in from the input activation (H x W x C); here a
convolution's fans are those of its kernel. Norm-layer affine parameters keep their defaults and
an unscaled LR. Their FCN data pipeline also divides mup inputs by sqrt(input size); the data
group owns inputs, so that is not done here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from lrstudy.data.spec import DataSpec
from lrstudy.errors import ConfigError
from lrstudy.init.control import adam_family

PARAMETERIZATIONS = ("default", "sp", "mup", "simple_mup")
# models with a rule, and the config key init.base_width refers to
WIDTH_KEYS = {"fcn": "width", "wrn16_4": "widen"}
SIGMA_W2 = 2.0
READOUT_SIGMA_W2 = 1.0
TRUNCATED_SD = 0.87962566103423978  # sd of a unit normal truncated to [-2, 2]


@dataclass(frozen=True)
class Layer:
    module: nn.Linear | nn.Conv2d
    role: str  # input | hidden | output
    fan_in: int
    fan_out: int


class OutputScale:
    """Forward hook multiplying a layer's output by a constant (the mup multiplier)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __call__(self, module: nn.Module, args: Any, output: Tensor) -> Tensor:
        return output * self.factor


def weight_layers(model: nn.Module) -> list[Layer]:
    """Linear and Conv2d layers in registration order: for fcn and wrn16_4 the first reads the
    input and the last is the readout."""
    modules = [m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)]
    layers = []
    for index, module in enumerate(modules):
        receptive = module.weight[0, 0].numel()
        role = "input" if index == 0 else "output" if index == len(modules) - 1 else "hidden"
        layers.append(Layer(module, role, module.weight.shape[1] * receptive,
                            module.weight.shape[0] * receptive))
    return layers


def init_rule(kind: str, layer: Layer) -> tuple[float, float]:
    """(weight sd, output multiplier) of a layer under parameterisation ``kind``."""
    if kind == "sp":
        sigma2 = READOUT_SIGMA_W2 if layer.role == "output" else SIGMA_W2
        return math.sqrt(sigma2 / layer.fan_in), 1.0
    if layer.role == "output":
        return math.sqrt(READOUT_SIGMA_W2 / layer.fan_in), math.sqrt(1 / layer.fan_in)
    return math.sqrt(SIGMA_W2 / layer.fan_out), math.sqrt(layer.fan_out / layer.fan_in)


def adam_lr_rule(layer: Layer) -> float:
    """mup's per-layer Adam LR multiplier (absolute)."""
    if layer.role == "input":
        return 1 / math.sqrt(layer.fan_out)
    if layer.role == "output":
        return 1 / math.sqrt(layer.fan_in)
    return 1 / math.sqrt(layer.fan_in * layer.fan_out)


def check_parameterization(init_cfg: Mapping[str, Any], model_cfg: Mapping[str, Any]) -> None:
    kind, base = init_cfg["parameterization"], init_cfg["base_width"]
    if kind not in PARAMETERIZATIONS:
        raise ConfigError(f"init.parameterization={kind!r} must be one of "
                          f"{list(PARAMETERIZATIONS)}")
    if kind != "default" and model_cfg["name"] not in WIDTH_KEYS:
        raise ConfigError(f"init.parameterization={kind} has no rule for model="
                          f"{model_cfg['name']}; models with one: {', '.join(WIDTH_KEYS)}")
    if base is not None and (kind != "mup" or base < 1):
        raise ConfigError(f"init.base_width={base} needs init.parameterization=mup and a "
                          "value >= 1")


@torch.no_grad()
def apply_parameterization(model: nn.Module, model_cfg: Mapping[str, Any],
                           init_cfg: Mapping[str, Any]) -> None:
    """Re-initialise the weights and add the forward multipliers (``default``: leave the model's
    own initialisation). Draws from the global torch RNG, like the model's own init."""
    check_parameterization(init_cfg, model_cfg)
    kind = init_cfg["parameterization"]
    if kind == "default":
        return
    for layer in weight_layers(model):
        sd, multiplier = init_rule(kind, layer)
        bound = 2 * sd / TRUNCATED_SD
        nn.init.trunc_normal_(layer.module.weight, 0.0, sd / TRUNCATED_SD, -bound, bound)
        if layer.module.bias is not None:
            nn.init.zeros_(layer.module.bias)
        if multiplier != 1.0:
            layer.module.register_forward_hook(OutputScale(multiplier))


def _base_rules(model_cfg: Mapping[str, Any], base_width: int, spec: DataSpec) -> list[float]:
    from lrstudy.models import build_model

    base_cfg = model_cfg.copy()
    base_cfg[WIDTH_KEYS[model_cfg["name"]]] = base_width
    with torch.random.fork_rng(devices=[]):  # the run's RNG stream stays as without base_width
        base = build_model(base_cfg, spec)
    return [adam_lr_rule(layer) for layer in weight_layers(base)]


def param_groups(model: nn.Module, model_cfg: Mapping[str, Any], init_cfg: Mapping[str, Any],
                 optimizer_cfg: Mapping[str, Any], spec: DataSpec) -> list[dict[str, Any]]:
    """The optimizer's param groups: one group, or (mup with an Adam-family optimizer) one group
    per weight layer with its ``lr_scale`` plus one unscaled group for the rest."""
    params = [p for p in model.parameters() if p.requires_grad]
    if init_cfg["parameterization"] != "mup" or not adam_family(optimizer_cfg):
        return [{"params": params}]
    layers = weight_layers(model)
    scales = [adam_lr_rule(layer) for layer in layers]
    if init_cfg["base_width"] is not None:
        base = _base_rules(model_cfg, init_cfg["base_width"], spec)
        scales = [scale / b for scale, b in zip(scales, base, strict=True)]
    groups = [{"params": [p for p in layer.module.parameters() if p.requires_grad],
               "lr_scale": scale} for layer, scale in zip(layers, scales, strict=True)]
    grouped = {id(p) for group in groups for p in group["params"]}
    rest = [p for p in params if id(p) not in grouped]
    return groups + ([{"params": rest}] if rest else [])
