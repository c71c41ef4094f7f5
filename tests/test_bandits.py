"""The bandit searchers without Hydra: spaces, the zooming rules, BLiE's elimination, resume
determinism, and convergence on synthetic Lipschitz objectives against random search."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lrstudy.bandits import (
    SEARCHERS,
    BLiE,
    Choice,
    Interval,
    SearchSpace,
    Zooming,
    make_searcher,
    normalise,
)

LOG_LR = SearchSpace((Interval("lr", 1e-4, 1.0, log=True),))


def test_interval_maps_log_scale_and_rejects_bad_bounds():
    dim = Interval("lr", 1e-4, 1.0, log=True)
    assert dim.value(0.5) == pytest.approx(1e-2)
    assert dim.unit(1e-3) == pytest.approx(0.25)
    assert Interval("x", -1.0, 3.0).value(0.25) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="lr: a log interval needs a positive lower bound"):
        Interval("lr", 0.0, 1.0, log=True)
    with pytest.raises(ValueError, match="x: interval needs low < high"):
        Interval("x", 2.0, 1.0)


def test_space_overrides_and_params():
    space = SearchSpace((Interval("+lr", 1e-4, 1.0, log=True),), (Choice("opt", ("sgd", "adam")),))
    point = ((1,), (0.5,))
    assert space.overrides(point) == ["opt=adam", "+lr=0.01"]
    assert space.params(point) == {"opt": "adam", "lr": 0.01}
    assert space.combos() == [(0,), (1,)]


def test_normalise_maps_failures_to_zero():
    assert normalise([1.0, None, 3.0, 2.0]) == [0.0, 0.0, 1.0, 0.5]
    assert normalise([5.0, None], reward_range=[0.0, 10.0]) == [0.5, 0.0]
    assert normalise([None, None]) == [0.0, 0.0]


def test_zooming_radius_is_the_textbook_formula():
    z = Zooming(LOG_LR, budget=16, radius_scale=1.0)
    assert z.radius(0) == pytest.approx(math.sqrt(2 * math.log(16)))
    assert z.radius(3) == pytest.approx(math.sqrt(2 * math.log(16) / 4))


def test_zooming_activates_centre_then_largest_gaps():
    """With a Lipschitz constant so large that a ball covers almost nothing, zooming activates
    the centre, then the deepest uncovered points: the ends, then the quarter points."""
    z = Zooming(LOG_LR, budget=16, radius_scale=0.1, lipschitz=100.0)
    played = []
    for _ in range(5):
        [p] = z.ask(1)
        z.tell([(p, 0.0)])
        played.append(p[1][0])
    assert played == [0.5, 0.0, 1.0, 0.25, 0.75]


def test_zooming_replays_the_best_arm_once_all_is_covered():
    """A single covering arm and a second one: the optimistic index picks the better arm."""
    z = Zooming(LOG_LR, budget=16, radius_scale=1.0, lipschitz=1.0)
    [a] = z.ask(1)
    z.tell([(a, 1.0)])
    assert z.ask(1) == [a]            # the radius covers [0, 1]: no activation, replay
    counts, means = z.stats()
    assert counts.tolist() == [1] and means.tolist() == [1.0]


def test_zooming_batch_has_distinct_arms():
    z = Zooming(SearchSpace(choices=(Choice("c", ("a", "b", "c")),)), budget=9)
    first = z.ask(2)
    assert first == [((0,), ()), ((1,), ())]  # grid order, like Hydra's basic sweeper
    z.tell([(p, r) for p, r in zip(first, [0.0, 1.0], strict=True)])
    second = z.ask(3)
    assert second[0] == ((2,), ()) and len(set(second)) == 3


def test_blie_eliminates_far_cubes_and_splits_survivors():
    b = BLiE(LOG_LR, budget=64, lipschitz=1.0, eta=1.0, pulls_scale=0.0)
    f = {0.5: 1.0, 0.25: 0.0, 0.75: 1.0}
    for _ in range(2):                                # stages 0 and 1: nothing far enough
        points = b.ask(10)
        b.tell([(p, f.get(p[1][0], 0.0)) for p in points])
    assert b.stage == 2
    # stage 1 means (normalised): cube [0, .5) = 0, cube [.5, 1] = 1; gap 1 > eta*L*edge = .5
    centres = sorted(p[1][0] for p in b.ask(10))
    assert centres == [0.625, 0.875]


@pytest.mark.parametrize("name", sorted(SEARCHERS))
def test_resume_from_state_repeats_the_same_proposals(name):
    space = SearchSpace((Interval("x", 0.0, 1.0), Interval("y", 1e-3, 1.0, log=True)),
                        (Choice("c", ("a", "b")),))
    f = lambda p: -abs(p[1][0] - 0.3) - abs(p[1][1] - 0.6) - 0.1 * p[0][0]  # noqa: E731
    a = make_searcher(name, space, budget=12, seed=3)
    for _ in range(3):
        pts = a.ask(2)
        a.tell([(p, f(p)) for p in pts])
    b = make_searcher(name, space, budget=12, seed=3)
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert b.ask(2) == a.ask(2)


def _best_regret(name: str, space: SearchSpace, f, budget: int, seed: int, noise: float,
                 **constants) -> float:
    rng = np.random.default_rng(1000 + seed)
    searcher = make_searcher(name, space, budget, seed, **constants)
    best, done = -np.inf, 0
    while done < budget:
        points = searcher.ask(min(2, budget - done))
        searcher.tell([(p, f(p) + noise * rng.normal()) for p in points])
        best = max(best, *(f(p) for p in points))
        done += len(points)
    return -best


def _peaks(dim: int, n: int = 12) -> np.ndarray:
    return np.random.default_rng(dim).uniform(0.1, 0.9, size=(n, dim))


@pytest.mark.parametrize(("dim", "budget", "noise", "lipschitz", "factor"),
                         [(1, 16, 0.0, 3.0, 0.6), (1, 16, 0.05, 3.0, 0.6),
                          (2, 40, 0.05, 1.0, 0.9)])
def test_zooming_converges_and_beats_random_search(dim, budget, noise, lipschitz, factor):
    """A 1.5-Lipschitz cone with its peak at random places: zooming's best-found regret is small
    and, averaged over 12 objectives, below random search's on the same budget. In 2-D the
    margin is thin and needs the objective's own Lipschitz constant (~1 after normalisation)."""
    space = SearchSpace(tuple(Interval(f"x{i}", 1e-4, 1.0, log=True) for i in range(dim)))
    regrets = {"zooming": [], "random": []}
    for seed, peak in enumerate(_peaks(dim)):
        f = lambda p, peak=peak: -1.5 * np.max(np.abs(np.array(p[1]) - peak))  # noqa: E731
        for name in regrets:
            constants = {"lipschitz": lipschitz} if name == "zooming" else {}
            regrets[name].append(_best_regret(name, space, f, budget, seed, noise, **constants))
    zoom, rand = np.mean(regrets["zooming"]), np.mean(regrets["random"])
    assert zoom < factor * rand
    assert zoom < (0.03 if dim == 1 else 0.12)


def test_every_searcher_handles_failures_as_worst():
    space = SearchSpace((Interval("x", 0.0, 1.0),))
    for name in SEARCHERS:
        s = make_searcher(name, space, budget=8, seed=0)
        for _ in range(4):
            pts = s.ask(2)
            s.tell([(p, None if p[1][0] > 0.6 else -p[1][0]) for p in pts])
        assert len(s.ask(1)) == 1
