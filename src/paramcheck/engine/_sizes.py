"""After a failure at a large shape: the simplest counterexample that still fails.

A search at 1024×1024 draws dense inputs too (uniform entries from a seed, a low-rank
product, a sparse pattern), and Hypothesis shrinks each part of a description on its own:
from a dense failing input it rarely reaches "zeros with one entry set", because the
step from a dense base to zeros loses the failure unless entries are added in the same
step. So the search stops at the first dense failing input, without shrinking it
(each shrink step costs a whole example at 1024×1024, and seldom leaves the dense
family), and :func:`searched` searches once more among the simplest descriptions only
(zeros or a multiple of the identity with a few entries set,
``strategies.domain(simple=True)``). Its counterexample, shrunk, is reported when it
fails too: "1024×1024 square: zeros, with 1.0 at [0, 1]" instead of "uniform entries in
[-1, 1] (seed 0)". When the second search finds nothing, the dense counterexample stands.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from paramcheck._described import dense
from paramcheck.engine._plan import Plan
from paramcheck.engine._property import Property
from paramcheck.engine._results import Result
from paramcheck.engine._search import search
from paramcheck.errors import UsageError
from paramcheck.strategies import EXPLICIT_LIMIT

__all__ = ["searched", "smaller_shapes", "smallest_failing"]


def searched(plan: Plan, prop: Property, dtype: torch.dtype) -> Result:
    """:func:`~paramcheck.engine._search.search`, then a search for a simpler
    counterexample when the one found is dense (see the module's docstring)."""
    result = search(plan, prop, dtype)
    if result.failed and math.prod(plan.shape) > EXPLICIT_LIMIT and not plan.simple:
        result = smallest_failing(plan, prop, dtype, _simplest(plan, prop, dtype, result))
    return result


def _simplest(plan: Plan, prop: Property, dtype: torch.dtype, result: Result) -> Result:
    if plan.inputs is not None or plan.image:
        return result
    if not any(dense(d) for d in result.descriptions.values()):
        return result
    simpler = search(dataclasses.replace(plan, simple=True), prop, dtype)
    if not simpler.failed or simpler.failure is None:
        return result
    first = "; ".join(f"{name} = {d}" for name, d in result.descriptions.items())
    simpler.failure.summary += (
        f"\n(first found on {first}; this simpler input was found by a second search "
        f"among zeros or the identity with a few entries set)")
    return dataclasses.replace(
        simpler, message=str(simpler.failure), examples=result.examples + simpler.examples,
        seconds=result.seconds + simpler.seconds)


#: The matrix sizes tried, smallest first, when a failure at a larger shape is searched
#: for at smaller ones: each is cheap next to the real size, and a failure at 2×2 or 4×4
#: prints every entry.
SMALLER = (2, 4, 8, 16, 32, 64)


def smaller_shapes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Shapes below ``shape`` to try, smallest first: the batch kept, the matrix scaled
    down by powers of two (its aspect kept: a 1024×256 weight gives 8×2, 16×4, ...),
    each side at least 1, the smaller side at least 2 where the real one is."""
    if len(shape) < 2:
        return [(n,) for n in SMALLER if n < (shape[0] if shape else 0)]
    *batch, rows, cols = shape
    big, small = max(rows, cols), min(rows, cols)
    found = []
    for n in SMALLER:
        if n >= big:
            break
        side = max(min(2, small), small * n // big)
        found.append((*batch, n if rows == big else side, n if cols == big else side))
    return list(dict.fromkeys(found))


def _runs_at(plan: Plan, shape: tuple[int, ...]) -> bool:
    """True when the parametrization computes a weight at ``shape`` at all: one built for
    its size (a buffer of the real shape, a mask) is not generic in the size."""
    try:
        plan.subject.forward(torch.zeros(shape, dtype=plan.dtypes[0], device=plan.device))
    except Exception:
        return False
    return True


def smallest_failing(plan: Plan, prop: Property, dtype: torch.dtype, result: Result
                     ) -> Result:
    """``result`` (a failure) with ``smaller`` set to the failure of the same law at the
    smallest shape of :func:`smaller_shapes` where a search finds one, if any."""
    if plan.inputs is not None or plan.image or any(s.shape for s in plan.subject.specs):
        return result
    for shape in smaller_shapes(plan.shape):
        if not _runs_at(plan, shape):
            return result
        try:
            small = search(dataclasses.replace(plan, shape=shape), prop, dtype)
        except UsageError:  # the domain needs more (a square, two dimensions)
            return result
        if small.failed:
            return dataclasses.replace(result, smaller=small,
                                       seconds=result.seconds + small.seconds)
    return result
