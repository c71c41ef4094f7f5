"""Datasets: prepared once into canonical tensor files, then served as device-resident batches."""

from lrstudy.data.batches import TrainBatches, eval_batches, make_train_batches
from lrstudy.data.load import load_data
from lrstudy.data.prepare import DATASETS, prepare
from lrstudy.data.spec import DataSpec, DeviceData

__all__ = [
    "DATASETS",
    "DataSpec",
    "DeviceData",
    "TrainBatches",
    "eval_batches",
    "load_data",
    "make_train_batches",
    "prepare",
]
