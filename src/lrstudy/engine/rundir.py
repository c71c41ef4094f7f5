"""The run-directory contract (DESIGN.md): the files one run writes and how they are read back.

    config.yaml  history.csv  eval.csv  metrics.json  meta.json  tb/  DONE  checkpoint.pt

Options add columns, never change existing ones: history.csv gets sharpness columns
(trainer.sharpness_every), eval.csv train_loss/train_acc (trainer.eval_train); layers.csv
(trainer.layer_stats) holds per-tensor norms and angles at every evaluation.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import json
import math
import platform
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from lrstudy.engine.files import write_json, write_text

SCHEMA_VERSION = 1
HISTORY_COLUMNS = ("step", "epoch", "lr", "train_loss")
EVAL_COLUMNS = ("step", "epoch", "val_loss", "val_acc", "test_loss", "test_acc")
TRAIN_EVAL_COLUMNS = ("train_loss", "train_acc")  # eval.csv, with trainer.eval_train
# keys that do not change what a run computes, so they stay out of its config hash
HASH_EXCLUDED = (("paths",), ("trainer", "progress"))
PACKAGES = ("lrstudy", "torch", "torchvision", "timm", "hydra-core", "omegaconf", "numpy")


def config_hash(cfg: DictConfig) -> str:
    """sha256 of the resolved config minus paths and display options."""
    container = OmegaConf.to_container(cfg, resolve=True)
    for keys in HASH_EXCLUDED:
        node = container
        for key in keys[:-1]:
            node = node.get(key, {})
        node.pop(keys[-1], None)
    blob = json.dumps(container, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                             check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def collect_meta(seed: int, chash: str, device: str) -> dict[str, Any]:
    """Everything needed to tell two runs' provenance apart (schema, code, packages, device)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    status = _git("status", "--porcelain")
    return {
        "schema_version": SCHEMA_VERSION,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "packages": versions,
        "python": platform.python_version(),
        "device": device,
        "seed": seed,
        "config_hash": chash,
    }


def _fmt(value: Any) -> str:
    """CSV cell: floats round-trip exactly; None (not measured at this step) is empty."""
    if value is None:
        return ""
    return repr(float(value)) if isinstance(value, float) else str(value)


class RunDir:
    """One run's directory; every write is atomic or append-then-flush."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.config = self.path / "config.yaml"
        self.history = self.path / "history.csv"
        self.eval = self.path / "eval.csv"
        self.metrics = self.path / "metrics.json"
        self.meta = self.path / "meta.json"
        self.tb = self.path / "tb"
        self.done = self.path / "DONE"
        self.checkpoint = self.path / "checkpoint.pt"
        self.layers = self.path / "layers.csv"

    def is_done(self, chash: str) -> bool:
        """True when a finished run with this exact config hash is already here."""
        if not (self.done.exists() and self.meta.exists()):
            return False
        return json.loads(self.meta.read_text()).get("config_hash") == chash

    def read_metrics(self) -> dict[str, Any]:
        return json.loads(self.metrics.read_text())

    def reset(self) -> None:
        """Remove a stale run's outputs (different config or no usable checkpoint)."""
        for path in (self.history, self.eval, self.metrics, self.done, self.checkpoint,
                     self.layers):
            path.unlink(missing_ok=True)
        shutil.rmtree(self.tb, ignore_errors=True)

    def start(self, cfg: DictConfig, meta: Mapping[str, Any],
              history_columns: Sequence[str] = HISTORY_COLUMNS,
              eval_columns: Sequence[str] = EVAL_COLUMNS,
              layer_columns: Sequence[str] | None = None) -> None:
        """Write config and meta; create the CSVs with their headers (layers.csv only when
        ``layer_columns`` is given)."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_text(self.config, OmegaConf.to_yaml(cfg, resolve=True))
        write_json(self.meta, dict(meta))
        tables = [(self.history, history_columns), (self.eval, eval_columns)]
        if layer_columns is not None:
            tables.append((self.layers, layer_columns))
        for path, columns in tables:
            if not path.exists():
                write_text(path, ",".join(columns) + "\n")

    def truncate(self, step: int) -> None:
        """Drop rows written after the checkpoint at ``step`` (a crash may leave some)."""
        tables = [(self.history, lambda s: s < step), (self.eval, lambda s: s <= step)]
        if self.layers.exists():
            tables.append((self.layers, lambda s: s <= step))
        for path, keep in tables:
            with path.open() as handle:
                rows = list(csv.reader(handle))
            kept = [rows[0], *(r for r in rows[1:] if keep(int(r[0])))]
            write_text(path, "".join(",".join(r) + "\n" for r in kept))

    def append(self, path: Path, rows: Iterable[Iterable[Any]]) -> None:
        with path.open("a") as handle:
            handle.writelines(",".join(_fmt(v) for v in row) + "\n" for row in rows)

    def read_eval(self) -> list[dict[str, float]]:
        with self.eval.open() as handle:
            return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]

    def finish(self, metrics: Mapping[str, Any]) -> None:
        write_json(self.metrics, dict(metrics))
        write_text(self.done, "")


def worst(mode: str) -> float:
    """The objective a diverged run reports: worse than any finite value."""
    return math.inf if mode == "min" else -math.inf
