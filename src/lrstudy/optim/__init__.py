"""Optimizer zoo: the crowded-valley benchmark's 15 optimizers, plus adamw, gi_adam and ri_adam.

``build_optimizer(cfg, params)`` returns a torch optimizer whose param groups start at
``cfg.lr * lr_scale``; the engine overwrites each group's LR every step from the schedule, and
every optimizer here reads it afresh at each step.
"""

from lrstudy.optim.build import OPTIMIZERS, build_optimizer
from lrstudy.optim.explr import explr_alpha, rescale_weights
from lrstudy.optim.search import as_overrides, sample_search_space

__all__ = ["OPTIMIZERS", "as_overrides", "build_optimizer", "explr_alpha", "rescale_weights",
           "sample_search_space"]
