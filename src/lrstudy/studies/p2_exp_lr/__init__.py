"""P2: Li & Arora, "An exponential learning rate schedule for deep learning" (PAPERS.md 2).

Three kinds of evidence, one module each, all writing into results/<profile>/p2_exp_lr/:

    equivalence  float64 lockstep runs on a scale-invariant PreResNet: fixed LR + weight decay
                 against ExpLR with and without the momentum-buffer correction, per norm type, and
                 a cosine schedule against its exact exponential counterpart (P2-C1, C5, C6)
    toy          the BN + weight-decay toy, a reconstruction of the paper's Section 3 (P2-C7)
    train        the float32 training arms (fixed LR + WD, ExpLR, step decay, TEXP, TEXP++) with
                 per-epoch layer norms and angles between successive epochs (P2-C2, C3, C4)

``analyze`` (lrstudy.studies' contract) computes the measures of conf/claims/p2.yaml and draws
the figures into paper_figures/p2_exp_lr/.
"""

from lrstudy.studies.p2_exp_lr.analysis import analyze

__all__ = ["analyze"]
