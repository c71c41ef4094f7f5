"""P1 (cyclical log annealing): the formula measures of P1-C5, against PAPERS.md's hand table."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lrstudy.studies import StudyContext
from lrstudy.studies.p1_log_anneal import schedule_measures


def test_formula_measures_use_the_paper_scale_cycle(make_cfg, tmp_path):
    cfg = make_cfg("experiment=p1_log_anneal/mini", "arm=p1/log_anneal_inv")
    run = SimpleNamespace(arm="log_anneal_inv",
                          config={"schedule": dict(cfg.schedule)})
    measures = schedule_measures(StudyContext("mini", [run], {}, tmp_path))
    # PAPERS.md 1.2's table: 0.587 x the peak LR at T_cur = T_i, i.e. 58.7 x min_lr = 1e-3 x lr
    assert measures["schedule/end_of_cycle_lr_over_min_lr"].value == pytest.approx(58.7, abs=0.05)
    # pi * 3910 steps > 1 / min_lr: one step after the restart the unclipped LR tops the peak
    assert measures["schedule/restart_lr_over_base_lr"].value > 1
