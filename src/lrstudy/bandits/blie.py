"""Batched Lipschitz elimination (BLiE; Feng, Luo, Huang & Wang 2023, after BLiN).

Stage m splits every surviving cube into 2^d cubes of edge 2^-m (unit coordinates; each choice
combination is its own cube), plays each ``n_m = max(1, ceil(pulls_scale / (L * edge)^2))``
times (the centre first, then seeded uniform points in the cube), and eliminates the cubes whose
mean normalised reward is more than ``eta * L * edge`` below the best cube's. The published
constants do not fit budgets of tens of evaluations, so ``pulls_scale`` and ``eta`` are
configurable; a stage may span several launcher batches.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lrstudy.bandits.base import Reward, normalise, point_from_json, point_to_json
from lrstudy.bandits.space import Point, SearchSpace

Cube = tuple[tuple[int, ...], tuple[float, ...]]   # (choice combo, lower corner)


class BLiE:
    def __init__(self, space: SearchSpace, budget: int, seed: int = 0, lipschitz: float = 3.0,
                 eta: float = 1.0, pulls_scale: float = 1.0,
                 reward_range: Sequence[float] | None = None) -> None:
        self.space, self.budget, self.seed = space, budget, seed
        self.lipschitz, self.eta, self.pulls_scale = lipschitz, eta, pulls_scale
        self.reward_range = reward_range
        self.history: list[tuple[Point, Reward]] = []
        self.stage = 0
        self.cubes: list[Cube] = [(combo, (0.0,) * space.dim) for combo in space.combos()]
        self.queue = self._schedule()
        self.stage_pulls: list[tuple[int, int]] = []     # (cube, history index) of this stage
        self._issued: dict[Point, int] = {}

    @property
    def edge(self) -> float:
        return 2.0 ** -self.stage

    def pulls_per_cube(self) -> int:
        return max(1, math.ceil(self.pulls_scale / (self.lipschitz * self.edge) ** 2))

    def _schedule(self) -> list[tuple[int, int]]:
        return [(cube, j) for j in range(self.pulls_per_cube()) for cube in range(len(self.cubes))]

    def _point(self, cube: int, j: int) -> Point:
        combo, corner = self.cubes[cube]
        if j == 0:
            offset = np.full(self.space.dim, 0.5)
        else:
            offset = np.random.default_rng([self.seed, self.stage, cube, j]).random(self.space.dim)
        return combo, tuple(float(c + self.edge * o) for c, o in zip(corner, offset, strict=True))

    def ask(self, n: int) -> list[Point]:
        points = []
        for cube, j in self.queue[:n]:
            point = self._point(cube, j)
            self._issued[point] = cube
            points.append(point)
        self.queue = self.queue[len(points):]
        return points

    def tell(self, results: Sequence[tuple[Point, Reward]]) -> None:
        for point, reward in results:
            self.stage_pulls.append((self._issued.pop(point), len(self.history)))
            self.history.append((point, reward))
        if not self.queue and not self._issued:
            self._advance()

    def _advance(self) -> None:
        """Eliminate cubes far below the best mean, split the survivors, schedule the stage."""
        rewards = normalise([r for _, r in self.history], self.reward_range)
        sums, counts = np.zeros(len(self.cubes)), np.zeros(len(self.cubes))
        for cube, h in self.stage_pulls:
            sums[cube] += rewards[h]
            counts[cube] += 1
        means = sums / np.maximum(counts, 1)
        keep = means >= means.max() - self.eta * self.lipschitz * self.edge
        half = self.edge / 2
        offsets = list(itertools.product((0.0, half), repeat=self.space.dim))
        self.cubes = [(combo, tuple(c + o for c, o in zip(corner, off, strict=True)))
                      for (combo, corner), k in zip(self.cubes, keep, strict=True) if k
                      for off in offsets]
        self.stage += 1
        self.stage_pulls = []
        self.queue = self._schedule()

    def state_dict(self) -> dict[str, Any]:
        return {"stage": self.stage,
                "cubes": [point_to_json(c) for c in self.cubes],
                "queue": [list(q) for q in self.queue],
                "stage_pulls": [list(p) for p in self.stage_pulls],
                "history": [[point_to_json(p), r] for p, r in self.history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stage = int(state["stage"])
        self.cubes = [point_from_json(c) for c in state["cubes"]]
        self.queue = [(int(c), int(j)) for c, j in state["queue"]]
        self.stage_pulls = [(int(c), int(h)) for c, h in state["stage_pulls"]]
        self.history = [(point_from_json(p), r) for p, r in state["history"]]
        self._issued = {}
