"""Draw learning-rate schedules exactly as training uses them: ``python src/plot_schedules.py``.

Each schedule is composed from conf/train.yaml with ``schedule=<name>`` (plus ``overrides``) and
built by the code a run uses (lrstudy.init.build_lr_schedule, so an ``init`` warmup shows too).
Writes <out_dir>/<stem>.png and .pdf (one panel per schedule) and <stem>.csv (per-step values:
step, epoch, then lr_<name> per schedule; "lr_" since one schedule is called "step"). Examples:

    python src/plot_schedules.py 'names=[cosine,log_anneal]' epochs=100
    python src/plot_schedules.py 'names=[cosine]' 'overrides=["schedule.min_lr=0.01"]' log_y=true

(Hydra needs the quotes around list items that contain "=".)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import hydra
import pandas as pd
from hydra import compose
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from omegaconf import DictConfig

from lrstudy.config import register_configs
from lrstudy.errors import ConfigError
from lrstudy.figures import save
from lrstudy.init import build_lr_schedule
from lrstudy.paths import register_resolvers

CONF = Path(__file__).resolve().parents[1] / "conf"
COLUMNS = 4
LOG_SPAN = 100.0  # log_y=auto: log scale when the 90th/10th percentile ratio exceeds this

register_configs()
register_resolvers()


def schedule_names() -> list[str]:
    """Every option of the conf/schedule group."""
    return sorted(path.stem for path in (CONF / "schedule").glob("*.yaml"))


def schedule_table(names: Sequence[str], overrides: Sequence[str], base_lr: float,
                   steps_per_epoch: int, epochs: float) -> pd.DataFrame:
    """Per-step LR of each schedule, composed and built as a run does (in an initialised Hydra)."""
    total = round(epochs * steps_per_epoch)
    if total <= 0 or steps_per_epoch <= 0:
        raise ConfigError(f"epochs={epochs} x steps_per_epoch={steps_per_epoch} gives no steps")
    steps = range(total)
    table = {"step": list(steps), "epoch": [s / steps_per_epoch for s in steps]}
    for name in names:
        run = compose(config_name="train",
                      overrides=[f"schedule={name}", f"optimizer.lr={base_lr}", *overrides])
        lr_at = build_lr_schedule(run.schedule, run.init, run.optimizer.lr, steps_per_epoch,
                                  total)
        table[f"lr_{name}"] = [lr_at(s) for s in steps]
    return pd.DataFrame(table)


def _log_scale(values: pd.Series, log_y: bool | str) -> bool:
    if log_y == "auto":  # exponential-type schedules; a cosine's brief dip to ~0 stays linear
        return values.min() > 0 and values.quantile(0.9) / values.quantile(0.1) > LOG_SPAN
    return bool(log_y)


def draw(table: pd.DataFrame, log_y: bool | str) -> Figure:
    """One small panel per schedule (each with its own y range), sized for a two-column paper."""
    names = [column.removeprefix("lr_") for column in table.columns[2:]]
    rows = math.ceil(len(names) / COLUMNS)
    cols = min(COLUMNS, len(names))
    fig = Figure(figsize=(1.75 * cols, 1.35 * rows + 0.35), layout="constrained")
    FigureCanvasAgg(fig)
    axes = list(fig.subplots(rows, cols, sharex=True, squeeze=False).flat)
    for ax in axes[len(names):]:
        ax.remove()
    for ax, name in zip(axes, names, strict=False):
        values = table[f"lr_{name}"]
        ax.plot(table["epoch"], values, lw=1.0, color="C0")
        ax.set_title(name, fontsize=8, pad=2)
        if _log_scale(values, log_y):
            ax.set_yscale("log")
        ax.tick_params(labelsize=6.5, length=2, pad=1.5)
        ax.yaxis.get_offset_text().set_fontsize(6.5)
        ax.grid(alpha=0.3, lw=0.4)
    fig.supxlabel("epoch", fontsize=8)
    fig.supylabel("learning rate", fontsize=8)
    return fig


def plot_schedules(cfg: DictConfig) -> Path:
    """Compose and draw ``cfg.names`` (all options if null); write the PNG, PDF and CSV."""
    if cfg.log_y not in (True, False, "auto"):
        raise ConfigError(f"log_y={cfg.log_y!r} must be true, false or auto")
    names = list(cfg.names) if cfg.names else schedule_names()
    table = schedule_table(names, list(cfg.overrides), cfg.base_lr, cfg.steps_per_epoch,
                           cfg.epochs)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f"{cfg.stem}.csv", index=False, float_format="%.8g")
    fig = draw(table, cfg.log_y)
    save(fig, out / cfg.stem)
    return out


@hydra.main(version_base="1.3", config_path="../conf", config_name="plot_schedules")
def main(cfg: DictConfig) -> None:
    print(f"wrote {plot_schedules(cfg)}/{cfg.stem}.{{png,pdf,csv}}")


if __name__ == "__main__":
    main()
