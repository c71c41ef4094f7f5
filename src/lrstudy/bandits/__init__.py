"""LR search as a bandit problem (paper 3): zooming, BLiE, TPE and random search as ask/tell
searchers over a :class:`SearchSpace`, testable without Hydra. The Hydra sweepers in
``hydra_plugins.lrstudy_sweepers`` drive them."""

from __future__ import annotations

from typing import Any

from lrstudy.bandits.base import Reward, Searcher, normalise
from lrstudy.bandits.blie import BLiE
from lrstudy.bandits.random_search import RandomSearch
from lrstudy.bandits.space import Choice, Interval, Point, SearchSpace
from lrstudy.bandits.tpe import TPE
from lrstudy.bandits.zooming import Zooming

SEARCHERS = {"zooming": Zooming, "blie": BLiE, "hyperopt": TPE, "random": RandomSearch}

__all__ = ["SEARCHERS", "TPE", "BLiE", "Choice", "Interval", "Point", "RandomSearch", "Reward",
           "SearchSpace", "Searcher", "Zooming", "make_searcher", "normalise"]


def make_searcher(name: str, space: SearchSpace, budget: int, seed: int,
                  **constants: Any) -> Searcher:
    """A searcher by name with its algorithm constants."""
    if name not in SEARCHERS:
        raise ValueError(f"unknown searcher {name!r}; one of {sorted(SEARCHERS)}")
    return SEARCHERS[name](space, budget, seed=seed, **constants)
