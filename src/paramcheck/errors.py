"""paramcheck's exception types: a leaf module that imports nothing of paramcheck.

Each subclasses the built-in exception a user would already catch (``ValueError``,
``TypeError``, ``AssertionError``), so ``except ValueError`` keeps working. The transforms
import this module, so it must stay free of the engine (and of Hypothesis and pandas).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ParamcheckError(Exception):
    """Base class of every error paramcheck raises on purpose."""


class TransformShapeError(ParamcheckError, ValueError):
    """A transform got a tensor of a shape it cannot handle (1-D, non-square...)."""


class TransformDtypeError(ParamcheckError, TypeError):
    """A transform got a tensor of a dtype it cannot handle (integers, bool...)."""


class UsageError(ParamcheckError, ValueError):
    """``verify``/``check``, a property or the command line was called with arguments that
    make no sense. The message names the argument, what was given, and what to give."""


class NotApplicable(ParamcheckError):
    """A property does not apply to this parametrization (for example, no right_inverse).

    The engine reports the property as *not applicable* with this message as the reason;
    called directly, a law raises it to say why it cannot judge.
    """


class CouldNotJudge(ParamcheckError):
    """A law cannot judge at this input, though it applies to the parametrization (the
    gradient law at a point where forward is not differentiable: a jump inside every
    finite-difference step).

    The engine asks Hypothesis for another input instead (``hypothesis.reject``); when no
    input can be judged, the verdict is *could not test* with this message as the reason.
    Called directly, a law raises it: neither a pass nor a failure.
    """


class PropertyFailed(ParamcheckError, AssertionError):
    """A law does not hold: what failed, by how much, against which tolerance, and where.

    Attributes:
        summary: one sentence saying what does not hold (``forward(right_inverse(A))
            differs from A = forward(X)``).
        law: the name of the property that failed (``round_trip``), or "" when unknown.
        gap: the measured violation (``max |B - A|``), or None for a failure that is not a
            distance (an exception, a wrong dtype).
        tolerance: the largest gap accepted, or None.
        formula: how the tolerance was derived (``64·n·eps·scale with n = 4, ...``).
        location: where the gap is largest (``[0, 1]``), or "".
        tensors: the tensors worth seeing, by name (``A``, ``right_inverse(A)``): the
            engine prints them exactly, so they can be pasted back.

    ``str()`` gives the summary, the measurement and small tensors in torch's own format;
    reports render from the fields instead.
    """

    def __init__(
        self,
        summary: str,
        *,
        law: str = "",
        gap: float | None = None,
        tolerance: float | None = None,
        formula: str = "",
        location: str = "",
        tensors: Mapping[str, Any] | None = None,
    ) -> None:
        self.summary = summary
        self.law = law
        self.gap = gap
        self.tolerance = tolerance
        self.formula = formula
        self.location = location
        self.tensors: dict[str, Any] = dict(tensors or {})
        super().__init__(self.describe())

    def measurement(self) -> str:
        """``gap 2 at [0, 1]; tolerance 1.5e-05 = 64·n·eps·scale (...)``, or ""."""
        parts = []
        if self.gap is not None:
            at = f" at {self.location}" if self.location else ""
            parts.append(f"gap {self.gap:.3g}{at}")
        if self.tolerance is not None:
            formula = f" = {self.formula}" if self.formula else ""
            parts.append(f"tolerance {self.tolerance:.3g}{formula}")
        return "; ".join(parts)

    def describe(self, *, with_tensors: bool = True) -> str:
        lines = [self.summary]
        measured = self.measurement()
        if measured and measured not in self.summary:
            lines.append(measured)
        if with_tensors:
            lines.extend(f"{name} = {_exact(value)}" for name, value in self.tensors.items())
        return "\n".join(lines)

    def __reduce__(self) -> tuple[Any, ...]:  # keep the fields through pickling (xdist)
        return (_rebuild, (self.summary, self.__dict__))


def _rebuild(summary: str, fields: dict[str, Any]) -> PropertyFailed:
    failed = PropertyFailed.__new__(PropertyFailed)
    AssertionError.__init__(failed, summary)
    failed.__dict__.update(fields)
    return failed


#: Tensors with at most this many entries are shown in ``str(PropertyFailed)``.
_PRINT_LIMIT = 64


def _exact(t: Any) -> str:
    """``torch.tensor([...], dtype=torch.float32)``: every entry at full precision (floats
    print as Python's shortest round-tripping repr), so it can be pasted back. Duck-typed:
    this module imports no torch."""
    shape = tuple(getattr(t, "shape", ()))
    if getattr(t, "is_meta", False) or t.numel() > _PRINT_LIMIT:
        return f"<tensor of shape {shape}, {t.dtype}>"
    return f"torch.tensor({t.detach().cpu().tolist()!r}, dtype={t.dtype})"


class VerificationFailed(ParamcheckError, AssertionError):
    """Raised by :func:`paramcheck.check` when a property fails; carries the report.

    ``report`` is a :class:`paramcheck.Report`; its string is the message.
    """

    def __init__(self, report: Any) -> None:
        super().__init__(str(report))
        self.report = report
