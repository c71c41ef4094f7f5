"""GI-Adam and its RI-Adam control (Kalra & Barkeshli, PAPERS.md 4.6).

Both are torch's Adam with a different second-moment start; the update, its bias correction and
torch's kernels run unchanged. v_0 is set from the gradient of the first step (the first
mini-batch at theta_0), so no extra forward/backward pass is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


class GIAdam(torch.optim.Adam):
    """Adam with v_0 = g_0^2 and Adam's bias correction kept.

    With stationary gradients v_t stays at g^2, so dividing by (1 - beta2^t) shrinks the step to
    Adam's times sqrt(1 - beta2^t): an automatic warmup.
    """

    def initial_second_moment(self, grad: torch.Tensor) -> torch.Tensor:
        return grad.square()

    def _init_group(self, group: dict[str, Any], *args: Any) -> bool:
        fresh = [p for p in group["params"] if p.grad is not None and not self.state[p]]
        has_complex = super()._init_group(group, *args)
        for p in fresh:
            self.state[p]["exp_avg_sq"].copy_(self.initial_second_moment(p.grad))
        return has_complex


class RIAdam(GIAdam):
    """The control: v_0 random with the norm of g_0^2, per parameter tensor.

    v_0 = |z| ||g_0^2|| / ||z||, z ~ N(0, I) from a generator seeded with ``v0_seed`` (not the
    global RNG, so data order and dropout stay as in the other runs). The paper's "random Gaussian
    vector" is taken in absolute value: a second moment must not be negative.
    """

    def __init__(self, params: Iterable[Any], v0_seed: int = 0, **kwargs: Any) -> None:
        super().__init__(params, **kwargs)
        self.generator = torch.Generator().manual_seed(v0_seed)

    def __getstate__(self) -> dict[str, Any]:
        """torch's Optimizer pickles only defaults, state and param groups; copies (the
        preconditioned-sharpness probe, the catapult search) need the generator too."""
        return {**super().__getstate__(), "generator_state": self.generator.get_state()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Also reached from load_state_dict, which passes no generator: keep ours then."""
        generator_state = state.pop("generator_state", None)
        super().__setstate__(state)
        if generator_state is not None:
            self.generator = torch.Generator()
            self.generator.set_state(generator_state)

    def initial_second_moment(self, grad: torch.Tensor) -> torch.Tensor:
        z = torch.randn(grad.shape, generator=self.generator, dtype=grad.dtype).abs()
        return z.to(grad.device) * (grad.square().norm() / z.norm())
