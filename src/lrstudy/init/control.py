"""Who sets the LR each step: a pure schedule, or a controller that watches the run.

The engine asks ``lr(step)`` before optimizer step ``step`` and calls ``observe(step)`` once the
parameters are theta_step. ``start()`` runs once, before step 0 of a fresh run (a resumed run
loads ``state_dict()`` from its checkpoint instead), so searches are never repeated and a resumed
run follows the same LR path. Pure schedules (``none``, ``linear_warmup``) are wrapped in
:class:`FixedSchedule`, which does nothing but call the schedule.

Catapult options (PAPERS.md 4.5) choose the initial LR with the loss-catapult search on the first
training batch (:mod:`lrstudy.init.catapult`):

- ``catapult``: eta_init = eta_c, then linear warmup to the target eta_trgt at the configured
  rate (eta_trgt / T_wrm), which reaches it after T_reach = ceil(T_wrm (1 - eta_c / eta_trgt))
  steps: T_wrm - T_reach warmup steps saved (T_reach = 0 when eta_c >= eta_trgt).
- ``persistent_catapult`` (Algorithm 3): start at eta_c; after every step, while eta < eta_trgt,
  evaluate the loss on the fixed batch (one forward pass and one host sync per step) and, once it
  falls below the reference L(theta*), search again from theta_t, starting at the current eta,
  and set eta to the result and theta* to theta_t. The LR never exceeds the schedule's value,
  which it follows once reached.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from lrstudy.errors import ConfigError
from lrstudy.init.catapult import CatapultProbe, SearchResult
from lrstudy.init.warmup import SEARCHED, LinearWarmup, build_lr_schedule, check_warmup
from lrstudy.schedules import LRFunction, build_schedule

log = logging.getLogger(__name__)


class LRControl(Protocol):
    def start(self) -> None: ...
    def lr(self, step: int) -> float: ...
    def observe(self, step: int) -> None: ...
    def summary(self) -> dict[str, Any]: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@dataclass
class FixedSchedule:
    """A pure schedule: nothing to search, observe or save."""

    lr_at: LRFunction

    def start(self) -> None:
        pass

    def lr(self, step: int) -> float:
        return self.lr_at(step)

    def observe(self, step: int) -> None:
        pass

    def summary(self) -> dict[str, Any]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        pass


@dataclass(frozen=True)
class SearchSettings:
    lr0: float  # first candidate of the initial search
    growth: float  # factor of the exponential search
    delta: float  # tolerance of the bisection, relative to L_0


def adam_family(optimizer_cfg: Mapping[str, Any]) -> bool:
    """Adam and its relatives (the options with Adam's beta2), by config."""
    return "beta2" in optimizer_cfg


def search_settings(init_cfg: Mapping[str, Any], optimizer_cfg: Mapping[str, Any]
                    ) -> SearchSettings:
    """delta defaults to the paper's 0.1 for SGD and 0.01 for Adam-family optimizers."""
    delta = init_cfg["delta"]
    if delta is None:
        delta = 0.01 if adam_family(optimizer_cfg) else 0.1
    if not 0 < delta <= 1:
        raise ConfigError(f"init.delta={delta} must lie in (0, 1]")
    if init_cfg["lr0"] <= 0:
        raise ConfigError(f"init.lr0={init_cfg['lr0']} must be > 0")
    if init_cfg["growth"] <= 1:
        raise ConfigError(f"init.growth={init_cfg['growth']} must be > 1")
    if init_cfg["init_lr"] != 0:
        raise ConfigError(f"init.init_lr={init_cfg['init_lr']} is chosen by the search for "
                          f"init={init_cfg['name']}; leave it at 0")
    return SearchSettings(init_cfg["lr0"], init_cfg["growth"], delta)


def _search(probe: CatapultProbe | None, target: float, lr0: float,
            settings: SearchSettings) -> tuple[SearchResult, float]:
    if probe is None:
        raise RuntimeError("a catapult search needs the run's CatapultProbe")
    started = time.perf_counter()
    result = probe.search(target, lr0, settings.growth, settings.delta)
    return result, time.perf_counter() - started


class CatapultWarmup:
    """eta_init = eta_c, then linear warmup to the target at the configured rate."""

    def __init__(self, make_schedule: Callable[[int], LRFunction], warmup_steps: int,
                 settings: SearchSettings, probe: CatapultProbe | None) -> None:
        self.make_schedule, self.warmup_steps = make_schedule, warmup_steps
        self.settings, self.probe = settings, probe
        self.target = make_schedule(warmup_steps)(0)
        self.state: dict[str, Any] = {}
        self.schedule: LRFunction | None = None

    def start(self) -> None:
        result, seconds = _search(self.probe, self.target, self.settings.lr0, self.settings)
        self.load_state_dict({"eta_c": result.eta_c, "loss_0": result.loss_0,
                              "forward_passes": result.forward_passes, "seconds": seconds})
        log.info("catapult search: eta_c=%.4g (target %.4g) in %d forward passes; warmup %d "
                 "steps instead of %d", result.eta_c, self.target, result.forward_passes,
                 self.reach, self.warmup_steps)

    @property
    def reach(self) -> int:
        """T_reach: warmup steps at the configured rate from eta_c to the target."""
        fraction = 1 - min(self.state["eta_c"] / self.target, 1.0)
        return math.ceil(self.warmup_steps * fraction - 1e-9)  # 1e-9: 50.000000001 is 50

    def lr(self, step: int) -> float:
        return self.schedule(step)

    def observe(self, step: int) -> None:
        pass

    def summary(self) -> dict[str, Any]:
        saved = self.warmup_steps - self.reach
        return {"eta_c": self.state["eta_c"], "target_lr": self.target,
                "loss_0": self.state["loss_0"], "forward_passes": self.state["forward_passes"],
                "warmup_steps": self.reach, "warmup_steps_configured": self.warmup_steps,
                "warmup_steps_saved": saved,
                # the paper's net saving: T_save = T_wrm * eta_c / eta_trgt - T_fp / 2
                "net_steps_saved": saved - self.state["forward_passes"] / 2,
                "search_seconds": self.state["seconds"]}

    def state_dict(self) -> dict[str, Any]:
        return dict(self.state)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.state = dict(state)
        reach = self.reach
        inner = self.make_schedule(reach)
        self.schedule = LinearWarmup(inner, reach, self.state["eta_c"]) if reach else inner


@dataclass
class PersistentState:
    eta: float = math.nan
    reference: float = math.nan  # L(theta*) on the fixed batch
    reached_at: int | None = None  # step at which eta reached the schedule
    forward_passes: int = 0
    seconds: float = 0.0
    searches: list[dict[str, float]] = field(default_factory=list)  # step, eta_c, passes


class PersistentCatapult:
    """Algorithm 3: an adaptive warmup that searches again whenever the loss has fallen."""

    def __init__(self, schedule: LRFunction, settings: SearchSettings,
                 probe: CatapultProbe | None) -> None:
        self.schedule, self.settings, self.probe = schedule, settings, probe
        self.state = PersistentState()

    def _search_at(self, step: int, lr0: float) -> None:
        result, seconds = _search(self.probe, self.schedule(step), lr0, self.settings)
        state = self.state
        state.eta, state.reference = result.eta_c, result.loss_0
        state.forward_passes += result.forward_passes
        state.seconds += seconds
        state.searches.append({"step": step, "eta_c": result.eta_c,
                               "forward_passes": result.forward_passes})
        log.info("persistent catapult: step %d, eta=%.4g after %d forward passes", step,
                 result.eta_c, result.forward_passes)

    def start(self) -> None:
        self._search_at(0, self.settings.lr0)

    def lr(self, step: int) -> float:
        target = self.schedule(step)
        return target if self.state.reached_at is not None else min(self.state.eta, target)

    def observe(self, step: int) -> None:
        state = self.state
        if state.reached_at is not None:
            return
        if state.eta >= self.schedule(step):
            state.reached_at = step
            return
        started = time.perf_counter()
        loss = self.probe.loss()  # one forward pass and a host sync, every step of the warmup
        state.forward_passes += 1
        state.seconds += time.perf_counter() - started
        if loss < state.reference:
            self._search_at(step, state.eta)

    def summary(self) -> dict[str, Any]:
        state = self.state
        return {"eta_c": state.searches[0]["eta_c"], "searches": len(state.searches),
                "search_log": state.searches, "reached_target_at_step": state.reached_at,
                "forward_passes": state.forward_passes, "search_seconds": state.seconds}

    def state_dict(self) -> dict[str, Any]:
        return {**vars(self.state), "searches": [dict(s) for s in self.state.searches]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.state = PersistentState(**state)


def build_lr_control(schedule_cfg: Mapping[str, Any], init_cfg: Mapping[str, Any],
                     optimizer_cfg: Mapping[str, Any], steps_per_epoch: int, total_steps: int,
                     probe: CatapultProbe | None = None) -> LRControl:
    """The run's LR: checks every value now; catapult options search only at ``start()``
    (``probe`` may be None for a dry build that only validates)."""
    base_lr = optimizer_cfg["lr"]
    name = init_cfg["name"]
    if name not in SEARCHED:
        return FixedSchedule(build_lr_schedule(schedule_cfg, init_cfg, base_lr, steps_per_epoch,
                                               total_steps))
    settings = search_settings(init_cfg, optimizer_cfg)
    warm = check_warmup(init_cfg, steps_per_epoch, total_steps)

    def make_schedule(warmup: int) -> LRFunction:
        return build_schedule(schedule_cfg, base_lr, steps_per_epoch, total_steps - warmup)

    if name == "catapult":
        if warm == 0:
            raise ConfigError("init=catapult warms up from eta_c: set init.warmup_steps or "
                              "init.warmup_epochs > 0")
        return CatapultWarmup(make_schedule, warm, settings, probe)
    if warm:
        raise ConfigError("init=persistent_catapult sets its own warmup length: "
                          "init.warmup_steps and init.warmup_epochs must be 0")
    return PersistentCatapult(make_schedule(0), settings, probe)
