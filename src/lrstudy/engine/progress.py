"""A progress bar on a terminal; nothing (the log lines suffice) in batch jobs and pipes."""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    def __init__(self, total: int, initial: int, desc: str) -> None:
        self.bar = tqdm(total=total, initial=initial, desc=desc, unit="step", dynamic_ncols=True,
                        leave=False)

    def update(self, step: int, lr: float, loss: float) -> None:
        self.bar.update(step - self.bar.n)
        self.bar.set_postfix(lr=f"{lr:.3g}", loss=f"{loss:.4g}", refresh=False)

    def close(self) -> None:
        self.bar.close()


def make_progress(mode: str, total: int, initial: int, desc: str) -> Progress | None:
    """mode: on | off | auto (on only when stderr is a terminal)."""
    if mode == "on" or (mode == "auto" and sys.stderr.isatty()):
        return Progress(total, initial, desc)
    return None
