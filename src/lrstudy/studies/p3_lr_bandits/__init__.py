"""P3: Priyanka, Kalyani & Chatterjee, "Learning rate optimization for deep neural networks using
Lipschitz bandits" (PAPERS.md 3).

``search`` runs the study (dense LR grid, bandit sweeps, retraining of each sweep's best LR);
``settings`` reads conf/study/p3_lr_bandits_search.yaml; ``analysis`` computes the measures of
conf/claims/p3.yaml and ``plots`` draws paper_figures/p3_lr_bandits/.
"""

from lrstudy.studies.p3_lr_bandits.analysis import analyze

__all__ = ["analyze"]
