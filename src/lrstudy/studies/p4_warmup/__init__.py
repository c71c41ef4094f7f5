"""P4: Kalra & Barkeshli, "Why warmup the learning rate?" (PAPERS.md 4).

Three parts share one sweep directory (results/<profile>/p4_warmup/runs), told apart by
``study.part``; every run is one cell, named by its arm (optimizer, parameterisation, warmup
steps, target LR):

    phase       heatmaps of target LR x warmup length: SGD (SP, muP), SGD-M, SGD + cosine decay,
                Adam, GI-Adam, RI-Adam, RAdam (P4-C1..C4, C7, C10, C11)
    mechanisms  full-batch GD and Adam with MSE, sharpness (and Adam's preconditioned sharpness)
                along training against the stability thresholds (P4-C6, C8, C9, C11)
    catapult    eta_init = eta_c against linear warmup, persistent catapult (P4-C12, C13, C15)

``grid`` measures lambda_0 and lays out the cells, ``analysis`` computes the measures of
conf/claims/p4.yaml, ``plots`` draws paper_figures/p4_warmup/.
"""

from lrstudy.studies.p4_warmup.analysis import analyze

__all__ = ["analyze"]
