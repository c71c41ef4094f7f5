"""The training loop, readable top to bottom: set the LR, step, log, evaluate, checkpoint.

Host syncs are batched: per-step losses stay on the device and are read back every
``trainer.sync_every`` steps (and at epoch ends), where history rows are written and divergence
is checked. Two options add syncs: sharpness measurements (``trainer.sharpness_every``) and the
persistent-catapult warmup, whose LR controller reads the loss on a fixed batch after every
warmup step (lrstudy.init.control). Everything a resumed run needs is in the checkpoint (the LR
controller's state included), and batches are a pure function of (seed, epoch, index), so an
interrupted run continues exactly as if it had never stopped.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig
from torch import nn

from lrstudy.data import DeviceData, TrainBatches, eval_batches
from lrstudy.engine.files import save_torch
from lrstudy.engine.layers import layer_rows, snapshot
from lrstudy.engine.progress import Progress
from lrstudy.engine.rundir import EVAL_COLUMNS, HISTORY_COLUMNS, TRAIN_EVAL_COLUMNS, RunDir
from lrstudy.engine.sharpness import SharpnessMonitor, fixed_batches
from lrstudy.engine.tasks import TASKS, batch_loss, has_accuracy, task_options
from lrstudy.init import LRControl
from lrstudy.optim import rescale_weights
from lrstudy.schedules import weight_rescales

log = logging.getLogger(__name__)


class RunInterrupted(Exception):
    """Raised after the checkpoint is saved when SIGTERM/SIGINT asked the run to stop."""

    def __init__(self, signum: int, step: int) -> None:
        super().__init__(f"interrupted by signal {signum} at step {step}")
        self.signum = signum
        self.step = step


@dataclass
class LoopState:
    """Mutable progress of a run; everything here goes into the checkpoint."""

    step: int = 0
    initial_loss: float | None = None
    wall_time_s: float = 0.0
    carried: Any = None  # LSTM state carried across consecutive batches
    last_train_loss: float = math.nan
    # (step, lr, loss on the device, measured values or None) not yet in history.csv
    pending: list[tuple[int, float, torch.Tensor, dict[str, float] | None]] = field(
        default_factory=list)
    sharpness: dict[str, float] = field(
        default_factory=lambda: {"measurements": 0, "hvps": 0, "seconds": 0.0})
    weights_at_eval: dict[str, torch.Tensor] | None = None  # layers.csv's angle reference


class Trainer:
    def __init__(self, cfg: DictConfig, run: RunDir, data: DeviceData, model: nn.Module,
                 optimizer: torch.optim.Optimizer, lr_control: LRControl,
                 batches: TrainBatches, total_steps: int, device: torch.device) -> None:
        self.cfg, self.run, self.data = cfg, run, data
        self.module = model  # uncompiled: its state_dict goes into checkpoints
        self.model = torch.compile(model) if cfg.trainer.compile else model
        self.optimizer, self.lr_control, self.batches = optimizer, lr_control, batches
        self.total_steps, self.device = total_steps, device
        self.dtype = getattr(torch, cfg.trainer.dtype)
        self.spe = batches.steps_per_epoch
        self.task = TASKS[model.task]
        self.task_kwargs = task_options(cfg.trainer, data.extras)
        self.sharpness: SharpnessMonitor | None = None
        if cfg.trainer.sharpness_every:
            self.sharpness = SharpnessMonitor(
                cfg.trainer, model, optimizer, batch_loss(model.task, **self.task_kwargs),
                fixed_batches(batches, cfg.trainer.sharpness_batches))
        extra_columns = self.sharpness.columns if self.sharpness is not None else ()
        self.history_columns = (*HISTORY_COLUMNS, *extra_columns)
        self.eval_splits = ("val", "test") if data.val is not None else ("test",)
        self.eval_columns = EVAL_COLUMNS
        if cfg.trainer.eval_train:
            self.eval_splits += ("train",)
            self.eval_columns += TRAIN_EVAL_COLUMNS
        self.rescales = weight_rescales(cfg.schedule, self.spe)  # TEXP++ phase boundaries
        # plain copies of the settings read every step: OmegaConf lookups cost microseconds
        trainer = cfg.trainer
        self.eval_every = trainer.eval_every_steps or self.spe
        self.sync_every = int(trainer.sync_every)
        self.grad_clip = trainer.grad_clip
        self.layer_stats = trainer.layer_stats
        self.bf16 = trainer.precision == "bf16"
        self.channels_last = trainer.channels_last and data.spec.kind == "image"
        self.state = LoopState()
        self.stop_signal: int | None = None
        self.writer = None
        self.progress: Progress | None = None

    # --- one step ------------------------------------------------------------------------

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.bf16:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def train_step(self, x: torch.Tensor, y: torch.Tensor,
                   measured: dict[str, float] | None = None) -> None:
        step = self.state.step
        if step in self.rescales:
            rescale_weights(self.optimizer, self.rescales[step])
        lr = self.lr_control.lr(step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        with self.autocast():
            result = self.task(self.model, self.prepare_input(x), y, self.state.carried,
                               **self.task_kwargs)
        self.optimizer.zero_grad(set_to_none=True)
        result.loss.backward()
        if self.grad_clip:
            nn.utils.clip_grad_norm_(self.module.parameters(), self.grad_clip)
        self.optimizer.step()
        self.state.carried = result.state
        self.state.pending.append((step, lr, result.loss.detach(), measured))
        self.state.step = step + 1
        self.lr_control.observe(step + 1)

    # --- evaluation ----------------------------------------------------------------------

    @torch.no_grad()
    def measure(self, split: str) -> tuple[float, float]:
        """(mean loss, accuracy) over a whole split; accuracy is NaN where it has no meaning."""
        self.model.eval()
        count, carried = 0, None
        totals = torch.zeros(2, device=self.device, dtype=torch.float64)
        for x, y in eval_batches(self.data, split, self.cfg.data, self.dtype):
            with self.autocast():
                result = self.task(self.model, self.prepare_input(x), y, carried,
                                   **self.task_kwargs)
            carried = result.state
            totals[0] += result.loss.double() * result.count
            if result.correct is not None:
                totals[1] += result.correct.double()
            count += result.count
        self.model.train()
        loss_sum, correct = totals.tolist()
        accuracy = correct / count if has_accuracy(self.module.task) else math.nan
        return loss_sum / count, accuracy

    def evaluate(self) -> dict[str, float]:
        row = {"step": self.state.step, "epoch": self.state.step / self.spe}
        row |= {"val_loss": math.nan, "val_acc": math.nan}
        for split in self.eval_splits:
            row[f"{split}_loss"], row[f"{split}_acc"] = self.measure(split)
        self.run.append(self.run.eval, [row.values()])
        if self.layer_stats:
            self.log_layers()
        if self.writer is not None:
            for key, value in row.items():
                if key not in ("step", "epoch") and math.isfinite(value):
                    tag = key.replace("_", "_eval/" if key.startswith("train") else "/", 1)
                    self.writer.add_scalar(tag, value, self.state.step)
        log.info("step %d  epoch %.2f  %s", self.state.step, row["epoch"], "  ".join(
            f"{k} {v:.4g}" for k, v in row.items() if k not in ("step", "epoch")))
        return row

    def log_layers(self) -> None:
        """layers.csv rows for this evaluation; the weights become the next angle's reference."""
        now = snapshot(self.module)
        rows = layer_rows(self.state.step, self.state.step / self.spe, now,
                          self.state.weights_at_eval)
        self.run.append(self.run.layers, rows)
        self.state.weights_at_eval = now

    # --- host sync: history rows and divergence ------------------------------------------

    def flush(self) -> bool:
        """Write pending history rows; True if the loss diverged (the rows stop there)."""
        if not self.state.pending:
            return False
        losses = torch.stack([p[2] for p in self.state.pending]).double().tolist()
        if self.state.initial_loss is None:
            self.state.initial_loss = losses[0]
        limit = self.cfg.trainer.divergence_factor * abs(self.state.initial_loss)
        extra_columns = self.history_columns[len(HISTORY_COLUMNS):]
        rows, diverged = [], False
        for (step, lr, _, measured), loss in zip(self.state.pending, losses, strict=True):
            extras = [(measured or {}).get(c) for c in extra_columns]
            rows.append((step, step / self.spe, lr, loss, *extras))
            if not math.isfinite(loss) or loss > limit:
                diverged = True
                break
        self.run.append(self.run.history, rows)
        if self.writer is not None:
            for step, _, lr, loss, *extras in rows:
                self.writer.add_scalar("lr", lr, step)
                if math.isfinite(loss):
                    self.writer.add_scalar("train/loss", loss, step)
                for column, value in zip(extra_columns, extras, strict=True):
                    if value is not None and math.isfinite(value):
                        self.writer.add_scalar(column, value, step)
        self.state.last_train_loss = rows[-1][3]
        self.state.pending.clear()
        if self.progress is not None:
            self.progress.update(self.state.step, rows[-1][2], rows[-1][3])
        return diverged

    # --- checkpoint ----------------------------------------------------------------------

    def save_checkpoint(self, chash: str) -> None:
        state = self.state
        save_torch(self.run.checkpoint, {
            "config_hash": chash,
            "step": state.step,
            "initial_loss": state.initial_loss,
            "wall_time_s": state.wall_time_s,
            "last_train_loss": state.last_train_loss,
            "carried": state.carried,
            "sharpness": state.sharpness,
            "weights_at_eval": state.weights_at_eval,
            "lr_control": self.lr_control.state_dict(),
            "model": self.module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                "numpy": np.random.get_state(),
                "python": random.getstate(),
            },
        })

    def load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.module.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.lr_control.load_state_dict(checkpoint["lr_control"])
        rng = checkpoint["rng"]
        torch.set_rng_state(rng["torch"])
        if rng["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        np.random.set_state(rng["numpy"])
        random.setstate(rng["python"])
        self.state = LoopState(step=checkpoint["step"], initial_loss=checkpoint["initial_loss"],
                               wall_time_s=checkpoint["wall_time_s"],
                               carried=checkpoint["carried"],
                               last_train_loss=checkpoint["last_train_loss"],
                               sharpness=checkpoint["sharpness"],
                               weights_at_eval=checkpoint["weights_at_eval"])

    # --- the loop ------------------------------------------------------------------------

    def epochs(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Training batches from the current step to the end of the run."""
        while self.state.step < self.total_steps:
            epoch, start = divmod(self.state.step, self.spe)
            if start == 0:
                self.state.carried = None  # DeepOBS resets the LSTM state every epoch
            for batch in self.batches.epoch(epoch, start):
                yield batch
                if self.state.step >= self.total_steps:
                    return

    def fit(self, chash: str) -> tuple[str, list[dict[str, float]]]:
        """Train to the end (or divergence); returns the status and the eval rows."""
        started = time.perf_counter()
        self.model.train()
        if self.state.step == 0 and self.cfg.trainer.eval_at_start:
            self.evaluate()
        status = "completed"
        for x, y in self.epochs():
            measured = None
            if self.sharpness is not None and self.sharpness.due(self.state.step):
                measured = self.sharpness.measure(self.state.sharpness)
            self.train_step(x, y, measured)
            step = self.state.step
            at_epoch_end = step % self.spe == 0
            sync_due = (step % self.sync_every == 0 or at_epoch_end
                        or step == self.total_steps or self.stop_signal is not None)
            if sync_due and self.flush():
                status = "diverged"
                break
            if step % self.eval_every == 0 or step == self.total_steps:
                row = self.evaluate()
                if not math.isfinite(row["test_loss"]):
                    status = "diverged"
                    break
            if at_epoch_end or self.stop_signal is not None:
                self.state.wall_time_s += time.perf_counter() - started
                started = time.perf_counter()
                self.save_checkpoint(chash)
            if self.stop_signal is not None:
                raise RunInterrupted(self.stop_signal, step)
        self.state.wall_time_s += time.perf_counter() - started
        return status, self.run.read_eval()

    def report(self) -> dict[str, Any]:
        """metrics.json entries beyond the run contract: the init search, the sharpness cost."""
        extra: dict[str, Any] = {}
        if summary := self.lr_control.summary():
            extra["init"] = summary
        if self.sharpness is not None:
            extra["sharpness"] = self.sharpness.summary(self.state.sharpness,
                                                        self.state.wall_time_s)
        return extra
