"""Command line for the DVC prepare stage.

python -m lrstudy.data prepare NAME [NAME...] [--root data] [--force]
python -m lrstudy.data list
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lrstudy.data.prepare import DATASETS, prepare
from lrstudy.errors import DataError


def main(argv: list[str] | None = None) -> int:
    """Run the command; a data problem is one line on stderr and exit status 2."""
    parser = argparse.ArgumentParser(
        prog="python -m lrstudy.data", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="prepare datasets under ROOT/prepared/")
    prep.add_argument("names", nargs="+", metavar="NAME")
    prep.add_argument(
        "--root",
        type=Path,
        default=Path(os.environ.get("LRSTUDY_DATA_DIR", "data")),
        help="data root (default: $LRSTUDY_DATA_DIR or data)",
    )
    prep.add_argument("--force", action="store_true", help="prepare again even if present")
    commands.add_parser("list", help="list the datasets")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            for name, builder in DATASETS.items():
                print(f"{name:<15} {(builder.__doc__ or '').splitlines()[0]}")
        else:
            for name in args.names:
                print(prepare(name, args.root, force=args.force))
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
