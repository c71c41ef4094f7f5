"""DeepOBS char-RNN (tolstoi_char_rnn), as in the TF1 original.

Embedding of ``hidden`` units, ``layers`` LSTM cells of ``hidden`` units, each wrapped in
TF's ``DropoutWrapper`` (dropout on the cell's input and on its output, training only), and a
softmax layer. The state is returned so that the engine can carry it, detached, across
consecutive batches (truncated BPTT over contiguous streams) and reset it to None at each epoch
and evaluation start.

DeepOBS' PyTorch port uses ``nn.LSTM(dropout=0.2)`` (dropout between layers only) and PyTorch's
default init (marked TODO there); this module follows the TF original instead.
"""

from __future__ import annotations

import math

import torch
from omegaconf import DictConfig
from torch import nn

from lrstudy.data.spec import DataSpec
from lrstudy.errors import ConfigError
from lrstudy.models import checks

State = tuple[torch.Tensor, torch.Tensor]


def _glorot_uniform_(tensor: torch.Tensor, fan_in: int, fan_out: int) -> None:
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    nn.init.uniform_(tensor, -bound, bound)


class CharRNN(nn.Module):
    """forward(x (B, L) ids, state) -> (logits (B, L, vocab), (h, c) each (layers, B, hidden)).

    Init as TF1: Glorot-uniform everywhere (the LSTM kernel over its combined
    [input + hidden, 4 hidden] shape, the softmax bias as a 1-D variable with fan = vocab), zero
    LSTM biases plus TF's ``forget_bias=1`` folded into the forget-gate bias. PyTorch's LSTM holds
    two bias vectors per layer (``bias_hh`` stays zero), 4 * hidden parameters more per layer
    than TF.
    """

    task = "char_lm"

    def __init__(self, vocab: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden)
        self.lstms = nn.ModuleList(nn.LSTM(hidden, hidden, batch_first=True)
                                   for _ in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(hidden, vocab)
        _glorot_uniform_(self.embedding.weight, vocab, hidden)
        for lstm in self.lstms:
            for weight in (lstm.weight_ih_l0, lstm.weight_hh_l0):
                _glorot_uniform_(weight, 2 * hidden, 4 * hidden)
            nn.init.zeros_(lstm.bias_hh_l0)
            nn.init.zeros_(lstm.bias_ih_l0)
            nn.init.ones_(lstm.bias_ih_l0[hidden:2 * hidden])  # gates i, f, g, o
        _glorot_uniform_(self.dense.weight, hidden, vocab)
        _glorot_uniform_(self.dense.bias, vocab, vocab)

    def forward(self, x: torch.Tensor, state: State | None = None
                ) -> tuple[torch.Tensor, State]:
        h = self.embedding(x)
        last_h, last_c = [], []
        for i, lstm in enumerate(self.lstms):
            layer_state = None if state is None else (state[0][i:i + 1], state[1][i:i + 1])
            h, (h_n, c_n) = lstm(self.dropout(h), layer_state)
            h = self.dropout(h)
            last_h.append(h_n)
            last_c.append(c_n)
        return self.dense(h), (torch.cat(last_h), torch.cat(last_c))


def build_char_rnn(cfg: DictConfig, spec: DataSpec) -> CharRNN:
    if spec.kind != "tokens" or len(spec.shape) != 1 or spec.num_classes < 2:
        checks.mismatch(cfg.name, "token sequences with a vocabulary", spec)
    if cfg.hidden < 1 or cfg.layers < 1:
        raise ConfigError(f"model={cfg.name} needs hidden >= 1 and layers >= 1, "
                          f"got hidden={cfg.hidden} layers={cfg.layers}")
    return CharRNN(spec.num_classes, cfg.hidden, cfg.layers, cfg.dropout)
