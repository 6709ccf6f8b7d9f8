"""geotorch 0.4.0, every manifold that is a parametrization, under paramcheck.verify.

verify must never crash on geotorch and never raise a false alarm: every failure must be
one of the findings argued in reports/geotorch.md (properties/_geotorch.py, FINDINGS),
and each finding must still be found (it is real, so losing it would be a missed bug).
The examples per search are few (geotorch builds a manifold per example, ~50 ms each on
2 cores); the committed report runs the ci profile in full.
"""

from __future__ import annotations

import pytest
from _geotorch import CASES, FINDINGS, GeoCase, finding_for

import paramcheck

#: Examples per search here: enough for Hypothesis' first, simplest draws (zeros, the
#: identity), where both findings show, and a few random ones.
EXAMPLES = 4


def _dtype(r: paramcheck.Result) -> str:
    return str(r.dtype).removeprefix("torch.")


def _row(r: paramcheck.Result, case: GeoCase) -> str:
    return r.column


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_geotorch_manifold_fails_only_as_argued(case: GeoCase) -> None:
    report = paramcheck.verify(case.factory, shape=case.shape, constraint=case.constraint,
                               max_examples=EXAMPLES, **case.options)
    failed = {(case.name, _row(r, case), _dtype(r)) for r in report.failures}
    unexplained = {f for f in failed if finding_for(*f) is None}
    assert not unexplained, f"false alarms (or new findings to argue): {unexplained}\n{report}"
    expected = {f for finding in FINDINGS.values() for f in finding.explains
                if f[0] == case.name}
    # Both findings show on the first, simplest draws, so every argued failure is found.
    assert failed == expected, f"argued but not found: {expected - failed}\n{report}"
