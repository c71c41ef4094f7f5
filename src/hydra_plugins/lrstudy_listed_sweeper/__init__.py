"""Hydra sweeper that launches an explicit list of jobs (``hydra/sweeper=listed``)."""
