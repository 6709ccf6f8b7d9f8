"""A property a user defines and registers gets the built-ins' machinery.

``lower_triangular`` below is written as a user would, in a test file: a law on the
weight, registered with ``paramcheck.register_property``. It is then searched by
``verify`` (one row per dtype), its failures shrunk to a minimal counterexample with a
replay line, and it becomes a test of the pytest-native form. ``LeakyTril`` is a planted
bug (an entry above the diagonal survives when it is large) and ``Tril`` its correct
twin: the property must fail exactly on the first.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import Tensor, nn

import paramcheck
from paramcheck import Property, PropertyFailed, Subject
from paramcheck.errors import UsageError
from paramcheck.testing import ParametrizationTests

SEARCH = {"max_examples": 10, "seed": 11}


def lower_triangular(subject: Subject, X: Tensor) -> None:
    """The weight is lower triangular: exactly zero above the diagonal."""
    W = subject.forward(X)
    above = W.triu(1).abs()
    worst = float(above.max()) if above.numel() else 0.0
    if worst != 0.0:  # triu/tril copy or zero entries exactly: no rounding to allow for
        where = tuple(int(i) for i in (above == worst).nonzero()[0])
        raise PropertyFailed("the weight is not lower triangular", gap=worst, tolerance=0.0,
                             formula="exact (tril writes zeros)", location=str(list(where)),
                             tensors={"W": W.detach()})


def _declares_it(subject: Subject) -> str | None:
    if not all(getattr(m, "lower_triangular", False) for m in subject.target.modules[-1:]):
        return "the last module does not declare lower_triangular = True"
    return None


LOWER_TRIANGULAR = Property("lower_triangular", lower_triangular, applies=_declares_it,
                            share=0.5, group="shape")


class Tril(nn.Module):
    """Correct: keeps the lower triangle."""

    lower_triangular = True

    def forward(self, X: Tensor) -> Tensor:
        return X.tril()

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.tril()


class LeakyTril(Tril):
    """Planted bug: an entry above the diagonal larger than 1/2 survives (a threshold
    test written the wrong way round). Only inputs with such an entry show it; every
    built-in property holds."""

    def forward(self, X: Tensor) -> Tensor:
        return X.tril() + X.triu(1) * (X.triu(1).abs() > 0.5)

    def right_inverse(self, A: Tensor) -> Tensor:
        return A  # forward(A) == A on the image, so round_trip holds: only the law sees it


@pytest.fixture
def registered() -> Iterator[Property]:
    paramcheck.register_property(LOWER_TRIANGULAR)
    try:
        yield LOWER_TRIANGULAR
    finally:
        paramcheck.properties.unregister_property(LOWER_TRIANGULAR)


def test_a_registered_property_runs_in_every_verify(registered: Property) -> None:
    report = paramcheck.verify(Tril, **SEARCH)
    rows = [(r.property, str(r.dtype)) for r in report.results if r.prop is registered]
    assert rows == [("lower_triangular", "torch.float32"), ("lower_triangular", "torch.float64")]
    assert report.ok, str(report)
    assert all(r.passed and r.examples > 0 for r in report.results if r.prop is registered)


def test_the_planted_bug_fails_only_that_property_with_a_shrunk_counterexample(
        registered: Property) -> None:
    report = paramcheck.verify(LeakyTril, **SEARCH)
    assert {r.property for r in report.failures} == {"lower_triangular"}, str(report)
    assert [r.dtype for r in report.failures] == [torch.float32, torch.float64]
    for failure in report.failures:
        X = failure.counterexample
        assert X is not None and X.shape == (4, 4)
        # Shrunk: one entry above the diagonal, just over 1/2; everything else zero.
        assert int((X != 0).sum()) == 1 and int((X.triu(1) != 0).sum()) == 1
        assert 0.5 < float(X.abs().max()) <= 1.0
        assert failure.failure is not None and failure.failure.law == "lower_triangular"
        assert failure.failure.gap == float(X.abs().max()) and failure.failure.tolerance == 0.0
        assert failure.replay.startswith(
            "test_user_property.lower_triangular(paramcheck.Subject.of(parametrization), X)")
        with pytest.raises(PropertyFailed, match="not lower triangular"):
            lower_triangular(Subject.of(LeakyTril()), X)
    assert "FAILED lower_triangular [float32]" in str(report)


def test_it_does_not_apply_where_its_applies_says_so(registered: Property) -> None:
    report = paramcheck.verify(nn.Identity(), properties=[registered], **SEARCH)
    assert [r.status for r in report.results] == [paramcheck.Verdict.NOT_APPLICABLE] * 2
    assert "does not declare lower_triangular" in report.results[0].message


def test_an_unregistered_property_can_be_asked_for_by_object() -> None:
    assert LOWER_TRIANGULAR not in paramcheck.properties.registry()
    bad = paramcheck.verify(LeakyTril, properties=[LOWER_TRIANGULAR], **SEARCH)
    good = paramcheck.verify(Tril, properties=[LOWER_TRIANGULAR], **SEARCH)
    assert [r.failed for r in bad.results] == [True, True] and good.ok
    # by name, only once registered
    with pytest.raises(UsageError, match="unknown properties"):
        paramcheck.verify(Tril, properties=["lower_triangular"])


def test_the_pytest_form_grows_a_test_for_it(registered: Property) -> None:
    class TestTril(ParametrizationTests):
        parametrization = Tril
        max_examples = 30
        seed = 11

    class TestLeaky(TestTril):
        parametrization = LeakyTril

    assert TestTril.test_lower_triangular.__doc__ == (  # type: ignore[attr-defined]
        "The weight is lower triangular: exactly zero above the diagonal.")
    TestTril().test_lower_triangular()  # type: ignore[attr-defined]
    with pytest.raises(paramcheck.errors.VerificationFailed, match="lower_triangular"):
        TestLeaky().test_lower_triangular()  # type: ignore[attr-defined]


def test_bad_definitions_and_registrations_are_usage_errors(registered: Property) -> None:
    with pytest.raises(UsageError, match="Python identifier"):
        Property("lower triangular", lower_triangular)
    with pytest.raises(UsageError, match="share must be in"):
        Property("x", lower_triangular, share=0)
    with pytest.raises(UsageError, match="law must be callable"):
        Property("x", 3)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="already registered"):
        paramcheck.register_property(Property("lower_triangular", lower_triangular))
    with pytest.raises(UsageError, match=r"named .round_trip. is already registered"):
        paramcheck.register_property(Property("round_trip", lower_triangular))
    assert paramcheck.register_property(registered) is registered  # again: nothing changes
    with pytest.raises(UsageError, match="built in"):
        paramcheck.properties.unregister_property(paramcheck.properties.ROUND_TRIP)
