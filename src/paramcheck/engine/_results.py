"""What a verification found: a :class:`Verdict` per property and dtype, in a :class:`Report`.

Five verdicts, because users need to tell them apart:

- ``passed``: the search found no counterexample;
- ``failed``: the law does not hold, with a shrunk counterexample
  (:class:`~paramcheck.errors.PropertyFailed` carries what, where and by how much);
- ``not applicable``: the law does not apply to this parametrization, and why (no
  ``right_inverse``, no constraint named);
- ``could not test``: the tool could not judge (Hypothesis could not draw valid inputs,
  a health check refused the strategy, a limit was hit, no input drawn could be judged:
  :class:`~paramcheck.errors.CouldNotJudge`): never the user's failure;
- ``upstream``: the failure is a known defect of torch itself (:class:`Defect` names
  the op, the affected versions, the upstream issue and a workaround).

``Report.ok`` is False only when something failed (an upstream verdict counts only for a
``strict`` report). Every rendering (``str``, ``to_frame``, the command's tables) reads the
structured fields; none parses message text.
"""

from __future__ import annotations

import builtins
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from paramcheck import _numerics as num
from paramcheck._described import Drawn
from paramcheck.engine._property import Property
from paramcheck.errors import PropertyFailed

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Defect", "Failure", "Report", "Result", "Verdict"]


class Verdict(str, enum.Enum):
    """The outcome of one property at one dtype (equal to its value: ``"passed"``...)."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not applicable"
    COULD_NOT_TEST = "could not test"
    UPSTREAM = "upstream"

    def __str__(self) -> str:
        return str(self.value)

    @builtins.property
    def cell(self) -> str:
        """The verdict in a table cell."""
        return _CELLS[self]


_CELLS = {Verdict.PASSED: "pass", Verdict.FAILED: "FAIL", Verdict.NOT_APPLICABLE: "n/a",
          Verdict.COULD_NOT_TEST: "untested", Verdict.UPSTREAM: "upstream"}


@dataclass(frozen=True)
class Defect:
    """A known defect of torch that a failure is blamed on.

    Attributes:
        op: the torch operation at fault (``torch.linalg.matrix_exp``).
        versions: the torch versions affected (``"2.13"``, ``">=2.12,<2.15"``).
        issue: the upstream issue (``pytorch/pytorch#196592``).
        workaround: what a user can do about it.
    """

    op: str
    versions: str
    issue: str
    workaround: str = ""

    def __str__(self) -> str:
        fix = f"; workaround: {self.workaround}" if self.workaround else ""
        return f"known torch defect in {self.op} (torch {self.versions}, {self.issue}){fix}"


@dataclass(frozen=True)
class Result:
    """One row of a report: one property searched at one dtype.

    Attributes:
        property: the row's label: the property's name, or for the constraint
            property the constraint's name (``orthogonal``, or a predicate's ``__name__``).
        dtype: the dtype of the drawn inputs.
        status: the :class:`Verdict`.
        message: why it failed, does not apply or could not be tested; "" when passed.
        examples: how many inputs the search ran (including shrinking).
        seconds: wall time of the search.
        counterexample: the minimal failing ``X`` (None unless failed).
        inputs: every drawn input of the failing call by name (``X``, ``X2``).
        seed: the Hypothesis seed of the search (None for a derandomized profile).
        reproduce_blob: Hypothesis' ``@reproduce_failure`` arguments, when it gave them.
        replay: how to replay the failure, as code.
        failure: the structured failure (what, gap, tolerance, where, tensors).
        defect: the known torch defect an ``upstream`` verdict is blamed on.
        prop: the :class:`~paramcheck.Property` checked.
        smaller: the same law's failure at the smallest shape a search found one
            (the first of 2×2, 4×4, ... 64×64 that fails), for a failure at a larger one.
        descriptions: for each input of ``inputs`` drawn from a description (see
            :mod:`paramcheck.strategies`), that description: how a large counterexample
            is printed, and rebuilt.
    """

    property: str
    dtype: torch.dtype
    status: Verdict
    message: str = ""
    examples: int = 0
    seconds: float = 0.0
    counterexample: Tensor | None = None
    inputs: dict[str, Tensor] = field(default_factory=dict)
    seed: int | None = None
    reproduce_blob: str | None = None
    replay: str = ""
    failure: PropertyFailed | None = None
    defect: Defect | None = None
    prop: Property | None = None
    descriptions: dict[str, Drawn] = field(default_factory=dict)
    smaller: Result | None = None

    # (`property` is a field name here, so the decorator is spelled in full.)
    @builtins.property
    def passed(self) -> bool:
        return self.status is Verdict.PASSED

    @builtins.property
    def failed(self) -> bool:
        return self.status is Verdict.FAILED

    @builtins.property
    def not_applicable(self) -> bool:
        return self.status is Verdict.NOT_APPLICABLE

    @builtins.property
    def could_not_test(self) -> bool:
        return self.status is Verdict.COULD_NOT_TEST

    @builtins.property
    def skipped(self) -> bool:
        """No verdict on the law itself: not applicable, or could not test."""
        return self.status in (Verdict.NOT_APPLICABLE, Verdict.COULD_NOT_TEST)

    @builtins.property
    def column(self) -> str:
        """The property's name (the constraint's row is ``constraint``), for tables."""
        return self.prop.name if self.prop is not None else self.property

    def block(self, title: str) -> list[str]:
        """A failure (or upstream verdict) as lines: what, the measurement, the tensors,
        the counterexample, and how to replay it."""
        lines = [f"{title} after {self.examples} examples:"]
        if self.defect is not None:
            lines.append(f"  {self.defect}")
        if self.failure is not None:
            lines.append("  " + self.failure.summary.replace("\n", "\n  "))
            measured = self.failure.measurement()
            if measured and measured not in self.failure.summary:
                lines.append("  " + measured)
            for name, t in self.failure.tensors.items():
                lines.append("  " + num.show(name, t).replace("\n", "\n  "))
        else:
            lines.extend("  " + line for line in self.message.splitlines())
        for name, t in self.inputs.items():
            lines.extend("  " + line for line in shown(name, t, self.descriptions.get(name)))
        if self.replay:
            lines.append("  replay: " + self.replay.replace("\n", "\n          "))
        if self.smaller is not None:
            shape = tuple(self.smaller.inputs["X"].shape) if "X" in self.smaller.inputs else ""
            lines.extend("  " + line for line in self.smaller.block(
                f"also fails at the smaller shape {shape}"))
        return lines


@dataclass(frozen=True)
class Failure(Result):
    """A :class:`Result` whose status is ``failed``."""


@dataclass(frozen=True)
class Report:
    """What :func:`paramcheck.verify` found: one :class:`Result` per property and dtype."""

    parametrization: str
    results: tuple[Result, ...]
    constraint: str | None = None
    inputs: str = ""
    shape: tuple[int, ...] = ()
    device: str = "cpu"
    profile: str = ""
    seed: int | None = None
    seconds: float = 0.0
    strict: bool = False

    @property
    def ok(self) -> bool:
        """True unless a property failed (or, for a strict report, failed upstream)."""
        bad = {Verdict.FAILED, Verdict.UPSTREAM} if self.strict else {Verdict.FAILED}
        return not any(r.status in bad for r in self.results)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.failed]

    @property
    def skipped(self) -> list[Result]:
        """Results without a verdict on the law: not applicable or could not test."""
        return [r for r in self.results if r.skipped]

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame with one row per property and dtype."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                'Report.to_frame() needs pandas: pip install "paramcheck[report]"'
            ) from exc
        columns = ["property", "dtype", "status", "examples", "seconds", "message", "gap",
                   "tolerance", "location", "counterexample", "seed"]
        rows = [
            {
                "property": r.property,
                "dtype": dtype_name(r.dtype),
                "status": str(r.status),
                "examples": r.examples,
                "seconds": r.seconds,
                "message": r.failure.summary if r.failure is not None else r.message,
                "gap": r.failure.gap if r.failure is not None else None,
                "tolerance": r.failure.tolerance if r.failure is not None else None,
                "location": r.failure.location if r.failure is not None else "",
                "counterexample": "" if r.counterexample is None
                else in_one_cell(r.counterexample, r.descriptions.get("X")),
                "seed": r.seed,
            }
            for r in self.results
        ]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=columns)
        return frame

    def __str__(self) -> str:
        failed = len(self.failures)
        upstream = sum(r.status is Verdict.UPSTREAM for r in self.results)
        verdict = "ok" if self.ok else f"FAILED ({failed} of {len(self.results)} checks)"
        if upstream:
            verdict += (f", {upstream} upstream (known torch defects"
                        f"{': strict, so they count' if self.strict else ', not counted'})")
        searched = (f"seed {self.seed}" if self.seed is not None
                    else "no seed: derandomized (the same call gives the same searches), or "
                    "replayed from the example database of your settings")
        lines = [
            f"paramcheck.verify({self.parametrization}): {verdict} in {self.seconds:.2f} s",
            f"  inputs {self.inputs}, shape {self.shape}, device {self.device}, "
            f"constraint {self.constraint!r}, profile {self.profile!r}, {searched}",
        ]
        dtypes = list(dict.fromkeys(r.dtype for r in self.results))
        props = list(dict.fromkeys(r.property for r in self.results))
        width = max([len(p) for p in props] + [8])
        lines.append(("  " + "property".ljust(width) + "".join(
            f"  {dtype_name(d):<14}" for d in dtypes)).rstrip())
        cells = {(r.property, r.dtype): r for r in self.results}
        for p in props:
            row = "  " + p.ljust(width)
            for d in dtypes:
                r = cells.get((p, d))
                row += f"  {('-' if r is None else str(r.status)):<14}"
            lines.append(row.rstrip())
        for r in self.results:
            if r.skipped:
                lines.append(f"  {r.status} {r.property} [{dtype_name(r.dtype)}]: {r.message}")
        for r in self.results:
            if r.failed or r.status is Verdict.UPSTREAM:
                title = "FAILED" if r.failed else "UPSTREAM"
                lines.append("")
                lines.extend(r.block(f"{title} {r.property} [{dtype_name(r.dtype)}]"))
        return "\n".join(lines)


def dtype_name(dtype: object) -> str:
    return str(dtype).removeprefix("torch.")


def shown(name: str, t: Tensor, description: Drawn | None) -> list[str]:
    """An input of a failing call as lines: its entries when there are few (a Python
    expression that rebuilds it), else the description it was built from and the call
    that rebuilds it, else its shape and where to find it. Never a million numbers."""
    head = f"counterexample {name} (shape {tuple(t.shape)}, {dtype_name(t.dtype)})"
    if t.numel() <= num.PRINT_LIMIT:
        return [head + ":", "  " + num.format_tensor(t, indent=2)]
    if description is not None:
        return [f"{head}: {description}",
                f"  rebuild: from paramcheck.strategies import *; "
                f"{name} = {description!r}.build(torch.{dtype_name(t.dtype)})"]
    return [f"{head}: {t.numel()} entries, too many to print (not drawn from a "
            f"description: a custom or image-side strategy); the Result's "
            f"inputs[{name!r}] holds it"]


def in_one_cell(t: Tensor, description: Drawn | None) -> str:
    """An input in a table cell: the expression that rebuilds it when it is small, else
    the description it was built from, else its shape."""
    if t.numel() <= num.PRINT_LIMIT:
        return num.format_tensor(t)
    if description is not None:
        return str(description)
    return f"tensor of shape {tuple(t.shape)}, {dtype_name(t.dtype)} (too large to print)"
