"""What every searcher shares: the ask/tell protocol, JSON state and reward normalisation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

from lrstudy.bandits.space import Point, SearchSpace

# A reward is oriented so that larger is better; None marks a failed or diverged evaluation,
# which every searcher treats as the worst reward.
Reward = float | None


class Searcher(Protocol):
    """Asks for points, is told their rewards. ``ask`` is a pure function of the state and the
    seed, so a sweep resumed from :meth:`state_dict` proposes the same points again."""

    space: SearchSpace

    def ask(self, n: int) -> list[Point]: ...

    def tell(self, results: Sequence[tuple[Point, Reward]]) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def normalise(rewards: Sequence[Reward],
              reward_range: Sequence[float] | None = None) -> list[float]:
    """Rewards mapped to [0, 1] (failures to 0), by ``reward_range`` when given, else by the
    observed finite range. Zooming's confidence radius assumes rewards in [0, 1]; objectives such
    as a validation loss are not, so they are rescaled on every decision."""
    finite = [r for r in rewards if r is not None and math.isfinite(r)]
    if reward_range is not None:
        lo, hi = float(reward_range[0]), float(reward_range[1])
    elif finite:
        lo, hi = min(finite), max(finite)
    else:
        return [0.0 for _ in rewards]
    span = hi - lo
    out = []
    for r in rewards:
        if r is None or not math.isfinite(r):
            out.append(0.0)
        elif span <= 0:
            out.append(1.0)
        else:
            out.append(min(max((r - lo) / span, 0.0), 1.0))
    return out


def point_to_json(point: Point) -> list[list[float]]:
    return [list(point[0]), list(point[1])]


def point_from_json(data: Sequence[Sequence[float]]) -> Point:
    return tuple(int(i) for i in data[0]), tuple(float(u) for u in data[1])
