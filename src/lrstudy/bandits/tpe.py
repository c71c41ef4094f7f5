"""HyperOpt's TPE (the paper's baseline) as an ask/tell searcher over the unit coordinates.

A uniform prior on a log dimension's unit coordinate is hyperopt's ``loguniform``. Trials are
rebuilt from the history on every ask (so state is just the history); failed evaluations get a
loss worse than every finite one (the worst reward), and the points already asked in the same
batch are pending trials with infinite loss, as in hyperopt's own parallel ``fmin``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lrstudy.bandits.base import Reward, point_from_json, point_to_json
from lrstudy.bandits.space import Point, SearchSpace


class TPE:
    def __init__(self, space: SearchSpace, budget: int, seed: int = 0,
                 n_startup_jobs: int = 20, gamma: float = 0.25,
                 n_ei_candidates: int = 24) -> None:
        self.space, self.budget, self.seed = space, budget, seed
        self.n_startup_jobs, self.gamma = n_startup_jobs, gamma
        self.n_ei_candidates = n_ei_candidates
        self.history: list[tuple[Point, Reward]] = []

    def _labels(self) -> list[str]:
        return [f"u{i}" for i in range(self.space.dim)] + \
               [f"c{i}" for i in range(len(self.space.choices))]

    def _vals(self, point: Point) -> dict[str, list[float]]:
        combo, unit = point
        vals = {f"u{i}": [u] for i, u in enumerate(unit)}
        return vals | {f"c{i}": [c] for i, c in enumerate(combo)}

    def ask(self, n: int) -> list[Point]:
        if not self.space.dim and not self.space.choices:
            return [((), ())] * n            # nothing to search: the one config
        from hyperopt import JOB_STATE_DONE, STATUS_OK, Domain, Trials, hp, tpe

        space = {f"u{i}": hp.uniform(f"u{i}", 0.0, 1.0) for i in range(self.space.dim)}
        space |= {f"c{i}": hp.choice(f"c{i}", list(range(len(c.values))))
                  for i, c in enumerate(self.space.choices)}
        domain = Domain(lambda _: 0.0, space)
        finite = [-r for _, r in self.history if r is not None]
        worst = max(finite) + 1.0 if finite else 1.0
        docs = []
        for tid, (point, reward) in enumerate(self.history):
            vals = self._vals(point)
            docs.append({
                "state": JOB_STATE_DONE, "tid": tid, "spec": None,
                "result": {"loss": worst if reward is None else -reward, "status": STATUS_OK},
                "misc": {"tid": tid, "cmd": domain.cmd, "workdir": None,
                         "idxs": {k: [tid] for k in vals}, "vals": vals},
                "exp_key": None, "owner": None, "version": 0, "book_time": None,
                "refresh_time": None})
        trials = Trials()
        trials.insert_trial_docs(docs)
        trials.refresh()
        points = []
        for k in range(n):
            tid = len(self.history) + k
            [doc] = tpe.suggest([tid], domain, trials, (self.seed * 1_000_003 + tid) % 2**31,
                                n_startup_jobs=self.n_startup_jobs, gamma=self.gamma,
                                n_EI_candidates=self.n_ei_candidates, verbose=False)
            vals = doc["misc"]["vals"]
            points.append((tuple(int(vals[f"c{i}"][0]) for i in range(len(self.space.choices))),
                           tuple(float(vals[f"u{i}"][0]) for i in range(self.space.dim))))
            trials.insert_trial_docs([doc])   # pending: infinite loss until told
            trials.refresh()
        return points

    def tell(self, results: Sequence[tuple[Point, Reward]]) -> None:
        self.history.extend(results)

    def state_dict(self) -> dict[str, Any]:
        return {"history": [[point_to_json(p), r] for p, r in self.history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = [(point_from_json(p), r) for p, r in state["history"]]
