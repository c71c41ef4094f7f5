"""Bandit sweepers for Hydra: ``hydra/sweeper=zooming|blie|hyperopt|random``."""
