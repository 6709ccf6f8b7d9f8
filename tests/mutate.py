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

The report (``reports/mutation.md``) lists the score per module and every survivor, with
the argument recorded for it in ``tests/mutation_arguments.toml`` (equivalent: no
observable change; or a known gap with its reason). A survivor without an argument is
marked as such, and the run exits 1.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "paramcheck"
TRANSFORMS = PACKAGE / "transforms"
ARGUMENTS = ROOT / "tests" / "mutation_arguments.toml"
REPORT = ROOT / "reports" / "mutation.md"

#: The modules mutated, and the tests that exercise each: groups of pytest arguments
#: (each group in its own child: tests/ and properties/ have test files of the same
#: name), cheapest and most incisive first; -x stops at the first failure, so a killed
#: mutant costs its first failing test only.
def _selection(names: str) -> list[list[str]]:
    return [["tests/test_transforms.py", "tests/test_coverage.py", "-k", names],
            ["properties/test_transforms.py", "-k", names]]


MODULES: dict[str, list[list[str]]] = {
    "_symmetric": _selection("Symmetric or Skew"),
    "_cayley": _selection("Cayley or cayley"),
    "_sphere": _selection("Sphere or sphere"),
    "_positive": _selection("Positive or positive"),
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


def _run_groups(groups: list[list[str]], src: Path, limit: float) -> tuple[str, float]:
    """Run the groups in turn until one fails: killed/survived, and the time taken."""
    total = 0.0
    for group in groups:
        verdict, seconds = _run(group, src, limit - total)
        total += seconds
        if verdict != "survived":
            return verdict, total
    return "survived", total


def _run(pytest_args: list[str], src: Path, limit: float) -> tuple[str, float]:
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
    return f"error (pytest exit {code})", elapsed


def _package_copy(tmp: Path) -> Path:
    src = tmp / "src"
    shutil.copytree(PACKAGE, src / "paramcheck",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return src


def run(modules: list[str], on_module: Callable[[dict[str, list[tuple[Mutant, str, float]]]], None]
        ) -> dict[str, list[tuple[Mutant, str, float]]]:
    os.environ.setdefault("PARAMCHECK_PROFILE", "ci")
    os.chdir(ROOT)
    # Imported once in the parent, shared by every forked child: torch and the test tools.
    import hypothesis  # noqa: F401
    import pytest  # noqa: F401
    import torch  # noqa: F401

    results: dict[str, list[tuple[Mutant, str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="paramcheck-mutation-") as tmp:
        src = _package_copy(Path(tmp))
        for module in modules:
            args = MODULES[module]
            target = src / "paramcheck" / "transforms" / f"{module}.py"
            original = target.read_text()
            verdict, baseline = _run_groups(args, src, limit=3600)
            if verdict != "survived":
                raise SystemExit(f"the tests of {module} fail without a mutation ({verdict})")
            limit = TIME_FACTOR * baseline + 60
            print(f"{module}: baseline {baseline:.1f} s", flush=True)
            rows = []
            for m in mutants(module):
                target.write_text(mutated_source(m))
                verdict, seconds = _run_groups(args, src, limit)
                rows.append((m, verdict, seconds))
                print(f"  {m.key}: {verdict} ({seconds:.1f} s)", flush=True)
            target.write_text(original)
            results[module] = rows
            on_module(results)  # the report so far: a long run stopped early keeps it
    return results


# ------------------------------------------------------------------------------ report


def report(results: dict[str, list[tuple[Mutant, str, float]]]) -> tuple[str, int]:
    arguments = tomllib.loads(ARGUMENTS.read_text()) if ARGUMENTS.exists() else {}
    argued = arguments.get("survivor", {})
    total = sum(len(rows) for rows in results.values())
    killed = sum(1 for rows in results.values() for _, v, _ in rows if v.startswith("killed"))
    lines = [
        "# Mutation testing of paramcheck.transforms",
        "",
        "Produced by `tox run -e mutation` (`python tests/mutate.py`; not in CI: it runs "
        "the tests of a module once per mutant). Each mutant is one single-point change "
        "(operator swapped, number moved by one, boolean flipped or negated, input check "
        "deleted); it is killed when the module's tests (MODULES in tests/mutate.py: "
        "tests/test_transforms.py, tests/test_coverage.py and the property suite's "
        "tests of the transforms the module defines, ci profile) fail on it.",
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

    def write(results: dict[str, list[tuple[Mutant, str, float]]]) -> None:
        args.report.write_text(report(results)[0])

    results = run(modules, write)
    text, unargued = report(results)
    args.report.write_text(text)
    print(text)
    return 1 if unargued else 0


if __name__ == "__main__":
    sys.exit(main())
