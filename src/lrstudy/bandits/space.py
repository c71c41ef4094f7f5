"""Search spaces for the bandit searchers: a box of continuous dimensions (linear or log
scale) times a finite set of discrete choices, independent of Hydra.

Searchers work in unit coordinates: every continuous dimension maps to [0, 1] (log dimensions
through their logarithm, so the metric is |log x - log y| scaled to the interval), and a point is
``(choice indices, unit coordinates)``. Different choice combinations are separate arm sets.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

Point = tuple[tuple[int, ...], tuple[float, ...]]


@dataclass(frozen=True)
class Interval:
    """A continuous dimension ``[low, high]``; ``log`` searches uniformly in log space."""

    key: str
    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"{self.key}: interval needs low < high, "
                             f"got ({self.low}, {self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"{self.key}: a log interval needs a positive lower bound, "
                             f"got {self.low}")

    def value(self, u: float) -> float:
        """The parameter value at unit coordinate ``u`` (clipped to the interval)."""
        u = min(max(u, 0.0), 1.0)
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            return min(max(math.exp(lo + u * (hi - lo)), self.low), self.high)
        return self.low + u * (self.high - self.low)

    def unit(self, value: float) -> float:
        """Inverse of :meth:`value`."""
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            return (math.log(value) - lo) / (hi - lo)
        return (value - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class Choice:
    """A discrete dimension: each value (an override string) is a separate set of arms."""

    key: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"{self.key}: a choice needs at least one value")


@dataclass(frozen=True)
class SearchSpace:
    intervals: tuple[Interval, ...] = ()
    choices: tuple[Choice, ...] = ()

    @property
    def dim(self) -> int:
        return len(self.intervals)

    def combos(self) -> list[tuple[int, ...]]:
        """Every combination of choice indices, in the order Hydra's grid would run them."""
        return list(itertools.product(*(range(len(c.values)) for c in self.choices)))

    def values(self, point: Point) -> list[tuple[str, float | str]]:
        """(override key, value) of a point: floats for intervals, strings for choices."""
        combo, unit = point
        out: list[tuple[str, float | str]] = [
            (c.key, c.values[i]) for c, i in zip(self.choices, combo, strict=True)]
        out += [(d.key, float(f"{d.value(u):.8g}"))
                for d, u in zip(self.intervals, unit, strict=True)]
        return out

    def params(self, point: Point) -> dict[str, float | str]:
        """``{name: value}`` of a point, names without Hydra's ``+``/``~`` prefixes."""
        return {k.lstrip("+~"): v for k, v in self.values(point)}

    def overrides(self, point: Point) -> list[str]:
        """Hydra override strings of a point (floats with 8 significant digits)."""
        return [f"{k}={v!r}" if isinstance(v, float) else f"{k}={v}"
                for k, v in self.values(point)]

    def fingerprint(self) -> list[list[object]]:
        """A JSON-able description, to refuse resuming a sweep over a different space."""
        return ([["interval", d.key, d.low, d.high, d.log] for d in self.intervals]
                + [["choice", c.key, *c.values] for c in self.choices])
