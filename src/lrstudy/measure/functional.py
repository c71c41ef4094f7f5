"""The loss at parameters other than the module's own: the core of the sharpness measurements and
of the catapult search (``lrstudy.init.catapult``).

Convention for ``loss_fn(model, batch) -> scalar tensor``: ``model`` is a callable with the
module's call signature that runs the module at the parameters under study
(``torch.func.functional_call``); ``loss_fn`` must call it rather than read the module's own
parameters. The module runs in its current train/eval mode with copies of its buffers (BatchNorm
statistics are never updated) and with the RNG frozen at a fixed seed, so dropout masks are the
same at every call: the loss is then a deterministic function of the parameters, and the caller's
RNG stream (hence the training run) is untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad

LossFn = Callable[[Callable[..., Any], Any], Tensor]


@contextlib.contextmanager
def frozen_rng(device: torch.device, seed: int) -> Iterator[None]:
    """Run a block with the global RNG seeded to ``seed`` and restore the previous state after."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def trainable(module: nn.Module) -> dict[str, Tensor]:
    """The parameters an optimizer moves, by name."""
    return {name: p for name, p in module.named_parameters() if p.requires_grad}


def loss_at(module: nn.Module, params: Mapping[str, Tensor], loss_fn: LossFn, batch: Any,
            buffers: Mapping[str, Tensor] | None = None, seed: int = 0) -> Tensor:
    """``loss_fn`` on ``batch`` with the module's parameters replaced by ``params``.

    Buffers are cloned here, inside any torch.func transform that calls this, so a train-mode
    BatchNorm may update its copies without touching the module.
    """
    source = dict(module.named_buffers()) if buffers is None else buffers
    state = {**params, **{name: b.clone() for name, b in source.items()}}

    def forward(*args: Any, **kwargs: Any) -> Any:
        return functional_call(module, state, args, kwargs)

    device = next(iter(params.values())).device
    with frozen_rng(device, seed):
        return loss_fn(forward, batch)


def cast_batch(batch: Any, dtype: torch.dtype) -> Any:
    """Floating tensors of a (nested tuple/list/dict) batch in ``dtype``; labels stay as is."""
    if isinstance(batch, Tensor):
        return batch.to(dtype) if batch.is_floating_point() else batch
    if isinstance(batch, list | tuple):
        return type(batch)(cast_batch(b, dtype) for b in batch)
    if isinstance(batch, dict):
        return {k: cast_batch(v, dtype) for k, v in batch.items()}
    return batch


def detached_state(module: nn.Module, dtype: torch.dtype
                   ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """(trainable parameters, buffers) as detached tensors in ``dtype`` (floating buffers only);
    converting to another dtype copies, so the module is never touched."""
    params = {n: p.detach().to(dtype) for n, p in trainable(module).items()}
    buffers = {n: b.detach().to(dtype) if b.is_floating_point() else b.detach()
               for n, b in module.named_buffers()}
    return params, buffers


def mean_loss_gradient(module: nn.Module, loss_fn: LossFn, batches: list[Any],
                       dtype: torch.dtype = torch.float64) -> dict[str, Tensor]:
    """Gradient of the mean loss over ``batches`` (each batch weighted equally), in ``dtype``."""
    params, buffers = detached_state(module, dtype)
    total = {n: torch.zeros_like(p) for n, p in params.items()}
    for index, batch in enumerate(batches):
        cast = cast_batch(batch, dtype)
        g = grad(lambda p, b=cast, i=index: loss_at(module, p, loss_fn, b, buffers, seed=i))(params)
        for name in total:
            total[name] += g[name]
    return {n: t / len(batches) for n, t in total.items()}
