"""Errors that reach the user as one line (Hydra prints CompactHydraException without traceback)."""

from hydra.errors import CompactHydraException


class ConfigError(CompactHydraException):
    """An invalid configuration value or combination, found before training starts."""


class DataError(CompactHydraException):
    """A dataset that is missing, corrupt (checksum mismatch) or malformed."""
