"""A small AST mutation runner over paramcheck.transforms (tox env ``mutation``; not in CI).

Each *mutant* is one single-point change to one module's source: an arithmetic or
comparison operator swapped, a number moved by one, a boolean flipped or negated, a bare
call statement (an input check) deleted. For each mutant the tests that exercise that
module run against it, in a forked child that imports the mutated copy of the package;
a mutant is *killed* when a test fails (or the run exceeds its time limit), *survives*
otherwise. Text (messages, docstrings) and the arguments of ``Spec(...)`` (the
declaration of input domains, read by the tests themselves) are not mutated.

    python tests/mutate.py                       # every module in MODULES
    python tests/mutate.py _positive _sphere     # some of them
    python tests/mutate.py --list _cayley        # print the mutants, run nothing
    python tests/mutate.py --jobs 2 --survivors  # after adding tests: rerun the survivors

The report (``reports/mutation.md``) lists the score per module and every survivor, with
the argument recorded for it in ``tests/mutation_arguments.toml`` (equivalent: no
observable change; or a known gap with its reason). A survivor without an argument is
marked as such, and the run exits 1.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import queue
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "paramcheck"
TRANSFORMS = PACKAGE / "transforms"
ARGUMENTS = ROOT / "tests" / "mutation_arguments.toml"
REPORT = ROOT / "reports" / "mutation.md"
#: Every mutant's last verdict (module -> key -> [verdict, seconds]): the report is built
#: from it, and ``--survivors`` reruns only the mutants it does not list as killed.
RESULTS = ROOT / "reports" / "mutation.json"

#: The modules mutated, and the tests that exercise each: groups of pytest arguments
#: (each group in its own child: tests/ and properties/ have test files of the same
#: name), cheapest and most incisive first; -x stops at the first failure, so a killed
#: mutant costs its first failing test only. ``-k`` matches case-insensitively.
_UNIT_TESTS = ["tests/test_transforms.py", "tests/test_transforms_chains.py",
               "tests/test_transforms_builtins.py", "tests/test_transforms_edges.py",
               "tests/test_coverage.py"]


def _selection(names: str) -> list[list[str]]:
    return [[*_UNIT_TESTS, "-k", names], ["properties/test_transforms.py", "-k", names]]


#: The shared plumbing (input checks, the Spec, the catalog) is used by every transform:
#: all the unit tests, and the property suite at the smallest size in float64.
_EVERYTHING = [_UNIT_TESTS, ["properties/test_transforms.py", "-k", "4x4 and float64"]]

MODULES: dict[str, list[list[str]]] = {
    "_symmetric": _selection("Symmetric or Skew"),
    "_cayley": _selection("Cayley"),
    "_sphere": _selection("Sphere"),
    "_positive": _selection("Positive"),
    "_exponential": _selection("MatrixExponential or matrix_exponential or orthogonal_exp "
                               "or spd_exp or orthogonal_log or spd_log"),
    "_stiefel": _selection("Stiefel or householder"),
    "_pruning": _selection("Pruning"),
    "_torch_builtins": _selection("TorchOrthogonal or TorchSpectral or TorchWeight "
                                  "or torch_orthogonal or torch_spectral or torch_weight "
                                  "or torch_adapters"),
    "_chains": _selection("chain or orthogonal_cayley or orthogonal_exp or spd_exp"),
    "_checks": _EVERYTHING,
    "_spec": _EVERYTHING,
    "_catalog": _EVERYTHING,
}

#: A mutant's run may take this many times the unmutated run, plus a minute, before it
#: counts as killed (an infinite loop, a hang).
TIME_FACTOR = 3.0

_SWAP_BINOP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Pow: ast.Mult, ast.MatMult: ast.Mult,
}
_SWAP_CMP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
#: Attribute (method) names swapped for a near neighbour: the slips users make.
_SWAP_ATTR: dict[str, str] = {
    "mT": "T", "triu": "tril", "tril": "triu", "amax": "amin", "expm1": "exp",
    "log1p": "log", "clamp_min": "clamp_max", "solve": "solve_ex",
}


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int  # the index-th mutation point of the module, in walk order
    line: int
    column: int
    what: str

    @property
    def key(self) -> str:
        return f"{self.module}:{self.line}:{self.column}:{self.what}"


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """Nodes never mutated: docstrings, Spec(...) arguments, raise statements' messages."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Spec":
            skip.update(id(n) for n in ast.walk(node))
        if isinstance(node, ast.Raise) and node.exc is not None:
            skip.update(id(n) for n in ast.walk(node.exc))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def _points(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Every mutation point, in a fixed order, with what the mutation does."""
    skip = _skipped_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in _SWAP_BINOP:
            new = _SWAP_BINOP[type(node.op)].__name__
            yield node, f"{type(node.op).__name__} -> {new}"
        elif isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in _SWAP_CMP:
                    yield node, f"{type(op).__name__} -> {_SWAP_CMP[type(op)].__name__} #{k}"
        elif isinstance(node, ast.BoolOp):
            yield node, "And -> Or" if isinstance(node.op, ast.And) else "Or -> And"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
            yield node, f"drop {type(node.op).__name__}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            yield node, f"{node.value} -> {not node.value}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            yield node, f"{node.value!r} -> {node.value + 1!r}"
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            yield node, "delete call statement"
        elif isinstance(node, ast.Attribute) and node.attr in _SWAP_ATTR:
            yield node, f".{node.attr} -> .{_SWAP_ATTR[node.attr]}"


def _apply(node: ast.AST, what: str) -> ast.AST:
    """The replacement of ``node`` for the mutation ``what``."""
    if isinstance(node, ast.BinOp):
        return ast.BinOp(node.left, _SWAP_BINOP[type(node.op)](), node.right)
    if isinstance(node, ast.Compare):
        k = int(what.rsplit("#", 1)[1])
        ops = list(node.ops)
        ops[k] = _SWAP_CMP[type(ops[k])]()
        return ast.Compare(node.left, ops, node.comparators)
    if isinstance(node, ast.BoolOp):
        return ast.BoolOp(ast.Or() if isinstance(node.op, ast.And) else ast.And(), node.values)
    if isinstance(node, ast.UnaryOp):
        return node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return ast.Constant(not node.value)
    if isinstance(node, ast.Constant):
        return ast.Constant(node.value + 1)
    if isinstance(node, ast.Expr):
        return ast.Pass()
    if isinstance(node, ast.Attribute):
        return ast.Attribute(node.value, _SWAP_ATTR[node.attr], node.ctx)
    raise AssertionError(what)


def mutants(module: str) -> list[Mutant]:
    tree = ast.parse((TRANSFORMS / f"{module}.py").read_text())
    return [Mutant(module, i, getattr(node, "lineno", 0), getattr(node, "col_offset", 0), what)
            for i, (node, what) in enumerate(_points(tree))]


def mutated_source(m: Mutant) -> str:
    tree = ast.parse((TRANSFORMS / f"{m.module}.py").read_text())
    target, what = list(_points(tree))[m.index]

    class Replace(ast.NodeTransformer):
        def generic_visit(self, node: ast.AST) -> ast.AST:
            if node is target:
                return ast.copy_location(_apply(node, what), node)
            return super().generic_visit(node)

    return ast.unparse(ast.fix_missing_locations(Replace().visit(tree)))


# ----------------------------------------------------------------------------- running


def _run_groups(groups: list[list[str]], src: Path, limit: float, threads: int
                ) -> tuple[str, float]:
    """Run the groups in turn until one fails: killed/survived, and the time taken."""
    total = 0.0
    for group in groups:
        verdict, seconds = _run(group, src, limit - total, threads)
        total += seconds
        if verdict != "survived":
            return verdict, total
    return "survived", total


def _run(pytest_args: list[str], src: Path, limit: float, threads: int) -> tuple[str, float]:
    """Run pytest in a forked child importing paramcheck from ``src``: killed/survived."""
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.setpgid(0, 0)
            sys.path.insert(0, str(src))
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            import pytest
            import torch

            torch.set_num_threads(threads)
            code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                                "-W", "ignore", *pytest_args])
            os._exit(int(code))
        except BaseException:
            os._exit(99)
    deadline = start + limit
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "killed (time limit)", time.monotonic() - start
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    if code == 0:
        return "survived", elapsed
    if code == 1:
        return "killed", elapsed
    if code == 2:  # a test module no longer imports: the suite fails on it, as CI would
        return "killed (collection error)", elapsed
    return f"error (pytest exit {code})", elapsed


def _package_copy(tmp: Path) -> Path:
    src = tmp / "src"
    shutil.copytree(PACKAGE, src / "paramcheck",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return src


def _mutate_one(m: Mutant, *, groups: list[list[str]], relative: Path, free: queue.Queue[Path],
                limit: float, threads: int) -> tuple[Mutant, str, float]:
    """Run the tests against ``m`` in a free package copy, restored afterwards."""
    src = free.get()
    target = src / relative
    original = target.read_text()
    try:
        target.write_text(mutated_source(m))
        verdict, seconds = _run_groups(groups, src, limit, threads)
    finally:
        target.write_text(original)
        free.put(src)
    print(f"  {m.key}: {verdict} ({seconds:.1f} s)", flush=True)
    return m, verdict, seconds


Rows = list[tuple[Mutant, str, float]]


def run(modules: list[str], on_module: Callable[[dict[str, Rows]], None], jobs: int = 1,
        known: dict[str, Rows] | None = None) -> dict[str, Rows]:
    """Mutate each module in turn; ``jobs`` mutants run at once, each in its own package copy.

    A mutant listed as killed in ``known`` is not run again (tests are only ever added
    between a run and its rerun, so a killed mutant stays killed); its row is kept.
    """
    os.environ.setdefault("PARAMCHECK_PROFILE", "ci")
    os.chdir(ROOT)
    # Imported once in the parent, shared by every forked child: torch and the test tools.
    import hypothesis  # noqa: F401
    import pytest  # noqa: F401
    import torch

    # The cores are shared among the jobs: one child's torch threads per core.
    threads = max(1, torch.get_num_threads() // jobs)
    results: dict[str, Rows] = {}
    with tempfile.TemporaryDirectory(prefix="paramcheck-mutation-") as tmp:
        free: queue.Queue[Path] = queue.Queue()
        for k in range(jobs):
            free.put(_package_copy(Path(tmp) / f"copy{k}"))
        for module in modules:
            killed = {m.key: (m, v, t) for m, v, t in (known or {}).get(module, [])
                      if v.startswith("killed")}
            todo = [m for m in mutants(module) if m.key not in killed]
            if not todo:  # every mutant killed before: nothing to run
                results[module] = [killed[m.key] for m in mutants(module)]
                continue
            groups = MODULES[module]
            relative = Path("paramcheck", "transforms", f"{module}.py")
            src = free.get()
            verdict, baseline = _run_groups(groups, src, 3600, threads)
            free.put(src)
            if verdict != "survived":
                raise SystemExit(f"the tests of {module} fail without a mutation ({verdict})")
            limit = TIME_FACTOR * baseline + 60
            print(f"{module}: baseline {baseline:.1f} s, {len(todo)} mutants to run "
                  f"({len(killed)} killed before)", flush=True)

            mutate_one = partial(_mutate_one, groups=groups, relative=relative, free=free,
                                 limit=limit, threads=threads)
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                ran = {m.key: (m, v, t) for m, v, t in pool.map(mutate_one, todo)}
            results[module] = [ran.get(m.key) or killed[m.key] for m in mutants(module)]
            on_module(results)  # the report so far: a long run stopped early keeps it
    return results


def load(path: Path) -> dict[str, Rows]:
    """The verdicts stored by :func:`save`, for the mutants the current sources still have."""
    if not path.exists():
        return {}
    stored = json.loads(path.read_text())
    results: dict[str, Rows] = {}
    for module, verdicts in stored.items():
        if module in MODULES:
            results[module] = [(m, *verdicts[m.key]) for m in mutants(module)
                               if m.key in verdicts]
    return results


def save(path: Path, results: dict[str, Rows]) -> None:
    path.write_text(json.dumps(
        {module: {m.key: [v, round(t, 1)] for m, v, t in rows}
         for module, rows in sorted(results.items())}, indent=1) + "\n")


# ------------------------------------------------------------------------------ report


def report(results: dict[str, Rows]) -> tuple[str, int]:
    arguments = tomllib.loads(ARGUMENTS.read_text()) if ARGUMENTS.exists() else {}
    argued = arguments.get("survivor", {})
    total = sum(len(rows) for rows in results.values())
    killed = sum(1 for rows in results.values() for _, v, _ in rows if v.startswith("killed"))
    lines = [
        "# Mutation testing of paramcheck.transforms",
        "",
        "Produced by `tox run -e mutation` (`python tests/mutate.py --jobs 2`; after adding "
        "tests, `--survivors` reruns only the mutants not yet killed; not in CI). Each "
        "mutant is one single-point change to a module of `paramcheck.transforms` "
        "(operator swapped, number moved by one, boolean flipped or negated, call statement "
        "such as an input check deleted, method swapped for a near neighbour); it is killed "
        "when the tests that exercise the module fail on it: `MODULES` in tests/mutate.py, "
        "the unit tests of the transforms (tests/test_transforms*.py, tests/test_coverage.py) "
        "and the property suite's items for the transforms the module defines, "
        f"{os.environ.get('PARAMCHECK_PROFILE', 'ci')} profile. Every verdict is stored in "
        "`reports/mutation.json`, which this report is built from.",
        "",
        f"**Score: {killed} of {total} mutants killed ({100 * killed / max(total, 1):.1f}%).**",
        "",
        "| module | mutants | killed | survived | score |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for module, rows in results.items():
        k = sum(1 for _, v, _ in rows if v.startswith("killed"))
        lines.append(f"| {module} | {len(rows)} | {k} | {len(rows) - k} | "
                     f"{100 * k / max(len(rows), 1):.1f}% |")
    lines += ["", "## Survivors", "",
              "Each is argued *equivalent* (no observable change: the mutant computes the "
              "same function, or differs only where no input reaches) or listed as a "
              "*known gap* with its reason.", "",
              "| mutant (module:line:column:mutation) | verdict | argument |",
              "| --- | --- | --- |"]
    unargued = 0
    for rows in results.values():
        for m, v, _ in rows:
            if v.startswith("killed"):
                continue
            note = argued.get(m.key)
            if note is None:
                unargued += 1
                kind, text = "not argued", "(no argument recorded)"
            else:
                kind, text = note["kind"], note["why"]
            lines.append(f"| `{m.key}` | {kind}{'' if v == 'survived' else ' (' + v + ')'} "
                         f"| {text} |")
    return "\n".join(lines) + "\n", unargued


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"modules to mutate: {', '.join(MODULES)}")
    parser.add_argument("--list", action="store_true", help="print the mutants and stop")
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--jobs", type=int, default=1,
                        help="mutants run at once (one per core is the useful most)")
    parser.add_argument("--survivors", action="store_true",
                        help=f"rerun only the mutants not killed in {RESULTS.name} "
                             "(after adding tests)")
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown modules {unknown}; choose from {', '.join(MODULES)}")
    modules = args.modules or list(MODULES)
    if args.list:
        for module in modules:
            for m in mutants(module):
                print(m.key)
        return 0

    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, not {args.jobs}")

    stored = load(RESULTS)  # every module's last verdicts: the report covers them all

    def write(results: dict[str, Rows]) -> None:
        stored.update(results)
        save(RESULTS, stored)
        args.report.write_text(report(stored)[0])

    run(modules, write, args.jobs, known=stored if args.survivors else None)
    text, unargued = report(stored)
    print(text)
    return 1 if unargued else 0


if __name__ == "__main__":
    sys.exit(main())
