"""Structured config schemas, registered in Hydra's ConfigStore.

Every YAML option in ``conf/<group>/`` extends one of these dataclasses through its defaults list
(``- /schema/<group>/<name>@_here_``), so a misspelt key or a wrong type fails at composition,
before any data is touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

# --- data -----------------------------------------------------------------------------------


@dataclass
class DataConfig:
    name: str = MISSING
    batch_size: int = 128
    eval_batch_size: int = 1000
    val_size: int = 0  # examples held out of train for validation (fixed split_seed)
    split_seed: int = 0
    train_subset: int | None = None  # keep only this many training examples (profiles)
    eval_subset: int | None = None  # evaluate on only the first n val and test examples
    random_crop: int = 0  # pad by this many pixels, then crop back (0 = off); batched on device
    hflip: bool = False  # random horizontal flip, batched on device
    normalize: bool = True  # per-channel standardisation with train statistics
    shuffle: bool = True


@dataclass
class SyntheticDataConfig(DataConfig):
    shape: list[int] = field(default_factory=lambda: [3, 32, 32])
    num_classes: int = 10
    train_size: int = 512
    test_size: int = 128
    data_seed: int = 0


@dataclass
class TolstoiDataConfig(DataConfig):
    seq_length: int = 50


@dataclass
class QuadraticDataConfig(DataConfig):
    dim: int = 100
    train_size: int = 1000
    test_size: int = 1000
    noise_std: float = 0.6


# --- model ----------------------------------------------------------------------------------


@dataclass
class ModelConfig:
    name: str = MISSING
    # data configs this model is paired with in the studies; the test suite trains each pair
    datasets: list[str] = field(default_factory=list)


@dataclass
class FCNConfig(ModelConfig):
    depth: int = 3  # number of hidden layers
    width: int = 512
    activation: str = "relu"
    bias: bool = True


@dataclass
class DropoutModelConfig(ModelConfig):
    dropout: float = 0.0  # hidden dropout
    input_dropout: float = 0.0  # dropout on the input image


@dataclass
class WRNConfig(ModelConfig):
    depth: int = 16
    widen: int = 4
    norm: str = "batch"  # batch | layer
    dropout: float = 0.0


@dataclass
class PreResNetConfig(ModelConfig):
    depth: int = 32
    width: int = 16
    norm: str = "batch"  # batch | group | layer
    norm_groups: int = 8  # GroupNorm groups for norm=group (must divide width)
    freeze_norm_affine: bool = False  # scale invariance (ExpLR study)
    freeze_last_layer: bool = False


@dataclass
class TimmModelConfig(ModelConfig):
    arch: str = MISSING  # timm architecture name
    cifar_stem: bool = True  # 3x3 stride-1 stem without max-pool for 32x32 inputs
    kwargs: dict[str, Any] = field(default_factory=dict)  # passed to timm.create_model


@dataclass
class VAEConfig(ModelConfig):
    n_latent: int = 8
    dropout: float = 0.2


@dataclass
class CharRNNConfig(ModelConfig):
    hidden: int = 128
    layers: int = 2
    dropout: float = 0.2  # DeepOBS keep probability 0.8 on LSTM inputs and outputs


# --- optimizer ------------------------------------------------------------------------------


@dataclass
class OptimizerConfig:
    name: str = MISSING
    lr: float = 0.1
    weight_decay: float = 0.0


@dataclass
class SGDConfig(OptimizerConfig):
    momentum: float = 0.0
    nesterov: bool = False


@dataclass
class AdamConfig(OptimizerConfig):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


# --- schedule -------------------------------------------------------------------------------


@dataclass
class ScheduleConfig:
    name: str = MISSING
    granularity: str = "step"  # step | epoch (value held for a whole epoch, as DeepOBS)


@dataclass
class CosineConfig(ScheduleConfig):
    min_lr: float = 0.0  # absolute


@dataclass
class LogAnnealConfig(ScheduleConfig):
    t0_epochs: float = 10.0
    t_mult: float = 2.0
    min_lr: float = 1e-3
    base: str = "inv_min_lr"  # inv_min_lr (B = 1/min_lr) | min_lr (B = min_lr)
    clip: bool = True  # clip to [min_lr, base_lr]


# --- init (warmup and initialisation) ------------------------------------------------------


@dataclass
class InitConfig:
    name: str = MISSING
    warmup_steps: int = 0
    warmup_epochs: float = 0.0  # converted with steps_per_epoch; added to warmup_steps
    init_lr: float = 0.0  # LR at step 0 of a linear warmup


# --- trainer, profile, run ------------------------------------------------------------------


@dataclass
class TrainerConfig:
    epochs: float = 20.0
    max_steps: int | None = None  # caps the run (profiles, tests)
    eval_every_steps: int = 0  # 0 = once per epoch
    eval_at_start: bool = True
    sync_every: int = 50  # steps between host syncs (loss readout, divergence check, logging)
    loss: str = "cross_entropy"  # cross_entropy | mse (classification only)
    divergence_factor: float = 1e3  # diverged if loss > factor * initial loss
    grad_clip: float | None = None
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    dtype: str = "float32"  # float32 | float64 (parameters and data)
    precision: str = "fp32"  # fp32 | bf16 (autocast on CUDA)
    channels_last: bool = False
    compile: bool = False
    deterministic: bool = True
    tensorboard: bool = True
    keep_checkpoint: bool = True  # keep checkpoint.pt after a completed run
    progress: str = "auto"  # auto | on | off


@dataclass
class ProfileConfig:
    name: str = MISSING
    train_subset: int | None = None  # caps data.train_subset
    eval_subset: int | None = None  # caps data.eval_subset
    max_steps: int | None = None  # caps trainer.max_steps


@dataclass
class ObjectiveConfig:
    metric: str = "val_loss"  # any eval.csv column
    mode: str = "min"  # min | max
    reduce: str = "final"  # final | best


@dataclass
class PathsConfig:
    data: str = "data"
    runs: str = "runs"


@dataclass
class TrainConfig:
    data: Any = MISSING
    model: Any = MISSING
    optimizer: Any = MISSING
    schedule: Any = MISSING
    init: Any = MISSING
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    profile: ProfileConfig = field(default_factory=ProfileConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    experiment: str | None = None
    seed: int = 0


SCHEMAS: dict[str, dict[str, type]] = {
    "data": {
        "base": DataConfig,
        "synthetic": SyntheticDataConfig,
        "tolstoi": TolstoiDataConfig,
        "quadratic": QuadraticDataConfig,
    },
    "model": {
        "base": ModelConfig,
        "fcn": FCNConfig,
        "dropout": DropoutModelConfig,
        "wrn": WRNConfig,
        "preresnet": PreResNetConfig,
        "timm": TimmModelConfig,
        "vae": VAEConfig,
        "char_rnn": CharRNNConfig,
    },
    "optimizer": {"sgd": SGDConfig, "adam": AdamConfig},
    "schedule": {"base": ScheduleConfig, "cosine": CosineConfig, "log_anneal": LogAnnealConfig},
    "init": {"base": InitConfig},
    "trainer": {"base": TrainerConfig},
    "profile": {"base": ProfileConfig},
}


def register_configs() -> None:
    """Register the schemas; idempotent, called on import of the entry points."""
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainConfig)
    for group, schemas in SCHEMAS.items():
        for name, node in schemas.items():
            cs.store(group=f"schema/{group}", name=name, node=node)
