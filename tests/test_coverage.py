"""coverage, inplace, batch over right_inverse, cache against stale state: each law with a
planted bug written the way users write it, and its clean twin.

The planted bugs pass every other law: a degenerate map reaches a corner of its set
correctly; an in-place right_inverse changes the user's tensor without a word; a
right_inverse that mixes a batch is right on every single matrix; a forward reading
state from an earlier call agrees with a deep copy that carries the same state.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

import paramcheck
from paramcheck import _coverage, known_bugs, properties, strategies
from paramcheck.errors import UsageError
from paramcheck.known_bugs import DiagonalDroppingSymmetric, InplaceSymmetric, TypoSkew
from paramcheck.properties import NotApplicable
from paramcheck.transforms import (
    CayleyMap,
    MatrixExponential,
    Positive,
    Skew,
    Spec,
    Sphere,
    Stiefel,
    Symmetric,
    catalog,
)

QUICK = settings(max_examples=15, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ the planted bugs


class ForwardOnlyTypoSkew(nn.Module):
    """The typo without a right_inverse: only the rank can see it."""

    spec = Skew.spec

    def forward(self, X: Tensor) -> Tensor:
        U = X.triu(1)
        return U - U.transpose(-1, -1)


class ForwardOnlySkew(nn.Module):
    spec = Skew.spec

    def forward(self, X: Tensor) -> Tensor:
        U = X.triu(1)
        return U - U.mT


class InplacePositive(Positive):
    """``clamp_min_`` in forward: the original parameter is clamped under no_grad."""

    def forward(self, X: Tensor) -> Tensor:
        return super().forward(X.clamp_min_(-50.0))


class DiagonalInverseCholesky(nn.Module):
    """SPD ``L Lᵀ`` with a softplus diagonal; right_inverse reads the diagonal with
    ``torch.diagonal(L)``, whose default dims (0, 1) are a batch's on a batch."""

    spec = Spec(constraint="spd", inputs="square", square=True)

    def forward(self, X: Tensor) -> Tensor:
        d = torch.nn.functional.softplus(X.diagonal(dim1=-2, dim2=-1)) + 0.1
        L = X.tril(-1) + torch.diag_embed(d)
        return L @ L.mT

    def _diagonal(self, L: Tensor) -> Tensor:
        return torch.diagonal(L)

    def right_inverse(self, A: Tensor) -> Tensor:
        L = torch.linalg.cholesky(A)
        d = self._diagonal(L) - 0.1
        return L.tril(-1) + torch.diag_embed(d + torch.log(-torch.expm1(-d)))


class BatchedCholesky(DiagonalInverseCholesky):
    def _diagonal(self, L: Tensor) -> Tensor:
        return L.diagonal(dim1=-2, dim2=-1)


# ------------------------------------------------------------------ coverage: the rank


@pytest.mark.parametrize(("n", "constraint", "expected"), [
    (4, "skew", 6), (4, "special_orthogonal", 6), (4, "symmetric", 10), (4, "spd", 10),
    (4, "psd", 10), (4, "positive", 16), (4, "unit_norm", 15),
])
def test_set_dimensions(n: int, constraint: str, expected: int) -> None:
    assert _coverage.set_dimension(constraint, (n, n)) == expected
    assert _coverage.set_dimension(constraint, (3, n, n)) == 3 * expected


def test_stiefel_and_row_sphere_dimensions() -> None:
    assert _coverage.set_dimension("orthogonal", (5, 3)) == 5 * 3 - 6
    assert _coverage.set_dimension("orthogonal", (3, 5)) == 5 * 3 - 6
    assert _coverage.set_dimension("unit_norm", (4, 6), norm_dims=(-1,)) == 4 * 5
    assert _coverage.set_dimension("skew", (3, 4)) is None


def test_numerical_rank_scales_columns_and_counts_exact_zeros() -> None:
    tiny = torch.diag(torch.tensor([1.0, 1e-40, 3.0], dtype=torch.float64))
    assert _coverage.numerical_rank(tiny)[0] == 3  # softplus at -100: tiny, not lost
    J = torch.tensor([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0]], dtype=torch.float64)
    rank, _, threshold = _coverage.numerical_rank(J)
    assert rank == 1 and threshold > 0


def test_a_row_near_an_axis_is_not_counted_as_an_extra_dimension() -> None:
    """The property suite's shrunk false alarm: four zero rows (the Sphere's pole) and
    one within 1e-5 of an axis. Column scaling alone counted rank 11 > 10 nearby."""
    X = torch.zeros(5, 3)
    X[4, 1], X[4, 2] = -1e-5, 1.0
    report = paramcheck.verify(Sphere(), shape=(5, 3), properties=["coverage"],
                               inputs=st.just(X), dtypes=(torch.float32,), max_examples=1)
    assert report.ok, str(report)
    assert report.results[0].status is paramcheck.Verdict.PASSED


@QUICK
@given(strategies.matrices((4, 4)))
def test_degenerate_maps_fail_coverage_their_clean_twins_pass(X: Tensor) -> None:
    for bug, clean in ((TypoSkew(), Skew()), (DiagonalDroppingSymmetric(), Symmetric()),
                       (ForwardOnlyTypoSkew(), ForwardOnlySkew())):
        with pytest.raises(AssertionError, match="its Jacobian has rank"):
            properties.coverage(bug, X)
        properties.coverage(clean, X)


def test_the_rank_message_says_what_was_lost() -> None:
    with pytest.raises(AssertionError) as caught:
        properties.coverage(DiagonalDroppingSymmetric(), torch.ones(4, 4))
    message = str(caught.value)
    assert "reaches only a set of dimension 6" in message
    assert "the dimension of the symmetric set is 10" in message
    assert "X = torch.tensor(" in message


def test_the_rank_is_measured_on_a_block_of_a_large_input() -> None:
    X = torch.randn(64, 64, dtype=torch.float64)
    properties.coverage(Skew(), X)
    with pytest.raises(AssertionError, match=r"leading \(5, 5\) block"):
        properties.coverage(TypoSkew(), X)


def test_a_singular_point_of_a_full_rank_map_is_not_a_failure() -> None:
    # Sphere maps zero rows to e₁ (rank 0 there); a point nearby has full rank.
    properties.coverage(Sphere(), torch.zeros(3, 4))
    properties.coverage(Positive(), torch.tensor([[-100.0, 0.0], [3.0, 100.0]]))


def test_skew_domain_is_differentiated_along_skew_directions() -> None:
    X = torch.tensor([[0.0, 1.0, -0.5], [-1.0, 0.0, 0.25], [0.5, -0.25, 0.0]])
    properties.coverage(CayleyMap(), X)  # rank 3 on skew inputs, not 9


def test_the_dimension_can_be_given_and_is_required_without_a_known_set() -> None:
    class Free(nn.Module):
        def forward(self, X: Tensor) -> Tensor:
            return X * 2

    with pytest.raises(NotApplicable, match="dimension of forward's image is unknown"):
        properties.coverage(Free(), torch.ones(2, 2))
    properties.coverage(Free(), torch.ones(2, 2), dimension=4)
    properties.coverage(Free(), torch.ones(2, 3), dimension=math.prod)
    with pytest.raises(AssertionError, match="reaches only a set of dimension 4"):
        properties.coverage(Free(), torch.ones(2, 2), dimension=5)


def test_an_image_larger_than_the_set_is_reported() -> None:
    class NotSkew(nn.Module):
        spec = Skew.spec

        def forward(self, X: Tensor) -> Tensor:
            return X.triu()

    with pytest.raises(AssertionError, match="reaches more than a set of dimension"):
        properties.coverage(NotSkew(), torch.ones(3, 3))


# -------------------------------------------------------------- coverage: image side


@QUICK
@given(strategies.constraint_set("symmetric", (4, 4), dtype=torch.float32))
def test_image_side_round_trip_of_a_degenerate_map(A: Tensor) -> None:
    X = torch.eye(4)
    properties.coverage(Symmetric(), X, A)
    # A diagonal the map drops is a round-trip gap of that size: above round_trip's
    # tolerance (n·eps-relative) from 1e-3 on; a diagonal of 1e-38 is within it.
    if float(A.diagonal().abs().max()) > 1e-3:
        with pytest.raises(AssertionError, match="a point of the constraint set"):
            properties.coverage(DiagonalDroppingSymmetric(), X, A)


def test_an_image_that_misses_half_the_set() -> None:
    # exp of skew matrices reaches only det +1: reflections are orthogonal but not reached.
    reflection = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))
    chain = [Skew(), MatrixExponential("skew")]
    with pytest.raises(AssertionError, match="not reached"):
        properties.coverage(chain, torch.zeros(3, 3, dtype=torch.float64), reflection,
                            constraint="orthogonal")
    rotation = torch.linalg.matrix_exp(torch.tensor(
        [[0.0, 0.5, 0.0], [-0.5, 0.0, 0.2], [0.0, -0.2, 0.0]], dtype=torch.float64))
    properties.coverage(chain, torch.zeros(3, 3, dtype=torch.float64), rotation,
                        constraint="orthogonal")


@pytest.mark.parametrize("entry", [e for e in catalog() if e.name in (
    "Skew", "CayleyMap", "Stiefel", "Sphere((-2, -1))", "Positive", "spd_exp()")],
    ids=lambda e: e.name)
def test_shipped_transforms_reach_their_sets(entry) -> None:  # type: ignore[no-untyped-def]
    shape = (4, 4)
    target = entry.build(shape)
    spec = target.spec if hasattr(target, "spec") else None
    assert spec is not None and spec.constraint is not None

    @QUICK
    @given(strategies.domain(spec.inputs, shape, bound=spec.bound),
           strategies.constraint_set(spec.constraint, shape, norm_dims=spec.norm_dims))
    def run(X: Tensor, A: Tensor) -> None:
        properties.coverage(lambda: entry.build(shape), X, A)

    run()


def test_constraint_set_strategy_rejects_unknown_names() -> None:
    with pytest.raises(UsageError, match="no strategy draws the points of 'banana'"):
        strategies.constraint_set("banana", (3, 3))


# ------------------------------------------------------------------------- inplace


@QUICK
@given(strategies.symmetric(4, dtype=torch.float32), strategies.matrices((3, 3)))
def test_inplace_right_inverse_and_forward_fail_their_twins_pass(S: Tensor, X: Tensor) -> None:
    properties.inplace(Symmetric(), S)
    properties.inplace(Positive(), X * 100)
    if bool((S.tril(-1) != 0).any()):
        with pytest.raises(AssertionError, match=r"InplaceSymmetric\.right_inverse modified"):
            properties.inplace(InplaceSymmetric(), S)


def test_inplace_message_shows_the_unmodified_input() -> None:
    S = torch.tensor([[1.0, 2.0], [2.0, 3.0]])
    with pytest.raises(AssertionError) as caught:
        properties.inplace(InplaceSymmetric(), S)
    message = str(caught.value)
    assert "entry [1, 0] was 2.0 before the call and is 0.0 after it" in message
    assert "the input before the call = torch.tensor([[1.0, 2.0],\n" in message
    assert "layer.weight = A" in message
    assert S[1, 0] == 2.0  # the caller's tensor is never the one handed over


def test_inplace_forward_even_when_values_come_back_equal() -> None:
    with pytest.raises(AssertionError, match=r"InplacePositive\.forward modified its input"):
        properties.inplace(InplacePositive(), torch.tensor([-60.0, 1.0]))
    # In range: the values are unchanged, the version counter still moved.
    with pytest.raises(AssertionError, match="version counter went from 0 to 1"):
        properties.inplace(InplacePositive(), torch.tensor([-1.0, 1.0]))


def test_round_trip_reports_the_unmodified_input_of_an_inplace_right_inverse() -> None:
    # The round trip is right once right_inverse works on a copy: inplace owns this bug.
    properties.round_trip(InplaceSymmetric(), torch.ones(3, 3))


# --------------------------------------------------------------------------- batch


def test_batch_covers_right_inverse() -> None:
    X = torch.randn(2, 4, 4, dtype=torch.float64)
    properties.batch(BatchedCholesky(), X)
    with pytest.raises(AssertionError, match=r"Does right_inverse mix the items"):
        properties.batch(DiagonalInverseCholesky(), X)


def test_batch_right_inverse_with_the_transpose_of_a_batch() -> None:
    from paramcheck.known_bugs import TransposeInverseSkew

    X = torch.randn(2, 4, 4)
    properties.batch(Skew(), X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates .T on a batch: that is the bug
        with pytest.raises(AssertionError, match=r"fails on the batch .* but not on its items"):
            properties.batch(TransposeInverseSkew(), X)


class FixedBaseSphere(nn.Module):
    """No Spec; built for one weight of shape (4,), as geotorch builds each manifold:
    right_inverse copies into a buffer of that shape, so a batch cannot be assigned."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("base", torch.zeros(4))

    def forward(self, X: Tensor) -> Tensor:
        return X / X.norm(dim=-1, keepdim=True)

    def right_inverse(self, A: Tensor) -> Tensor:
        with torch.no_grad():
            self.base.copy_(A)
        return A


class SpeclessBatchMixingSphere(FixedBaseSphere):
    """No Spec either, but right_inverse takes a batch and silently mixes its items:
    ``normalize(A, dim=0)`` is the vector's norm for one weight, the batch's for many."""

    def right_inverse(self, A: Tensor) -> Tensor:
        return torch.nn.functional.normalize(A, dim=0)


def test_a_specless_right_inverse_may_refuse_a_batch_but_not_mix_it() -> None:
    X = torch.randn(2, 4, dtype=torch.float64) + 2.0
    properties.batch(FixedBaseSphere(), X)  # refuses the batch (RuntimeError): no promise
    with pytest.raises(AssertionError, match=r"differs from forward\(right_inverse"):
        properties.batch(SpeclessBatchMixingSphere(), X)


def test_batch_right_inverse_of_stateful_and_chained_transforms() -> None:
    X = torch.randn(3, 4, 4, dtype=torch.float64)
    properties.batch([Skew(), CayleyMap()], X)
    properties.batch(Stiefel(), torch.randn(2, 5, 3, dtype=torch.float64))


@pytest.mark.parametrize("bug", known_bugs.OPT_IN_BUGS, ids=lambda bug: bug.__name__)
def test_opt_in_known_bugs_fail_exactly_their_property(bug: type) -> None:
    # Every property but the contexts (which build networks, compile and train: their own
    # planted bugs are in tests/test_contexts.py).
    every = [p.name for p in properties.registry() if p.group != "contexts"]
    report = paramcheck.verify(bug(), max_examples=10, properties=every)
    assert {f.property for f in report.failures} == {bug.breaks}, str(report)



# --------------------------------------------------------------------------- cache


def test_cache_compares_with_a_freshly_built_twin_not_a_deep_copy() -> None:
    """A forward memoizing on the tensor's identity keeps the first mask after an
    in-place update; a deep copy carries the memo, so only a freshly built twin sees it."""
    from paramcheck.known_bugs import MemoizedTopK, TopKMagnitude

    g = torch.Generator().manual_seed(0)
    X, X2 = torch.randn(2, 4, 4, generator=g, dtype=torch.float64)
    assert not torch.equal(TopKMagnitude().mask(X), TopKMagnitude().mask(X2))
    properties.cache(TopKMagnitude(), X, X2)
    with pytest.raises(AssertionError, match="freshly built twin"):
        properties.cache(MemoizedTopK(), X, X2)
    properties.cache(MemoizedTopK(), X)  # without a second point there is nothing stale
