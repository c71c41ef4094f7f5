"""Loop overhead: lrstudy's training engine vs a bare PyTorch loop, same model and same batches.

The engine's time is its fit() wall time from metrics.json, which includes everything a run does
per step (schedule, LR write, history rows, TensorBoard scalars, divergence checks, per-epoch
checkpoints) plus one tiny final evaluation. The baseline is the minimal loop: zero_grad,
forward, cross-entropy, backward, step over the identical batches. Medians of `--repeats` runs,
alternating the two so machine drift hits both.

    python bench/loop_overhead.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir

from lrstudy.config import register_configs
from lrstudy.data import load_data, make_train_batches
from lrstudy.engine.run import run_training
from lrstudy.models import build_model
from lrstudy.paths import register_resolvers

CONF = Path(__file__).resolve().parents[1] / "conf"
CASES = {  # name: (model overrides, input shape, batch size, steps)
    "fcn-3x512 (MNIST-shaped)": (["model=fcn"], [1, 28, 28], 128, 300),
    "cnn_3c3d (CIFAR-shaped)": (["model=cnn_3c3d"], [3, 32, 32], 128, 60),
}


def make_cfg(model: list[str], shape: list[int], batch: int, steps: int, data_root: str):
    overrides = [*model, "data=synthetic", f"data.shape=[{','.join(map(str, shape))}]",
                 f"data.batch_size={batch}", f"data.train_size={batch * steps}",
                 "data.test_size=128", "data.val_size=0", "data.eval_batch_size=128",
                 "objective.metric=test_loss", "trainer.eval_at_start=false",
                 "trainer.epochs=1", "trainer.progress=off", "optimizer=sgd",
                 "schedule=constant", f"paths.data={data_root}"]
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


def time_engine(cfg, workdir: Path, index: int) -> float:
    run_dir = workdir / f"engine-{index}"
    run_training(cfg, run_dir)
    return json.loads((run_dir / "metrics.json").read_text())["wall_time_s"]


def time_bare(cfg) -> float:
    torch.manual_seed(cfg.seed)
    data = load_data(cfg.data, Path(cfg.paths.data), torch.device("cpu"))
    model = build_model(cfg.model, data.spec)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.optimizer.lr)
    batches = make_train_batches(data, cfg.data, cfg.seed)
    start = time.perf_counter()
    for x, y in batches.epoch(0):
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    register_configs()
    register_resolvers()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (model, shape, batch, steps) in CASES.items():
            cfg = make_cfg(model, shape, batch, steps, str(Path(tmp) / "data"))
            time_bare(cfg)  # warm-up: data preparation, allocator, kernels
            engine, bare = [], []
            for i in range(args.repeats):
                engine.append(time_engine(cfg, Path(tmp), len(results) * 100 + i))
                bare.append(time_bare(cfg))
            e, b = statistics.median(engine), statistics.median(bare)
            results.append({"case": name, "steps": steps, "batch": batch,
                            "engine_steps_per_s": round(steps / e, 1),
                            "bare_steps_per_s": round(steps / b, 1),
                            "overhead_pct": round(100 * (e / b - 1), 1)})
            print(json.dumps(results[-1]), flush=True)
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print("| case | steps | engine steps/s | bare steps/s | overhead |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['case']} | {r['steps']} | {r['engine_steps_per_s']} | "
              f"{r['bare_steps_per_s']} | {r['overhead_pct']:+.1f}% |")


if __name__ == "__main__":
    main()
