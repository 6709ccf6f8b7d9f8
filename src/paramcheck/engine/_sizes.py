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

import torch

from paramcheck._described import dense
from paramcheck.engine._plan import Plan
from paramcheck.engine._property import Property
from paramcheck.engine._results import Result
from paramcheck.engine._search import search

__all__ = ["searched"]


def searched(plan: Plan, prop: Property, dtype: torch.dtype) -> Result:
    """:func:`~paramcheck.engine._search.search`, then a search for a simpler
    counterexample when the one found is dense (see the module's docstring)."""
    result = search(plan, prop, dtype)
    if not result.failed or plan.simple or plan.inputs is not None or plan.image:
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
