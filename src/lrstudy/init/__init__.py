"""The ``init`` group: how a run starts.

- warmup (``none``, ``linear_warmup``): linear warmup wrapped around any schedule;
- ``catapult``: the initial LR chosen by the loss-catapult search (Kalra & Barkeshli, Alg. 1-2);
- ``persistent_catapult``: an adaptive warmup that searches again as the loss falls (Alg. 3);
- ``init.parameterization``: sp, mup or simple_mup initialisation, forward multipliers and
  mup's Adam per-layer LR multipliers (``default`` keeps the model's own initialisation).

The engine gets the LR from :func:`build_lr_control`; :func:`build_lr_schedule` gives the pure
LR function of the options that have one.
"""

from lrstudy.init.catapult import CatapultProbe, SearchResult, search_eta_c
from lrstudy.init.control import LRControl, build_lr_control
from lrstudy.init.param import apply_parameterization, check_parameterization, param_groups
from lrstudy.init.warmup import LinearWarmup, build_lr_schedule, warmup_steps

__all__ = [
    "CatapultProbe",
    "LRControl",
    "LinearWarmup",
    "SearchResult",
    "apply_parameterization",
    "build_lr_control",
    "build_lr_schedule",
    "check_parameterization",
    "param_groups",
    "search_eta_c",
    "warmup_steps",
]
