"""One run from a composed config: skip if done, resume if interrupted, else train from scratch."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams

from lrstudy.data import load_data, make_train_batches
from lrstudy.engine.layers import LAYER_COLUMNS
from lrstudy.engine.loop import RunInterrupted, Trainer
from lrstudy.engine.progress import make_progress
from lrstudy.engine.rundir import RunDir, collect_meta, config_hash, worst
from lrstudy.engine.tasks import batch_loss, task_options
from lrstudy.engine.validate import validate_config
from lrstudy.init import CatapultProbe, apply_parameterization, build_lr_control, param_groups
from lrstudy.models import build_model
from lrstudy.optim import build_optimizer

log = logging.getLogger(__name__)

LOWER_IS_BETTER = ("val_loss", "test_loss", "train_loss")


def apply_profile(cfg: DictConfig) -> DictConfig:
    """Copy of cfg with the profile's caps folded in, so config.yaml records what ran."""
    cfg = cfg.copy()
    caps = (("train_subset", cfg.data), ("eval_subset", cfg.data), ("max_steps", cfg.trainer))
    for cap, target in caps:
        limit = cfg.profile[cap]
        if limit is not None:
            target[cap] = limit if target[cap] is None else min(target[cap], limit)
    return cfg


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def seed_everything(seed: int, deterministic: bool) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = not deterministic
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)


def count_steps(cfg: DictConfig, steps_per_epoch: int) -> int:
    steps = round(cfg.trainer.epochs * steps_per_epoch)
    return min(steps, cfg.trainer.max_steps) if cfg.trainer.max_steps else steps


@contextlib.contextmanager
def stop_on_signals(trainer: Trainer) -> Iterator[None]:
    """SIGTERM/SIGINT finish the current step, save a checkpoint, then stop the run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, frame: Any) -> None:
        trainer.stop_signal = signum

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def summarize(cfg: DictConfig, status: str, rows: list[dict[str, float]], steps: int,
              train_loss: float, wall_time_s: float) -> dict[str, Any]:
    """metrics.json: status, objective, final and best eval values, steps, wall time. ``rows``
    is empty when a run without eval_at_start diverged before its first evaluation. final
    train_loss is the evaluated one with trainer.eval_train, else the last batch's."""
    last = rows[-1] if rows else {}
    final = {k: _finite_or_none(v) for k, v in last.items() if k not in ("step", "epoch")}
    best = {}
    for key in final:
        values = [r[key] for r in rows if key in r and math.isfinite(r[key])]
        pick = min if key in LOWER_IS_BETTER else max
        best[key] = pick(values) if values else None
    final.setdefault("train_loss", _finite_or_none(train_loss))  # last batch, unless evaluated
    metric, mode = cfg.objective.metric, cfg.objective.mode
    value = (final if cfg.objective.reduce == "final" else best).get(metric)
    objective = worst(mode) if status != "completed" or value is None else value
    return {"status": status, "objective": objective, "final": final, "best": best,
            "steps": steps, "wall_time_s": round(wall_time_s, 3)}


def _resumable(run: RunDir, chash: str) -> dict[str, Any] | None:
    if not run.checkpoint.exists():
        return None
    checkpoint = torch.load(run.checkpoint, map_location="cpu", weights_only=False)
    return checkpoint if checkpoint.get("config_hash") == chash else None


def _hparams(cfg: DictConfig) -> dict[str, Any]:
    flat = {"data": cfg.data.name, "model": cfg.model.name, "optimizer": cfg.optimizer.name,
            "schedule": cfg.schedule.name, "init": cfg.init.name, "seed": cfg.seed}
    flat |= {f"optimizer.{k}": v for k, v in cfg.optimizer.items()
             if isinstance(v, int | float) and not isinstance(v, bool)}
    return flat


def run_training(cfg: DictConfig, run_dir: str | Path | None = None) -> float:
    """Train the run described by ``cfg`` in ``run_dir`` (default: Hydra's output dir)."""
    cfg = apply_profile(cfg)
    validate_config(cfg)
    if run_dir is None:
        from hydra.core.hydra_config import HydraConfig

        run_dir = HydraConfig.get().runtime.output_dir
    run = RunDir(Path(run_dir))
    chash = config_hash(cfg)
    if run.is_done(chash):
        metrics = run.read_metrics()
        log.info("%s: already done (%s), skipping", run.path, metrics["status"])
        return metrics["objective"]

    device = resolve_device(cfg.trainer.device)
    seed_everything(cfg.seed, cfg.trainer.deterministic)
    dtype = getattr(torch, cfg.trainer.dtype)
    data = load_data(cfg.data, Path(cfg.paths.data), device, dtype)
    model = build_model(cfg.model, data.spec)
    apply_parameterization(model, cfg.model, cfg.init)  # on the CPU: the same draws on any device
    model = model.to(device=device, dtype=dtype)
    if cfg.trainer.channels_last and data.spec.kind == "image":
        model = model.to(memory_format=torch.channels_last)
    optimizer = build_optimizer(cfg.optimizer, param_groups(model, cfg.model, cfg.init,
                                                            cfg.optimizer, data.spec))
    batches = make_train_batches(data, cfg.data, cfg.seed, dtype)
    total = count_steps(cfg, batches.steps_per_epoch)
    loss_fn = batch_loss(model.task, **task_options(cfg.trainer, data.extras))
    first_batch = next(batches.epoch(0))
    probe = CatapultProbe(model, optimizer, loss_fn, first_batch, cfg.trainer.grad_clip)
    lr_control = build_lr_control(cfg.schedule, cfg.init, cfg.optimizer,
                                  batches.steps_per_epoch, total, probe)
    trainer = Trainer(cfg, run, data, model, optimizer, lr_control, batches, total, device)

    checkpoint = _resumable(run, chash)
    if checkpoint is None:
        run.reset()
    run.start(cfg, collect_meta(cfg.seed, chash, str(device)), trainer.history_columns,
              trainer.eval_columns, LAYER_COLUMNS if cfg.trainer.layer_stats else None)
    if checkpoint is not None:
        trainer.load_checkpoint(checkpoint)
        run.truncate(trainer.state.step)
        log.info("%s: resuming at step %d of %d", run.path, trainer.state.step, total)
    else:
        lr_control.start()  # the catapult search (first training batch); nothing for schedules
    log.info("%s: %s/%s %s %s seed=%d, %d steps (%d per epoch) on %s", run.path, cfg.data.name,
             cfg.model.name, cfg.optimizer.name, cfg.schedule.name, cfg.seed, total,
             batches.steps_per_epoch, device)

    start_step = trainer.state.step
    if cfg.trainer.tensorboard:
        trainer.writer = SummaryWriter(str(run.tb), purge_step=start_step or None)
    trainer.progress = make_progress(cfg.trainer.progress, total, start_step, run.path.name)
    try:
        with stop_on_signals(trainer):
            status, rows = trainer.fit(chash)
    except RunInterrupted as stop:
        log.warning("%s: %s; checkpoint saved, rerun the same command to resume", run.path, stop)
        raise SystemExit(128 + stop.signum) from None
    finally:
        if trainer.progress is not None:
            trainer.progress.close()

    metrics = summarize(cfg, status, rows, trainer.state.step, trainer.state.last_train_loss,
                        trainer.state.wall_time_s) | trainer.report()
    if trainer.writer is not None:
        scalars = {f"hparam/{k}": v for k, v in metrics["final"].items() if v is not None}
        for summary in hparams(_hparams(cfg), scalars):
            trainer.writer.file_writer.add_summary(summary)
        for key, value in scalars.items():
            trainer.writer.add_scalar(key, value, trainer.state.step)
        trainer.writer.close()
    if cfg.trainer.keep_checkpoint:
        trainer.save_checkpoint(chash)  # the final state, for analyses after training
    else:
        run.checkpoint.unlink(missing_ok=True)
    run.finish(metrics)
    log.info("%s: %s, objective %s=%s", run.path, status, cfg.objective.metric,
             metrics["objective"])
    return metrics["objective"]
