"""The suite catches realistic bugs: each of paramcheck.known_bugs fails exactly its property.

Every class in :data:`paramcheck.known_bugs.KNOWN_BUGS` is a plausible hand-written
parametrization with one mistake (the seed tutorial's ``CayleyMap.right_inverse`` among
them) and names, in ``breaks``, the property that exposes it. ``paramcheck.verify`` runs
every property on it; the test asserts that the set of failing properties is exactly
``{breaks}``, each failure with a counterexample: a property that never fails on a planted
bug is not a property, and one that fails on the wrong bug is a false alarm.
"""

from __future__ import annotations

from typing import Any

import _cases as catalog
import pytest
from hypothesis import settings

import paramcheck
from paramcheck import known_bugs
from paramcheck.transforms import FLOATS

#: verify's examples per property before its own shares (Property.share):
#: a fifth of the profile's (20 in ci, 200 in thorough), at least MIN_EXAMPLES. Each
#: planted bug fails on most inputs; the passing properties need the examples to show
#: they raise no false alarm.
EXAMPLES_SHARE = 0.2
MIN_EXAMPLES = 10

SIZE = 4


def _report(bug: type, device: str, implementation: str) -> Any:
    base = settings.default
    assert base is not None
    examples = max(MIN_EXAMPLES, int(base.max_examples * EXAMPLES_SHARE))
    with catalog.seeded(0):
        instance = known_bugs.instances(SIZE)[bug.__name__]
        return paramcheck.verify(
            instance, shape=(SIZE, SIZE), dtypes=FLOATS, device=device,
            implementation=implementation, settings=settings(base, max_examples=examples),
        )


def _failing(report: Any) -> set[str]:
    """The names of the failing properties (the constraint's row under ``constraint``)."""
    return {r.column for r in report.failures}


# TransposeSymmetric's `.T` on a batch is the bug itself; torch's deprecation warning is noise.
@pytest.mark.filterwarnings("ignore:The use of `x.T`:UserWarning")
@pytest.mark.parametrize("implementation", ["torch", "paramcheck"])
@pytest.mark.parametrize("device", catalog.DEVICE_PARAMS)
@pytest.mark.parametrize("bug", known_bugs.KNOWN_BUGS, ids=lambda bug: bug.__name__)
def test_known_bug_fails_exactly_its_property(bug: type, device: str, implementation: str) -> None:
    report = _report(bug, device, implementation)
    expected = {bug.breaks}
    assert _failing(report) == expected, (
        f"{bug.__name__} should fail exactly {sorted(expected)}, but verify reports "
        f"{sorted(_failing(report))} failing:\n{report}"
    )
    for failure in report.failures:
        assert failure.examples >= 1 and failure.message, str(report)
        assert failure.counterexample is not None, (
            f"{bug.__name__}: {failure.property} failed without a counterexample\n{report}"
        )
