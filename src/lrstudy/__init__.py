"""lrstudy: a Hydra + DVC reproducibility study of learning-rate schedules, optimizers and warmup."""

__version__ = "0.1.0"
