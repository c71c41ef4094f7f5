"""The zooming algorithm (Kleinberg, Slivkins & Upfal 2008; Slivkins' book, ch. 4), batched.

Each round: while a point of the space is not covered by the confidence ball of an active arm,
activate the point deepest in the uncovered region (the middle of the largest gap in 1-D) and
play it; otherwise play the active arm with the largest index ``mu + 2 r``. The radius is
``r(n) = radius_scale * sqrt(2 log T / (n + 1))`` in normalised reward units and the ball is
``{y : lipschitz * |x - y|_inf <= r}`` in unit coordinates. In a batch, an arm already chosen
counts as pulled once more (so the batch spreads out) and is not chosen twice; with
``batch_size=1`` this is the textbook algorithm.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lrstudy.bandits.base import Reward, normalise, point_from_json, point_to_json
from lrstudy.bandits.space import Point, SearchSpace


class Zooming:
    def __init__(self, space: SearchSpace, budget: int, seed: int = 0,
                 radius_scale: float = 0.1, lipschitz: float = 3.0,
                 reward_range: Sequence[float] | None = None, n_candidates: int = 4096) -> None:
        self.space, self.budget = space, budget
        self.radius_scale, self.lipschitz = radius_scale, lipschitz
        self.reward_range = reward_range
        self.arms: list[Point] = []                       # in activation order
        self.history: list[tuple[int, Reward]] = []       # (arm index, reward)
        self._candidates = _candidate_set(space.dim, seed, n_candidates)

    def radius(self, pulls: int) -> float:
        """Confidence radius after ``pulls`` pulls (horizon T = the budget)."""
        return self.radius_scale * math.sqrt(2 * math.log(max(self.budget, 2)) / (pulls + 1))

    def stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Pull counts and mean normalised rewards of the active arms."""
        counts = np.zeros(len(self.arms))
        sums = np.zeros(len(self.arms))
        rewards = normalise([r for _, r in self.history], self.reward_range)
        for (arm, _), reward in zip(self.history, rewards, strict=True):
            counts[arm] += 1
            sums[arm] += reward
        return counts, np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)

    def index(self, counts: np.ndarray, means: np.ndarray) -> np.ndarray:
        radii = np.array([self.radius(int(n)) for n in counts])
        return np.where(counts > 0, means + 2 * radii, np.inf)

    def _uncovered(self, counts: np.ndarray) -> Point | None:
        """The candidate deepest outside every confidence ball, or None when all are covered."""
        best, best_margin = None, 0.0
        for combo in self.space.combos():
            members = [i for i, arm in enumerate(self.arms) if arm[0] == combo]
            if not members:
                return combo, tuple(float(u) for u in self._candidates[0])
            centres = np.array([self.arms[i][1] for i in members]).reshape(len(members), -1)
            reach = np.array([self.radius(int(counts[i])) for i in members]) / self.lipschitz
            dist = np.abs(self._candidates[:, None, :] - centres[None, :, :])
            dist = dist.max(axis=2) if self.space.dim else np.zeros(dist.shape[:2])
            margin = (dist - reach[None, :]).min(axis=1)
            k = int(np.argmax(margin))
            if margin[k] > best_margin:
                best, best_margin = (combo, tuple(float(u) for u in self._candidates[k])), margin[k]
        return best

    def ask(self, n: int) -> list[Point]:
        counts, means = self.stats()
        index = self.index(counts, means)
        chosen: list[int] = []
        for _ in range(n):
            pending = counts.copy()
            for i in chosen:
                pending[i] += 1
            point = self._uncovered(pending)
            if point is not None:
                self.arms.append(point)
                counts, index = np.append(counts, 0), np.append(index, np.inf)
                chosen.append(len(self.arms) - 1)
                continue
            free = [i for i in range(len(self.arms)) if i not in chosen]
            if not free:
                break
            chosen.append(min(free, key=lambda i: (-index[i], i)))
        return [self.arms[i] for i in chosen]

    def tell(self, results: Sequence[tuple[Point, Reward]]) -> None:
        for point, reward in results:
            self.history.append((self.arms.index(point), reward))

    def state_dict(self) -> dict[str, Any]:
        return {"arms": [point_to_json(a) for a in self.arms],
                "history": [[arm, reward] for arm, reward in self.history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.arms = [point_from_json(a) for a in state["arms"]]
        self.history = [(int(arm), reward) for arm, reward in state["history"]]


def _candidate_set(dim: int, seed: int, n: int) -> np.ndarray:
    """Points tested for coverage, the centre first: a fine grid in 1-D, else the centre, the
    corners (up to 4-D) and seeded uniform points."""
    if dim == 0:
        return np.zeros((1, 0))
    if dim == 1:
        return np.concatenate([[0.5], np.linspace(0.0, 1.0, 2049)])[:, None]
    corners = np.array(list(itertools.product((0.0, 1.0), repeat=min(dim, 4) if dim <= 4 else 0)))
    uniform = np.random.default_rng(seed).random((n, dim))
    return np.concatenate([np.full((1, dim), 0.5), corners.reshape(-1, dim), uniform])
