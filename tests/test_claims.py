"""Verdicts from intervals: each test region, each outcome, and the smoke label."""

import math

import pytest

from conftest import CONF
from lrstudy.claims import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    SMOKE,
    Claim,
    Measure,
    load_claims,
    verdict,
)


def claim(**test):
    return Claim("X-C1", "X", "a statement", "study", "m", test)


@pytest.mark.parametrize(("test", "interval", "expected"), [
    ({"kind": "within", "low": -0.5, "high": 0.5}, (-0.2, 0.3), REPRODUCED),
    ({"kind": "within", "low": -0.5, "high": 0.5}, (0.6, 0.9), NOT_REPRODUCED),
    ({"kind": "within", "low": -0.5, "high": 0.5}, (-0.9, -0.6), NOT_REPRODUCED),
    ({"kind": "within", "low": -0.5, "high": 0.5}, (0.2, 0.7), INCONCLUSIVE),
    ({"kind": "at_least", "threshold": 2.0}, (2.1, 3.0), REPRODUCED),
    ({"kind": "at_least", "threshold": 2.0}, (1.0, 1.9), NOT_REPRODUCED),
    ({"kind": "at_least", "threshold": 2.0}, (1.5, 2.5), INCONCLUSIVE),
    ({"kind": "at_most", "threshold": 1e-8}, (0.0, 5e-9), REPRODUCED),
    ({"kind": "at_most", "threshold": 1e-8}, (2e-8, 3e-8), NOT_REPRODUCED),
])
def test_verdict_compares_the_interval_with_the_region(test, interval, expected):
    low, high = interval
    measure = Measure((low + high) / 2, low, high, 3)
    assert verdict(claim(**test), measure, "mini") == expected


def test_smoke_is_never_evidence_and_missing_is_not_run():
    test = {"kind": "at_least", "threshold": 0.0}
    assert verdict(claim(**test), Measure.exact(1.0), "smoke") == SMOKE
    assert verdict(claim(**test), None, "mini") == NOT_RUN
    assert verdict(claim(**test), Measure(1.0, math.nan, math.nan, 1), "mini") == INCONCLUSIVE


def test_the_registry_loads():
    claims = load_claims(CONF / "claims")
    assert claims and all(c.id.startswith(c.paper) for c in claims)
