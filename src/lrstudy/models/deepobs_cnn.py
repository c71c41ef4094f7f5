"""The DeepOBS image classifiers 2c2d, 3c3d and All-CNN-C, as in the TF1 originals
(deepobs/tensorflow/testproblems/_2c2d.py, _3c3d.py, cifar100_allcnnc.py) with the
initialisation of DeepOBS' PyTorch port (testproblems_modules.py).

The flattened size is computed from the dataset's image size and the input channels and classes
come from the data, so each net takes any image set large enough for its valid convolutions.
Weight decay (DeepOBS: L2 on the weights only) is the optimizer's business, not the model's.
"""

from __future__ import annotations

from collections import OrderedDict

from omegaconf import DictConfig
from torch import nn

from lrstudy.data.spec import DataSpec
from lrstudy.models import checks
from lrstudy.models.tf_layers import SameConv2d, SameMaxPool2d, same_out, valid_out


class CNN2c2d(nn.Sequential):
    """conv(32,5)-pool-conv(64,5)-pool-fc(1024)-fc(classes), ReLU, TF 'same' padding.

    Init: truncated normal (std 0.05, cut at 2 std) weights, biases 0.05.
    """

    task = "classification"

    def __init__(self, in_channels: int, size: tuple[int, int], num_classes: int) -> None:
        h, w = (same_out(same_out(s, 2), 2) for s in size)
        super().__init__(OrderedDict([
            ("conv1", SameConv2d(in_channels, 32, 5)), ("relu1", nn.ReLU()),
            ("pool1", SameMaxPool2d(2, 2)),
            ("conv2", SameConv2d(32, 64, 5)), ("relu2", nn.ReLU()),
            ("pool2", SameMaxPool2d(2, 2)),
            ("flatten", nn.Flatten()),
            ("dense1", nn.Linear(64 * h * w, 1024)), ("relu3", nn.ReLU()),
            ("dense2", nn.Linear(1024, num_classes)),
        ]))
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(module.weight, std=0.05, a=-0.1, b=0.1)
                nn.init.constant_(module.bias, 0.05)


class CNN3c3d(nn.Sequential):
    """conv(64,5,valid)-pool-conv(96,3,valid)-pool-conv(128,3,same)-pool-fc(512)-fc(256)-fc.

    Pools are 3x3 stride 2 'same'. Init: Xavier-normal convs, Xavier-uniform dense, zero biases.
    """

    task = "classification"

    def __init__(self, in_channels: int, size: tuple[int, int], num_classes: int) -> None:
        h, w = (same_out(same_out(valid_out(same_out(valid_out(s, 5), 2), 3), 2), 2)
                for s in size)
        super().__init__(OrderedDict([
            ("conv1", nn.Conv2d(in_channels, 64, 5)), ("relu1", nn.ReLU()),
            ("pool1", SameMaxPool2d(3, 2)),
            ("conv2", nn.Conv2d(64, 96, 3)), ("relu2", nn.ReLU()),
            ("pool2", SameMaxPool2d(3, 2)),
            ("conv3", SameConv2d(96, 128, 3)), ("relu3", nn.ReLU()),
            ("pool3", SameMaxPool2d(3, 2)),
            ("flatten", nn.Flatten()),
            ("dense1", nn.Linear(128 * h * w, 512)), ("relu4", nn.ReLU()),
            ("dense2", nn.Linear(512, 256)), ("relu5", nn.ReLU()),
            ("dense3", nn.Linear(256, num_classes)),
        ]))
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.xavier_normal_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)


class AllCNNC(nn.Sequential):
    """All-CNN-C (Springenberg et al. 2015): nine ReLU convs, strided convs instead of pooling,
    spatial mean of the last (class-channel) conv as logits.

    Dropout ``input_dropout`` on the image and ``dropout`` after each strided conv (DeepOBS: 0.2
    and 0.5). Init: Xavier-normal weights, biases 0.1.
    """

    task = "classification"

    def __init__(self, in_channels: int, num_classes: int, input_dropout: float,
                 dropout: float) -> None:
        def conv(name: str, c_in: int, c_out: int, k: int, stride: int = 1,
                 same: bool = True) -> list[tuple[str, nn.Module]]:
            layer = SameConv2d(c_in, c_out, k, stride) if same else nn.Conv2d(c_in, c_out, k)
            return [(f"conv{name}", layer), (f"relu{name}", nn.ReLU())]

        super().__init__(OrderedDict([
            ("dropout1", nn.Dropout(input_dropout)),
            *conv("1", in_channels, 96, 3), *conv("2", 96, 96, 3), *conv("3", 96, 96, 3, 2),
            ("dropout2", nn.Dropout(dropout)),
            *conv("4", 96, 192, 3), *conv("5", 192, 192, 3), *conv("6", 192, 192, 3, 2),
            ("dropout3", nn.Dropout(dropout)),
            *conv("7", 192, 192, 3, same=False), *conv("8", 192, 192, 1),
            *conv("9", 192, num_classes, 1),
            ("mean", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
        ]))
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.xavier_normal_(module.weight)
                nn.init.constant_(module.bias, 0.1)


def build_2c2d(cfg: DictConfig, spec: DataSpec) -> CNN2c2d:
    c, h, w = checks.image(cfg.name, spec)
    return CNN2c2d(c, (h, w), checks.classes(cfg.name, spec))


def build_3c3d(cfg: DictConfig, spec: DataSpec) -> CNN3c3d:
    c, h, w = checks.image(cfg.name, spec, min_size=9)  # smallest size its valid convs allow
    return CNN3c3d(c, (h, w), checks.classes(cfg.name, spec))


def build_allcnnc(cfg: DictConfig, spec: DataSpec) -> AllCNNC:
    c, _, _ = checks.image(cfg.name, spec, min_size=9)  # conv7 (valid 3x3) needs 3x3 at 1/4
    return AllCNNC(c, checks.classes(cfg.name, spec), cfg.input_dropout, cfg.dropout)
