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
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from paramcheck import __version__, _cli_scan, _validate, _warnings
from paramcheck import _verification_table as _verification
from paramcheck._verification_table import Outcome
from paramcheck.errors import UsageError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # as a shell reports SIGINT



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
    # Values are handed to paramcheck.Options as given (counts as ints), so a bad value
    # gets the message verify() gives for it (paramcheck._validate).
    verify.add_argument("--constraint", metavar="NAME",
                        help="the constraint forward's output must satisfy: a name from "
                        "paramcheck.constraints, or package.module:callable for your own "
                        "predicate (default: the one the transform's spec names)")
    verify.add_argument("--inputs", metavar="NAME",
                        help="what to draw: a domain (matrix, square, symmetric, skew, spd, "
                        "psd, orthogonal, special_orthogonal, nonzero, sign_diagonal) for the "
                        "original, or image: points of the constraint set pulled back "
                        "through right_inverse (default: the transform's spec's domain)")
    verify.add_argument("--strict", action="store_true", default=None,
                        help="count failures traced to known torch defects (upstream) as "
                        "failures")
    verify.add_argument("--contexts", action="store_true", default=None,
                        help="also check the execution contexts: torch.compile, export, "
                        "torch.func, autocast, meta init, conversion, training, resume "
                        "(slower: they compile and train)")
    verify.add_argument("--shape", metavar="SHAPE",
                        help="weight shape, sizes joined by x: 4x4, or 2x3x3 for a batch "
                        "(default: the shape the target was built for, else 4x4)")
    verify.add_argument("--dtypes", metavar="LIST",
                        help="comma-separated floating dtypes (default: float32,float64)")
    verify.add_argument("--device", help="cpu (default), cuda or cuda:N")
    verify.add_argument("--max-examples", type=_validate.as_int, metavar="N",
                        help="Hypothesis examples per property (default: those of the "
                        "PARAMCHECK_PROFILE profile: dev, ci or thorough)")
    verify.add_argument("--seed", type=_validate.as_int, metavar="N",
                        help="Hypothesis seed, for a reproducible run")
    verify.add_argument("--time-limit", type=_validate.as_number, metavar="SECONDS",
                        help="seconds each search may take; a search that reaches it "
                        "before anything failed is 'could not test', not a failure")
    verify.add_argument("--properties", metavar="LIST",
                        help="comma-separated properties (or groups) to check (default: "
                        "every property that runs by default)")
    output = verify.add_mutually_exclusive_group()
    output.add_argument("--json", dest="output", action="store_const", const="json",
                        help="print the results as JSON")
    output.add_argument("--markdown", dest="output", action="store_const", const="markdown",
                        help="print the results as a markdown table")
    verify.add_argument("-q", "--quiet", action="store_true",
                        help="no progress lines on stderr")
    _cli_scan.add_arguments(verify)

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
    if args.model is not None:
        return EXIT_OK if _cli_scan.run(args, load_target) else EXIT_FAILED
    from paramcheck.engine._api import verify
    from paramcheck.engine._options import Options
    from paramcheck.engine._plan import DEFAULT_SHAPE

    given = {name: getattr(args, name, None) for name in Options.names()}
    if isinstance(given["constraint"], str) and ":" in given["constraint"]:
        given["constraint"] = _user_constraint(given["constraint"])
    options = Options.build(**{k: v for k, v in given.items() if v is not None})
    # No --shape: each target is built for, and checked at, its own shape (shipped
    # transforms that hold per-weight state are built for the default 4x4).
    targets = [(args.target, load_target(args.target))] if args.target else shipped(
        options.shape or DEFAULT_SHAPE)

    progress = _Progress(len(targets), sys.stderr, quiet=args.quiet)
    outcomes = []
    # Warnings from the checked code are held back and summarised after the table.
    with _warnings.collected() as caught:
        for name, parametrization in targets:
            progress.step(name)
            try:
                outcomes.append(Outcome(name, verify(parametrization, options)))
            except UsageError as exc:
                # verify raises it only for arguments it cannot use (see its docstring).
                if args.target:
                    raise UsageError(f"cannot verify {name}: {exc}") from None
                outcomes.append(Outcome(name, not_applicable=str(exc)))
    progress.done()

    sys.stdout.write(_verification.render(outcomes, args.output or "text"))
    sys.stdout.flush()
    for line in _warnings.summary(caught):
        print(line, file=sys.stderr)
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED


def _user_constraint(spec: str) -> object:
    """``--constraint package.module:callable``: the user's own predicate."""
    value = load_target(spec)
    if not callable(value):
        raise UsageError(f"--constraint {spec} names a {type(value).__name__}, not a "
                         f"callable; give a function taking the weight and returning a bool")
    return value


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
