"""Train one run: ``python src/train.py [overrides]``; ``-m`` sweeps. Returns the objective."""

import hydra
from omegaconf import DictConfig

from lrstudy.config import register_configs
from lrstudy.engine.run import run_training
from lrstudy.paths import register_resolvers

register_configs()
register_resolvers()


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float:
    return run_training(cfg)


if __name__ == "__main__":
    main()
