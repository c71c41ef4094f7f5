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
class SearchDimConfig:
    """One hyperparameter's random-search distribution (crowded-valley budgets)."""

    dist: str = MISSING  # log_uniform | uniform | int_uniform (low and high inclusive)
    low: float = MISSING
    high: float = MISSING


@dataclass
class OptimizerConfig:
    name: str = MISSING
    lr: float = 0.1
    weight_decay: float = 0.0  # coupled L2 (added to the gradient) unless the option says otherwise
    # the crowded-valley benchmark's one-shot defaults (hyperparameter -> value), applied by the
    # study as overrides; empty for optimizers outside the benchmark
    oneshot: dict[str, Any] = field(default_factory=dict)
    # the benchmark's random-search space (hyperparameter -> distribution), drawn in this order
    search_space: dict[str, SearchDimConfig] = field(default_factory=dict)


@dataclass
class SGDConfig(OptimizerConfig):
    momentum: float = 0.0
    nesterov: bool = False
    # ExpLR runs: the weight decay of the constant-LR run being emulated; > 0 starts the momentum
    # buffer at v_0 = (alpha - 1) theta_0 / (lr alpha) (Li & Arora); 0 = off
    explr_weight_decay: float = 0.0


@dataclass
class AdamConfig(OptimizerConfig):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


@dataclass
class RIAdamConfig(AdamConfig):
    v0_seed: int = 0  # seed of the random v_0 direction


@dataclass
class AdaBoundConfig(AdamConfig):
    final_lr: float = 0.1  # SGD LR the bounds converge to (scaled with the LR schedule)
    gamma: float = 1e-3  # convergence speed of the bounds


@dataclass
class AdaBeliefConfig(AdamConfig):
    rectify: bool = False  # RAdam-style rectification (adabelief-tf's later default)


@dataclass
class AdagradConfig(OptimizerConfig):
    initial_accumulator_value: float = 0.1
    eps: float = 0.0


@dataclass
class AdadeltaConfig(OptimizerConfig):
    rho: float = 0.95
    eps: float = 1e-8


@dataclass
class RMSPropConfig(OptimizerConfig):
    decay: float = 0.9
    eps: float = 1e-10
    momentum: float = 0.0
    centered: bool = False


@dataclass
class LookaheadMomentumConfig(SGDConfig):
    alpha: float = 0.5  # slow-weights step size (not the LR)
    k: int = 5  # fast steps per slow step


@dataclass
class LookaheadRAdamConfig(AdamConfig):
    alpha: float = 0.5  # slow-weights step size (not the LR)
    k: int = 5  # fast steps per slow step


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


@dataclass
class CosineWRConfig(ScheduleConfig):
    t0_epochs: float = 10.0  # first cycle; cycle i lasts t0_epochs * t_mult^i
    t_mult: float = 2.0
    min_lr: float = 0.0  # absolute


@dataclass
class LinearConfig(ScheduleConfig):
    min_lr: float = 0.0  # absolute, approached at the end of the run


@dataclass
class PolynomialConfig(LinearConfig):
    power: float = 2.0  # 1 = linear


@dataclass
class StepConfig(ScheduleConfig):
    step_epochs: float = 30.0  # multiply the LR by gamma every step_epochs
    gamma: float = 0.1


@dataclass
class MultiStepConfig(ScheduleConfig):
    milestones_epochs: list[float] = field(default_factory=lambda: [80.0, 120.0])
    gamma: float = 0.1  # multiplies the LR at each milestone


@dataclass
class ExponentialConfig(ScheduleConfig):
    gamma: float = 0.97  # factor per epoch, applied smoothly per step


@dataclass
class TrapezoidalConfig(ScheduleConfig):
    warmup_frac: float = 0.1  # fraction of the run spent ramping up
    decay_frac: float = 0.1  # fraction of the run spent ramping down at the end


@dataclass
class OneCycleConfig(ScheduleConfig):
    pct_start: float = 0.3  # fraction of the run spent increasing the LR
    div_factor: float = 25.0  # initial LR = optimizer.lr / div_factor
    final_div_factor: float = 1e4  # final LR = initial LR / final_div_factor
    anneal_strategy: str = "cos"  # cos | linear
    three_phase: bool = False  # up, back down to the initial LR, then down to the final LR


@dataclass
class ExpLRConfig(ScheduleConfig):
    weight_decay: float = 5e-4  # of the equivalent run; train this one with weight_decay 0
    momentum: float = 0.9  # of the equivalent run and of this one


@dataclass
class TexpConfig(ExpLRConfig):
    milestones_epochs: list[float] = field(default_factory=lambda: [80.0, 120.0])  # step decay
    gamma: float = 0.1  # the step decay's factor at each milestone


# --- init (warmup and initialisation) ------------------------------------------------------


@dataclass
class InitConfig:
    name: str = MISSING
    warmup_steps: int = 0
    warmup_epochs: float = 0.0  # converted with steps_per_epoch; added to warmup_steps
    init_lr: float = 0.0  # LR at step 0 of a linear warmup
    parameterization: str = "default"  # default (the model's own init) | sp | mup | simple_mup
    base_width: int | None = None  # mup: Adam LR multipliers relative to this model width


@dataclass
class CatapultConfig(InitConfig):
    lr0: float = 1e-4  # first candidate LR of the exponential search
    growth: float = 2.0  # factor of the exponential search
    delta: float | None = None  # bisection tolerance (relative loss rise); None: 0.01 Adam, 0.1 SGD


# --- trainer, profile, run ------------------------------------------------------------------


@dataclass
class TrainerConfig:
    epochs: float = 20.0
    max_steps: int | None = None  # caps the run (profiles, tests)
    eval_every_steps: int = 0  # 0 = once per epoch
    eval_at_start: bool = True
    eval_train: bool = False  # also evaluate on the training set (eval.csv train_loss/train_acc)
    layer_stats: bool = False  # per-tensor norms and angles at each evaluation (layers.csv)
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
    keep_checkpoint: bool = True  # keep checkpoint.pt (the final state) after the run
    progress: str = "auto"  # auto | on | off
    sharpness_every: int = 0  # steps between sharpness measurements (history.csv); 0 = off
    sharpness_batches: int = 10  # fixed training batches whose mean loss is measured
    sharpness_iters: int = 100  # Lanczos restarts (ARPACK maxiter) per measurement
    sharpness_dtype: str = "float64"  # float64 | float32


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
    arm: str | None = None  # the named arm of a study (conf/arm/<study>/<arm>.yaml)
    study: dict[str, Any] = field(default_factory=dict)  # study-specific knobs the arms read
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
    "optimizer": {"sgd": SGDConfig, "adam": AdamConfig, "ri_adam": RIAdamConfig,
                  "adabound": AdaBoundConfig, "adabelief": AdaBeliefConfig,
                  "adagrad": AdagradConfig, "adadelta": AdadeltaConfig,
                  "rmsprop": RMSPropConfig, "lookahead_momentum": LookaheadMomentumConfig,
                  "lookahead_radam": LookaheadRAdamConfig},
    "schedule": {
        "base": ScheduleConfig,
        "cosine": CosineConfig,
        "log_anneal": LogAnnealConfig,
        "cosine_wr": CosineWRConfig,
        "linear": LinearConfig,
        "polynomial": PolynomialConfig,
        "step": StepConfig,
        "multistep": MultiStepConfig,
        "exponential": ExponentialConfig,
        "trapezoidal": TrapezoidalConfig,
        "onecycle": OneCycleConfig,
        "exp_lr": ExpLRConfig,
        "texp": TexpConfig,
    },
    "init": {"base": InitConfig, "catapult": CatapultConfig},
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
