"""Claims registry (conf/claims/*.yaml) and verdicts computed from measured intervals.

A study's analysis writes ``measures.json``: named quantities, each a value with an interval
(``low``/``high``; equal to the value for deterministic quantities). A claim names one measure and
a test region; the verdict compares the interval with the region:

    within [lo, hi]  reproduced if the interval lies inside, not reproduced if it lies outside,
    at_least t       inconclusive if it straddles the boundary (likewise for at_most t)

Under the smoke profile every verdict is "smoke — not evidence": the sizes are too small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
SMOKE = "smoke — not evidence"
NOT_RUN = "not run"
TESTS = ("within", "at_least", "at_most")


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    statement: str
    study: str
    measure: str
    test: dict[str, Any]
    paper_value: str = "—"
    figure: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Measure:
    value: float
    low: float
    high: float
    n: int = 1
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def exact(cls, value: float, **detail: Any) -> Measure:
        return cls(value, value, value, 1, detail)


@dataclass(frozen=True)
class Paper:
    paper: str
    title: str
    choices: list[str]
    claims: list[Claim]


def load_papers(folder: Path) -> list[Paper]:
    """conf/claims/*.yaml: per paper its title, stated choices and claims (schema checked)."""
    papers = []
    for path in sorted(Path(folder).glob("*.yaml")):
        entry = yaml.safe_load(path.read_text())
        claims = [Claim(**c) for c in entry["claims"]]
        for claim in claims:
            if claim.test.get("kind") not in TESTS:
                raise ValueError(f"{path}: claim {claim.id} test.kind must be one of {TESTS}")
        papers.append(Paper(entry["paper"], entry["title"], entry.get("choices", []), claims))
    ids = [c.id for p in papers for c in p.claims]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate claim ids in {folder}")
    return papers


def load_claims(folder: Path) -> list[Claim]:
    return [claim for paper in load_papers(folder) for claim in paper.claims]


def verdict(claim: Claim, measure: Measure | None, profile: str) -> str:
    if measure is None or not (math.isfinite(measure.low) and math.isfinite(measure.high)):
        return NOT_RUN if measure is None else INCONCLUSIVE
    if profile == "smoke":
        return SMOKE
    test, low, high = claim.test, measure.low, measure.high
    if test["kind"] == "within":
        lo, hi = test["low"], test["high"]
        if lo <= low and high <= hi:
            return REPRODUCED
        return NOT_REPRODUCED if high < lo or low > hi else INCONCLUSIVE
    threshold = test["threshold"]
    if test["kind"] == "at_least":
        return REPRODUCED if low >= threshold else NOT_REPRODUCED if high < threshold \
            else INCONCLUSIVE
    return REPRODUCED if high <= threshold else NOT_REPRODUCED if low > threshold \
        else INCONCLUSIVE


def describe_test(test: dict[str, Any]) -> str:
    if test["kind"] == "within":
        return f"in [{test['low']:g}, {test['high']:g}]"
    return f"{'>=' if test['kind'] == 'at_least' else '<='} {test['threshold']:g}"
