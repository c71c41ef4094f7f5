"""Uniform random search (log-uniform on log dimensions): the baseline every searcher must beat."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lrstudy.bandits.base import Reward
from lrstudy.bandits.space import Point, SearchSpace


class RandomSearch:
    def __init__(self, space: SearchSpace, budget: int, seed: int = 0) -> None:
        self.space, self.budget, self.seed = space, budget, seed
        self.told = 0

    def ask(self, n: int) -> list[Point]:
        """Point k of the sweep depends only on (seed, k), so a resumed sweep repeats it."""
        points = []
        for k in range(self.told, self.told + n):
            rng = np.random.default_rng([self.seed, k])
            combo = tuple(int(rng.integers(len(c.values))) for c in self.space.choices)
            points.append((combo, tuple(float(u) for u in rng.random(self.space.dim))))
        return points

    def tell(self, results: Sequence[tuple[Point, Reward]]) -> None:
        self.told += len(results)

    def state_dict(self) -> dict[str, Any]:
        return {"told": self.told}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.told = int(state["told"])
