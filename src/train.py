"""Train one run: ``python src/train.py [overrides]``; ``-m`` sweeps. Returns the objective."""

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from lrstudy.config import register_configs
from lrstudy.engine.run import run_training
from lrstudy.errors import ConfigError, DataError
from lrstudy.paths import register_resolvers

register_configs()
register_resolvers()


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float:
    try:
        return run_training(cfg)
    except (ConfigError, DataError) as error:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise  # the sweep records this job as failed and its sweeper decides
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
