"""DeepOBS VAE for (Fashion-)MNIST, as the TF1 original (deepobs/tensorflow/testproblems/_vae.py).

Encoder: three 4x4 convs of 64 filters (strides 2, 2, 1, TF 'same'), leaky ReLU (0.3), dropout
after each, then dense heads for the latent mean and 0.5 x (dense) = log std. Decoder: dense 24
and 49 (leaky ReLU), reshape to 1x7x7, three 4x4 transposed convs of 64 filters (strides 2, 1, 1,
ReLU, dropout after the first two), dense 784 with sigmoid. Glorot-uniform weights, zero biases.
The loss (squared error summed over pixels + KL) is the engine's ``vae`` task.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import nn

from lrstudy.data.spec import DataSpec
from lrstudy.errors import ConfigError
from lrstudy.models import checks
from lrstudy.models.tf_layers import SameConv2d, SameConvTranspose2d


class VAE(nn.Module):
    """forward(x) -> (reconstruction in [0, 1], mean, log_std).

    z = mean + eps * exp(log_std) is sampled in train and eval mode alike (as DeepOBS); dropout
    acts in train mode only. Unlike DeepOBS' PyTorch port there is no dropout after the third
    transposed conv: the TF original has none.
    """

    task = "vae"

    def __init__(self, n_latent: int, dropout: float) -> None:
        super().__init__()
        self.conv1 = SameConv2d(1, 64, 4, stride=2)
        self.conv2 = SameConv2d(64, 64, 4, stride=2)
        self.conv3 = SameConv2d(64, 64, 4, stride=1)
        self.mean = nn.Linear(7 * 7 * 64, n_latent)
        self.log_std = nn.Linear(7 * 7 * 64, n_latent)
        self.dense1 = nn.Linear(n_latent, 24)
        self.dense2 = nn.Linear(24, 49)
        self.deconv1 = SameConvTranspose2d(1, 64, 4, stride=2)
        self.deconv2 = SameConvTranspose2d(64, 64, 4, stride=1)
        self.deconv3 = SameConvTranspose2d(64, 64, 4, stride=1)
        self.out = nn.Linear(14 * 14 * 64, 28 * 28)
        self.dropout = nn.Dropout(dropout)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for conv in (self.conv1, self.conv2, self.conv3):
            x = self.dropout(F.leaky_relu(conv(x), 0.3))
        x = x.flatten(1)
        return self.mean(x), 0.5 * self.log_std(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.dense1(z), 0.3)
        x = F.leaky_relu(self.dense2(x), 0.3).view(-1, 1, 7, 7)
        x = self.dropout(F.relu(self.deconv1(x)))
        x = self.dropout(F.relu(self.deconv2(x)))
        x = F.relu(self.deconv3(x))
        return torch.sigmoid(self.out(x.flatten(1))).view(-1, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, log_std = self.encode(x)
        z = mean + torch.randn_like(mean) * torch.exp(log_std)
        return self.decode(z), mean, log_std


def build_vae(cfg: DictConfig, spec: DataSpec) -> VAE:
    if spec.kind != "image" or tuple(spec.shape) != (1, 28, 28):
        checks.mismatch(cfg.name, "1x28x28 images", spec)
    if spec.normalized:
        raise ConfigError(f"model={cfg.name} reconstructs pixels in [0, 1]: set "
                          f"data.normalize=false for data={spec.name}")
    return VAE(cfg.n_latent, cfg.dropout)
