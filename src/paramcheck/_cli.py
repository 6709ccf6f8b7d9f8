"""The ``paramcheck`` command: ``verify`` parametrizations, ``report`` benchmark results.

::

    paramcheck verify                                  # every shipped transform and chain
    paramcheck verify mypkg.layers:CayleyMap --constraint orthogonal --shape 2x4x4
    paramcheck verify mypkg.layers:make --markdown > verification.md
    paramcheck report                                  # .asv/results -> reports/benchmarks/

Exit status: 0 when everything holds (``report``: the report was written, or is up to
date under ``--check``), 1 when a property fails (``report --check``: the report is
out of date), 2 for a usage error, printed as one line that names the problem and the fix.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from paramcheck import __version__
from paramcheck import _verification_table as _verification
from paramcheck._verification_table import Outcome
from paramcheck.errors import UsageError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # as a shell reports SIGINT

_DTYPES = ("float16", "bfloat16", "float32", "float64")
_SHAPE = re.compile(r"^\d+(x\d+)*$")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``paramcheck`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its usage and one-line error
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except UsageError as exc:
        print(f"paramcheck {args.name}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"paramcheck {args.name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


# -- arguments ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paramcheck",
        description="Property-based verification and benchmark reports for PyTorch "
        "parametrizations.",
    )
    parser.add_argument("--version", action="version", version=f"paramcheck {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    verify = commands.add_parser(
        "verify",
        help="check that parametrizations keep their promises",
        description="Verify a parametrization's properties (constraint held, right_inverse "
        "inverts forward, cached reads, autograd, state_dict...) on Hypothesis-drawn "
        "inputs. Without a target, verifies every transform and chain paramcheck ships "
        "and torch's built-in parametrizations.",
        epilog="Exit status: 0 all properties hold, 1 a property fails (its minimal "
        "counterexample is printed), 2 usage error.",
    )
    verify.set_defaults(command=_verify, name="verify")
    verify.add_argument(
        "target", nargs="?",
        help="package.module:attr naming an nn.Module class, an instance, a zero-argument "
        "factory, or a list of modules (a chain); importable from the current folder",
    )
    verify.add_argument("--constraint", metavar="NAME",
                        help="the constraint forward's output must satisfy "
                        "(default: the one the transform's spec names)")
    verify.add_argument("--shape", type=parse_shape, metavar="SHAPE",
                        help="weight shape, sizes joined by x: 4x4, or 2x3x3 for a batch "
                        "(default: 4x4)")
    verify.add_argument("--dtypes", type=parse_dtypes, metavar="LIST",
                        help="comma-separated floating dtypes (default: float32,float64)")
    verify.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    verify.add_argument("--max-examples", type=_positive_int, metavar="N",
                        help="Hypothesis examples per property (default: those of the "
                        "PARAMCHECK_PROFILE profile: dev, ci or thorough)")
    verify.add_argument("--seed", type=int, metavar="N",
                        help="Hypothesis seed, for a reproducible run")
    output = verify.add_mutually_exclusive_group()
    output.add_argument("--json", dest="output", action="store_const", const="json",
                        help="print the results as JSON")
    output.add_argument("--markdown", dest="output", action="store_const", const="markdown",
                        help="print the results as a markdown table")
    verify.add_argument("-q", "--quiet", action="store_true",
                        help="no progress lines on stderr")

    report = commands.add_parser(
        "report",
        help="turn benchmark results into markdown tables and plots",
        description="Load asv results (and pytest-benchmark JSON files) into one tidy "
        "table and write markdown tables and PNG plots to OUT/benchmarks/: cached "
        "speedups, paramcheck/torch cost ratios, history across commits. The folder is "
        "replaced as a whole; nothing else in OUT is touched.",
        epilog="Exit status: 0 written (or up to date with --check), 1 out of date "
        "(--check), 2 usage error (for example no results).",
    )
    report.set_defaults(command=_report, name="report")
    report.add_argument("--results", type=Path, metavar="DIR",
                        help="asv results folder (default: results_dir of ./asv.conf.json, "
                        "else .asv/results)")
    report.add_argument("--pytest-benchmark", type=Path, action="append", default=[],
                        metavar="FILE", help="a pytest-benchmark JSON file (repeatable)")
    report.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR",
                        help="reports folder; the report goes to DIR/benchmarks/ "
                        "(default: reports)")
    report.add_argument("--history", type=_positive_int, default=10, metavar="N",
                        help="how many of the latest commits the history shows (default: 10)")
    report.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the report differs from a fresh one")
    return parser


def parse_shape(text: str) -> tuple[int, ...]:
    """``"2x3x3"`` -> ``(2, 3, 3)``; argparse shows the error on a malformed shape."""
    if not _SHAPE.match(text.strip()) or any(int(s) == 0 for s in text.split("x")):
        raise argparse.ArgumentTypeError(
            f"malformed shape {text!r}: write positive sizes joined by x, like 4x4 or 2x3x3"
        )
    return tuple(int(s) for s in text.strip().split("x"))


def parse_dtypes(text: str) -> tuple[Any, ...]:
    """``"float32,float64"`` -> ``(torch.float32, torch.float64)``."""
    import torch

    names = [n.strip().removeprefix("torch.") for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in _DTYPES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown dtype {(unknown or [text])[0]!r}: use a comma-separated list of "
            f"{', '.join(_DTYPES)}"
        )
    return tuple(getattr(torch, n) for n in dict.fromkeys(names))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


# -- verify ------------------------------------------------------------------------------


def _verify(args: argparse.Namespace) -> int:
    _check_device(args.device)
    if args.constraint is not None:
        _check_constraint(args.constraint)
    shape = args.shape or (4, 4)
    options = {
        "constraint": args.constraint,
        "shape": shape,
        "dtypes": args.dtypes,
        "device": args.device,
        "max_examples": args.max_examples,
        "seed": args.seed,
    }
    options = {k: v for k, v in options.items() if v is not None}
    targets = [(args.target, load_target(args.target))] if args.target else shipped(shape)

    from paramcheck._verify import verify

    progress = _Progress(len(targets), sys.stderr, quiet=args.quiet)
    outcomes = []
    for name, parametrization in targets:
        progress.step(name)
        try:
            outcomes.append(Outcome(name, verify(parametrization, **options)))
        except (UsageError, TypeError, ValueError) as exc:
            # verify raises these only for arguments it cannot use (see its docstring).
            if args.target:
                raise UsageError(f"cannot verify {name}: {exc}") from None
            outcomes.append(Outcome(name, not_applicable=str(exc)))
    progress.done()

    sys.stdout.write(_verification.render(outcomes, args.output or "text"))
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED


def load_target(spec: str) -> object:
    """The object named by ``package.module:attr`` (``attr`` may be dotted).

    The current folder is importable, as with ``python -m``.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(
            f"target {spec!r} is not of the form package.module:attr "
            "(for example mypkg.layers:CayleyMap)"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UsageError(
            f"cannot import {module_name!r} ({exc}); check the spelling, and run from the "
            "folder that holds it or install its package"
        ) from None
    except Exception as exc:
        raise UsageError(
            f"importing {module_name!r} raised {type(exc).__name__}: {exc}; fix the module first"
        ) from None
    value: object = module
    for part in attr.split("."):
        if not hasattr(value, part):
            raise UsageError(
                f"{module_name!r} has no attribute {attr!r}; check the name after the colon"
            )
        value = getattr(value, part)
    return value


def shipped(shape: tuple[int, ...]) -> list[tuple[str, object]]:
    """Every shipped transform and chain, and torch's built-in parametrizations.

    Each as ``(name, zero-argument factory)`` from :func:`paramcheck.transforms.catalog`,
    built for weights of ``shape`` where the transform needs it (``Pruning``'s mask,
    torch's adapters).
    """
    from paramcheck.transforms import catalog

    size = tuple(shape)
    return [(entry.name, functools.partial(entry.build, size)) for entry in catalog()]


def _check_device(device: str) -> None:
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise UsageError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None
    if parsed.type not in ("cpu", "cuda"):
        raise UsageError(f"unsupported device {device!r}; use cpu, cuda or cuda:N")
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            f"--device {device} asks for CUDA, but torch finds no CUDA device on this machine; "
            "use --device cpu"
        )
    if parsed.type == "cuda" and (parsed.index or 0) >= torch.cuda.device_count():
        raise UsageError(
            f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s); "
            "use cuda:0 to cuda:N-1"
        )


def _check_constraint(name: str) -> None:
    from paramcheck import constraints

    known = constraints.names()
    if name not in known:
        raise UsageError(f"unknown constraint {name!r}; use one of {', '.join(known)}")


class _Progress:
    """``[3/17] verifying Skew`` on stderr, one line per parametrization, and the time."""

    def __init__(self, total: int, stream: TextIO, *, quiet: bool) -> None:
        self.total, self.stream, self.quiet = total, stream, quiet
        self.count = 0
        self.started = time.monotonic()

    def step(self, name: str) -> None:
        self.count += 1
        if not self.quiet:
            print(f"[{self.count}/{self.total}] verifying {name}", file=self.stream, flush=True)

    def done(self) -> None:
        if not self.quiet:
            seconds = time.monotonic() - self.started
            print(f"verified {self.total} in {seconds:.1f} s", file=self.stream, flush=True)


# -- report ------------------------------------------------------------------------------


def _report(args: argparse.Namespace) -> int:
    try:
        from paramcheck import benchreport as report
    except ImportError as exc:
        raise UsageError(
            f"`paramcheck report` needs pandas and matplotlib ({exc}); "
            "install them with: pip install 'paramcheck[report]'"
        ) from None

    results: Path | None = args.results
    if results is None:
        default = asv_results_dir(Path.cwd())
        results = default if default.exists() or not args.pytest_benchmark else None
    frame = report.load_results(results, args.pytest_benchmark)
    dest = args.out / report.FOLDER
    if args.check:
        stale = report.check_report(frame, args.out, history=args.history)
        if stale:
            print(f"{dest} is out of date: {', '.join(stale)} would change; "
                  "run `paramcheck report` to rebuild it")
            return EXIT_FAILED
        print(f"{dest} is up to date ({len(frame)} measurements)")
        return EXIT_OK
    report.write_report(frame, args.out, history=args.history)
    written = sorted(p.name for p in dest.iterdir())
    print(f"wrote {dest}/ ({', '.join(written)}) from {len(frame)} measurements")
    return EXIT_OK


def asv_results_dir(project: Path) -> Path:
    """``results_dir`` of ``project/asv.conf.json`` (relative to it), else ``.asv/results``.

    asv.conf.json allows ``//`` comments; whole-line ones are dropped before parsing.
    """
    conf = project / "asv.conf.json"
    fallback = project / ".asv" / "results"
    if not conf.is_file():
        return fallback
    text = "\n".join(
        line for line in conf.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("//")
    )
    try:
        results_dir = json.loads(text).get("results_dir")
    except (ValueError, AttributeError):
        return fallback
    return project / results_dir if isinstance(results_dir, str) else fallback


if __name__ == "__main__":
    sys.exit(main())
