"""``python -m paramcheck.contexts [--output PATH] [--no-inductor]``: the conformance table."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import torch

from paramcheck.contexts._report import markdown, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m paramcheck.contexts",
        description="Run every context law on every shipped parametrization and write the "
                    "conformance table as markdown.")
    parser.add_argument("--output", type=Path, default=None,
                        help="file to write (default: print to stdout)")
    parser.add_argument("--no-inductor", action="store_true",
                        help="skip the inductor column (≈ 20 s per network on two cores)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    command = "python -m paramcheck.contexts --output reports/contexts.md"
    if args.no_inductor:
        command += " --no-inductor"
    rows = run(lambda s: print(s, file=sys.stderr, flush=True), inductor=not args.no_inductor)
    text = markdown(rows, command, inductor=not args.no_inductor)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    if args.output.parent and not args.output.parent.is_dir():
        parser.error(f"the folder {args.output.parent} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(dir=args.output.parent, suffix=".md.tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
