"""TensorFlow's ``padding="same"`` for the DeepOBS models, whose reference is the TF1 code.

TF pads ``(out - 1) * stride + kernel - size`` in total with the odd pixel at the bottom/right,
so a strided 'same' layer is not PyTorch's symmetric ``padding=k // 2``. The pads are computed
from the input size at each call, which keeps the layers valid for any image size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of TF 'same' along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def same_out(size: int, stride: int) -> int:
    """Output length of a TF 'same' layer."""
    return -(-size // stride)


def valid_out(size: int, kernel: int) -> int:
    """Output length of an unpadded stride-1 layer."""
    return size - kernel + 1


def _pads_2d(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int]
             ) -> tuple[int, int, int, int]:
    top, bottom = same_pads(x.shape[-2], kernel[0], stride[0])
    left, right = same_pads(x.shape[-1], kernel[1], stride[1])
    return left, right, top, bottom


class SameConv2d(nn.Conv2d):
    """``Conv2d`` with TF 'same' padding."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, bias=bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, padding=same"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right, top, bottom = _pads_2d(x, self.kernel_size, self.stride)
        if left == right and top == bottom:  # symmetric: let the conv pad, no extra copy
            return F.conv2d(x, self.weight, self.bias, self.stride, (top, left))
        return F.conv2d(F.pad(x, (left, right, top, bottom)), self.weight, self.bias, self.stride)


class SameMaxPool2d(nn.Module):
    """Max-pooling with TF 'same' padding (padded cells never win: they hold -inf)."""

    def __init__(self, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.kernel_size = (kernel_size, kernel_size)
        self.stride = (stride, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = _pads_2d(x, self.kernel_size, self.stride)
        if any(pads):
            x = F.pad(x, pads, value=float("-inf"))
        return F.max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding=same"


class SameConvTranspose2d(nn.ConvTranspose2d):
    """``ConvTranspose2d`` as TF's ``conv2d_transpose(padding="same")``: output = input * stride.

    TF defines it as the gradient of a 'same' conv2d, so the full transposed convolution is
    cropped by that conv's padding: ``(k - s) // 2`` before, the rest after (tests check the
    adjoint identity).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1) -> None:
        if kernel_size < stride:
            raise ValueError("TF 'same' transposed convolution needs kernel_size >= stride")
        super().__init__(in_channels, out_channels, kernel_size, stride=stride)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, padding=same"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = F.conv_transpose2d(x, self.weight, self.bias, self.stride)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        top, left = (kh - sh) // 2, (kw - sw) // 2
        return full[..., top:top + x.shape[-2] * sh, left:left + x.shape[-1] * sw]
