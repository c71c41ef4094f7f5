"""Intervals over seeds: Student-t and bootstrap for a mean, and for a paired difference.

With a handful of seeds the t-interval is the honest default; the bootstrap (scipy's BCa, falling
back to percentile where BCa is undefined) is reported beside it as a check that does not assume
normality. n < 2 gives no interval (NaN bounds), never a made-up one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    std: float
    t_low: float
    t_high: float
    boot_low: float
    boot_high: float

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{k}": v for k, v in asdict(self).items()}


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return x.mean() - half, x.mean() + half


def bootstrap_interval(values: Sequence[float], confidence: float = CONFIDENCE,
                       seed: int = 0) -> tuple[float, float]:
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return math.nan, math.nan
    if np.ptp(x) == 0:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    for method in ("BCa", "percentile"):
        result = stats.bootstrap((x,), np.mean, confidence_level=confidence, method=method,
                                 n_resamples=BOOTSTRAP_RESAMPLES, rng=rng)
        low, high = result.confidence_interval
        if math.isfinite(low) and math.isfinite(high):
            return float(low), float(high)
    return math.nan, math.nan


def summarize(values: Sequence[float], confidence: float = CONFIDENCE) -> Summary:
    """n, mean, sample std and both intervals of the finite values."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if len(x) == 0:
        return Summary(0, *(math.nan,) * 6)
    std = float(x.std(ddof=1)) if len(x) > 1 else math.nan
    return Summary(len(x), float(x.mean()), std, *t_interval(x, confidence),
                   *bootstrap_interval(x, confidence))


def paired_difference(a: dict[int, float], b: dict[int, float],
                      confidence: float = CONFIDENCE) -> Summary:
    """Summary of a[seed] - b[seed] over the seeds both arms finished (paired by seed)."""
    seeds = sorted(set(a) & set(b))
    return summarize([a[s] - b[s] for s in seeds], confidence)
