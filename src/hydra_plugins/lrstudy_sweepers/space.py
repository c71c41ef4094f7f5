"""Search space from Hydra's override grammar: ``interval(a, b)``, ``tag(log, interval(a, b))``,
``choice(...)`` / ``a,b`` / ``range(...)``; other overrides are passed to every job unchanged."""

from __future__ import annotations

import logging
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

from lrstudy.bandits import Choice, Interval, SearchSpace

log = logging.getLogger(__name__)


def parse_space(params: dict[str, str], arguments: list[str],
                hydra_context: Any = None) -> tuple[SearchSpace, list[str]]:
    """(search space, fixed overrides) from ``hydra.sweeper.params`` and the command line; a
    dimension given in both places takes the command line's."""
    loader = getattr(hydra_context, "config_loader", None)
    parser = OverridesParser.create(config_loader=loader)
    merged = {k: f"{k}={v}" for k, v in params.items()}
    for override in parser.parse_overrides(arguments):
        merged[override.get_key_element()] = override.input_line
    intervals, choices, fixed = [], [], []
    for override in parser.parse_overrides(list(merged.values())):
        key = override.get_key_element()
        if not override.is_sweep_override():
            fixed.append(f"{key}={override.get_value_element_as_str()}")
        elif override.is_discrete_sweep():
            choices.append(Choice(key, tuple(override.sweep_string_iterator())))
        elif override.is_interval_sweep():
            sweep = override.value()
            try:
                intervals.append(Interval(key, float(sweep.start), float(sweep.end),
                                          log="log" in sweep.tags))
            except ValueError as error:
                raise HydraException(f"hydra.sweeper.params.{error}") from None
        else:
            raise HydraException(f"hydra.sweeper.params.{key}: unsupported sweep "
                                 f"{override.input_line!r}")
    if not intervals and not choices:
        log.warning("hydra.sweeper.params: no dimension to search; every job runs the same "
                    "config (give interval(a,b), tag(log, interval(a,b)) or choice(...))")
    return SearchSpace(tuple(intervals), tuple(choices)), fixed
