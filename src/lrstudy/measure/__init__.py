"""Loss-landscape measurements: sharpness (top Hessian eigenvalue) and Adam's preconditioned
sharpness, computed from Hessian-vector products without modifying the model.

    from lrstudy.measure import top_hessian_eigenvalue
    lam = top_hessian_eigenvalue(model, loss_fn, batches, iters=100, dtype=torch.float64)

``loss_fn(model, batch)`` gets a stand-in for the model (same call signature) and returns the
batch's scalar mean loss; see :mod:`lrstudy.measure.functional`.
"""

from lrstudy.measure.functional import LossFn, frozen_rng, loss_at, mean_loss_gradient
from lrstudy.measure.hessian import TopEigenvalue, hessian_top_eigen, top_hessian_eigenvalue
from lrstudy.measure.precond import adam_preconditioner, is_adam_family

__all__ = [
    "LossFn",
    "TopEigenvalue",
    "adam_preconditioner",
    "frozen_rng",
    "hessian_top_eigen",
    "is_adam_family",
    "loss_at",
    "mean_loss_gradient",
    "top_hessian_eigenvalue",
]
