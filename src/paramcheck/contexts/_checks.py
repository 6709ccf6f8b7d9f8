"""Constraint checks shared by the contexts, with a growth factor for trained weights."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from paramcheck import _numerics as num
from paramcheck import constraints as cons
from paramcheck.transforms._spec import Spec


def spec_constraint(spec: Spec | None) -> Callable[[Tensor], cons.Check] | None:
    """The check a transform's Spec names (``unit_norm`` over its ``norm_dims``), or None."""
    if spec is None or spec.constraint is None:
        return None
    if spec.constraint == "unit_norm":
        dims = spec.norm_dims
        return lambda A: cons.unit_norm(A, dim=dims)
    return cons.get(spec.constraint)


def check_weight(check: Callable[[Tensor], object], W: Tensor, what: str,
                 growth: float = 1.0) -> None:
    """Fail unless ``check(W)`` holds, its tolerance multiplied by ``growth`` (≥ 1).

    ``check`` returns a :class:`paramcheck.constraints.Check` (named constraints and the
    suite's own) or a bool (a user's predicate, taken as is).
    """
    result = check(W)
    violation = getattr(result, "violation", None)
    tolerance = getattr(result, "tolerance", None)
    if isinstance(violation, float) and isinstance(tolerance, float):
        if violation <= tolerance * growth:
            return
        grown = "" if growth == 1.0 else (
            f" (the check's tolerance {tolerance:.3g} grown ×{growth:.3g} for the steps)")
        raise AssertionError(f"{what} breaks the constraint{grown}: "
                             f"{getattr(result, 'message', result)}\n{num.show('W', W)}")
    if not bool(result):
        raise AssertionError(f"{what} breaks the constraint: {result}\n{num.show('W', W)}")
