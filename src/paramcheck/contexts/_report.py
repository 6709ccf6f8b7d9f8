"""The conformance table: every shipped parametrization × every context, as markdown.

``python -m paramcheck.contexts --output reports/contexts.md`` runs each context law of
:mod:`paramcheck.contexts` on every entry of :func:`paramcheck.transforms.catalog` (shipped
transforms, ready chains and torch's built-ins), under ``torch.nn.utils.parametrize`` and
``paramcheck.parametrize``, in float32 and float64, on inputs drawn from the entry's
domain by a derandomized Hypothesis search (so the same torch and paramcheck give the
same table), and writes one table per implementation, the failures in full, and the
compile measurements (seconds to the first compiled step, recompiles over 8 fresh
instances × 3 steps, graph breaks). The verdicts are reproducible; the seconds are
measurements of this machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from hypothesis import given, settings
from torch import Tensor

from paramcheck import _target as tg
from paramcheck import strategies
from paramcheck import transforms as T
from paramcheck.contexts import _compile
from paramcheck.contexts._autocast import autocast
from paramcheck.contexts._checks import spec_constraint
from paramcheck.contexts._conversion import conversion
from paramcheck.contexts._export import exported
from paramcheck.contexts._functional import functional
from paramcheck.contexts._meta import meta_init
from paramcheck.contexts._resume import resume
from paramcheck.contexts._train import train

IMPLEMENTATIONS = ("torch", "paramcheck")
DTYPES = (torch.float32, torch.float64)
COLUMNS = ("compile", "compile (inductor)", "fullgraph", "recompile", "export", "functional",
           "autocast", "meta", "conversion", "train (SGD)", "train (Adam)", "resume")
SHAPE = (4, 4)


@dataclass
class Cell:
    verdict: str  # "pass", "FAIL", "n/a"
    detail: str = ""


@dataclass
class Row:
    name: str
    cells: dict[tuple[str, str, torch.dtype], Cell] = field(default_factory=dict)
    timings: dict[tuple[str, str], float] = field(default_factory=dict)
    recompiles: dict[str, _compile.Recompiles] = field(default_factory=dict)


def draw_inputs(spec: T.Spec, shape: tuple[int, ...], dtype: torch.dtype,
                count: int = 2) -> list[Tensor]:
    """``count`` inputs from the spec's domain: the last examples of a derandomized search
    (its first examples are the simplest, zeros and bounds)."""
    found: list[Tensor] = []
    strategy = strategies.domain(spec.inputs, shape, dtype=dtype, device="cpu",
                                 bound=spec.bound)

    @settings(max_examples=count + 3, derandomize=True, database=None, deadline=None)
    @given(strategy)
    def grab(X: Tensor) -> None:
        found.append(X)

    grab()
    return found[-count:]


def _verdict(call: Callable[[], object]) -> Cell:
    try:
        call()
    except tg.NotApplicable as exc:
        return Cell("n/a", str(exc))
    except AssertionError as exc:
        return Cell("FAIL", " ".join(str(exc).split("\n")[0].split())[:500])
    return Cell("pass")


def _shape_for(spec: T.Spec) -> tuple[int, ...]:
    return spec.shape if spec.shape is not None else SHAPE


def run(progress: Callable[[str], None] = lambda s: None, *, inductor: bool = True,
        only: Sequence[str] | None = None) -> list[Row]:
    """Every law on every catalog entry (or the entries named in ``only``)."""
    rows = []
    for entry in T.catalog():
        if only is not None and entry.name not in only:
            continue
        torch.manual_seed(0)
        probe = entry.build(SHAPE)
        spec = tg.Target(probe).spec_for_inputs()
        assert spec is not None, entry.name
        shape = _shape_for(spec)
        row = Row(entry.name)

        def make(entry: Any = entry, shape: tuple[int, ...] = shape) -> Any:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                return entry.build(shape)

        check = spec_constraint(tg.Target(make).spec_for_constraint())
        for impl in IMPLEMENTATIONS:
            for dtype in DTYPES:
                if dtype not in spec.dtypes:
                    continue
                progress(f"{entry.name} {impl} {dtype}")
                X, X2 = draw_inputs(spec, shape, dtype)
                for column, call in _laws(row, make, spec, check, impl, X, X2,
                                          inductor).items():
                    row.cells[(column, impl, dtype)] = _verdict(call)
        rows.append(row)
    return rows


def _laws(row: Row, make: Callable[[], Any], spec: T.Spec, check: Any, impl: str, X: Tensor,
          X2: Tensor, inductor: bool) -> dict[str, Callable[[], object]]:
    """Each column's law for one (entry, implementation, dtype), as a call."""
    laws: dict[str, Callable[[], object]] = {
        "compile": lambda: _timed(row, impl, "aot_eager", lambda: _compile.compiled(
            make, X, implementation=impl)),
        "fullgraph": lambda: _compile.fullgraph(make, X, implementation=impl),
        "export": lambda: exported(make, X, X2, implementation=impl),
        "functional": lambda: functional(make, X, X2, implementation=impl),
        "autocast": lambda: autocast(make, X, check, implementation=impl),
        "meta": lambda: meta_init(make, X, check, implementation=impl,
                                  exact=spec.inverse_exact),
        "conversion": lambda: conversion(make, X, check, implementation=impl),
        "train (SGD)": lambda: train(make, X, check, implementation=impl, optimizer="sgd"),
        "train (Adam)": lambda: train(make, X, check, implementation=impl, optimizer="adam"),
        "resume": lambda: resume(make, X, X2, implementation=impl),
    }
    if X.dtype == torch.float32:
        laws["recompile"] = lambda: _recompile(row, impl, make, X)
        if inductor:
            laws["compile (inductor)"] = lambda: _timed(
                row, impl, "inductor", lambda: _compile.compiled(
                    make, X, implementation=impl, backend="inductor"))
    return laws


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _timed(row: Row, impl: str, backend: str, call: Callable[[], None]) -> None:
    start = time.perf_counter()
    try:
        call()
    finally:
        row.timings[(impl, backend)] = time.perf_counter() - start


def _recompile(row: Row, impl: str, make: Callable[[], Any], X: Tensor) -> None:
    counts = _compile.recompile_counts(make, X, implementation=impl)
    row.recompiles[impl] = counts
    if counts.across_steps:
        raise AssertionError(f"recompiled {counts.across_steps} times across optimizer steps")


# ----------------------------------------------------------------------------- markdown

_MARK = {"pass": "✓", "FAIL": "✗", "n/a": "–"}


def markdown(rows: list[Row], command: str, *, inductor: bool = True) -> str:
    columns = [c for c in COLUMNS if inductor or c != "compile (inductor)"]
    lines = [
        "# Will it train? Parametrizations × contexts",
        "",
        f"Produced by `{command}` (paramcheck.contexts._report) with torch "
        f"{torch.__version__}. Each cell is float32/float64 (one mark where only float32 "
        f"applies): ✓ the law holds, ✗ it fails (footnote), – not applicable (footnote). "
        f"Inputs are drawn from each entry's domain by a derandomized Hypothesis search, "
        f"shape {SHAPE[0]}x{SHAPE[1]} (or the shape the entry was built for); the property "
        f"suite (`properties/test_contexts.py`) checks the same laws with shrinking over "
        f"more examples. The laws are documented in `paramcheck.contexts`.",
        "",
        "Recompile is judged across optimizer steps only; every fresh instance recompiles "
        "under both implementations (see the counts below), a known torch defect.",
        "",
    ]
    notes: list[str] = []
    for impl in IMPLEMENTATIONS:
        title = {"torch": "torch.nn.utils.parametrize",
                 "paramcheck": "paramcheck.parametrize"}[impl]
        lines += [f"## {title}", "", "| parametrization | " + " | ".join(columns) + " |",
                  "|---|" + "---|" * len(columns)]
        for row in rows:
            cells = []
            for column in columns:
                marks = []
                for dtype in DTYPES:
                    cell = row.cells.get((column, impl, dtype))
                    if cell is None:
                        continue
                    mark = _MARK[cell.verdict]
                    if cell.verdict != "pass":
                        text = f"{row.name}, {column}, {impl}, " \
                               f"{str(dtype).removeprefix('torch.')}: {cell.detail}"
                        notes.append(text)
                        mark += f"[^{len(notes)}]"
                    marks.append(mark)
                cells.append("/".join(marks))
            lines.append(f"| {row.name} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Compile cost and recompiles (float32; measured on this machine)", "",
              "Seconds: building and compiling the network and its first forward and "
              "backward (aot_eager, inductor). Recompiles: over 8 fresh instances × 3 SGD "
              "steps through one compiled function (CompileCounter frames); graph breaks "
              "from torch._dynamo.explain.", "",
              "| parametrization | implementation | aot_eager s | inductor s | frames | "
              "recompiles across instances | across steps | graph breaks |",
              "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for impl in IMPLEMENTATIONS:
            counts = row.recompiles.get(impl)
            a = row.timings.get((impl, "aot_eager"))
            i = row.timings.get((impl, "inductor"))
            if counts is None:
                lines.append(f"| {row.name} | {impl} | {_seconds(a)} | {_seconds(i)} | | | | |")
            else:
                lines.append(
                    f"| {row.name} | {impl} | {_seconds(a)} | {_seconds(i)} | {counts.frames} | "
                    f"{counts.across_instances} | {counts.across_steps} | "
                    f"{counts.graph_breaks} |")
    lines += ["", "## Notes", ""]
    lines += [f"[^{i}]: {text}" for i, text in enumerate(notes, start=1)]
    return "\n".join(lines) + "\n"
