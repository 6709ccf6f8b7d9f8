"""paramcheck's exception types.

Each subclasses the built-in exception a user would already catch (``ValueError``,
``TypeError``, ``AssertionError``), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paramcheck._verify import Report


class ParamcheckError(Exception):
    """Base class of every error paramcheck raises on purpose."""


class TransformShapeError(ParamcheckError, ValueError):
    """A transform got a tensor of a shape it cannot handle (1-D, non-square...)."""


class TransformDtypeError(ParamcheckError, TypeError):
    """A transform got a tensor of a dtype it cannot handle (integers, bool...)."""


class UsageError(ParamcheckError, ValueError):
    """``verify``/``check`` or the command line was called with arguments that make no sense."""


class VerificationFailed(ParamcheckError, AssertionError):
    """Raised by :func:`paramcheck.check` when a property fails; carries the report."""

    def __init__(self, report: Report) -> None:
        super().__init__(str(report))
        self.report = report
