"""``python -m lrstudy.sweep aggregate SWEEP_DIR``: runs.csv, summary.csv and curves.csv."""

from __future__ import annotations

import argparse
from pathlib import Path

from lrstudy.sweep.aggregate import aggregate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    agg = sub.add_parser("aggregate", help="aggregate a sweep directory over seeds")
    agg.add_argument("sweep_dir", type=Path)
    agg.add_argument("--out", type=Path, default=None, help="default: the sweep dir's parent")
    args = parser.parse_args(argv)
    tables = aggregate(args.sweep_dir, args.out or args.sweep_dir.parent)
    runs = tables["runs"]
    print(f"{len(runs)} runs ({int((runs['status'] != 'completed').sum())} diverged) in "
          f"{runs['arm'].nunique()} arms")


if __name__ == "__main__":
    main()
