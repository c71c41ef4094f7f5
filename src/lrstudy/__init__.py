"""lrstudy: a Hydra + DVC reproducibility study of LR schedules, optimizers and warmup."""

__version__ = "0.1.0"
