"""One matplotlib style for every paper figure: mean lines with interval bands, PNG + PDF."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

STYLE = {
    "figure.figsize": (3.4, 2.5),  # one column of a two-column paper
    "figure.dpi": 150,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.2,
}


def new_figure(ncols: int = 1, width: float = 3.4, height: float = 2.5):
    plt.rcParams.update(STYLE)
    return plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)


def band(ax, frame: pd.DataFrame, x: str, label: str, color=None,
         limits: tuple[float, float] | None = None) -> None:
    """Mean line with its 95% t-interval band (where the interval exists), the band clipped to
    the metric's valid ``limits`` (e.g. accuracy in [0, 1]): with 2-3 seeds a t-interval can
    reach far outside them."""
    frame = frame.sort_values(x)
    line = ax.plot(frame[x], frame["mean"], label=label, color=color)[0]
    low, high = frame["t_low"], frame["t_high"]
    if limits is not None:
        low, high = low.clip(*limits), high.clip(*limits)
    ax.fill_between(frame[x], low, high, color=line.get_color(), alpha=0.2, linewidth=0)


def save(fig, path: Path) -> list[Path]:
    """Write ``path`` as .png and .pdf; returns both paths."""
    path.parent.mkdir(parents=True, exist_ok=True)
    outputs = [path.with_suffix(".png"), path.with_suffix(".pdf")]
    fig.savefig(outputs[0], dpi=200)
    fig.savefig(outputs[1], metadata={"CreationDate": None})  # same bytes on every rebuild
    plt.close(fig)
    return outputs
