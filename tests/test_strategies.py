"""paramcheck.strategies: what they draw, how they shrink, and their errors."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from torch import Tensor

from paramcheck import strategies
from paramcheck.errors import UsageError

QUICK = settings(max_examples=25, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow])
DTYPES = [torch.float32, torch.float64]


def eps(dtype: torch.dtype) -> float:
    return torch.finfo(dtype).eps


@pytest.mark.parametrize("dtype", DTYPES)
@QUICK
@given(data=st.data())
def test_matrices_have_shape_dtype_and_bounded_entries(dtype: torch.dtype, data: st.DataObject
                                                       ) -> None:
    X = data.draw(strategies.matrices((2, 3, 4), dtype=dtype, bound=2.5))
    assert X.shape == (2, 3, 4) and X.dtype == dtype and X.device.type == "cpu"
    assert bool(torch.isfinite(X).all()) and float(X.abs().max()) <= 2.5


@pytest.mark.parametrize("dtype", DTYPES)
@QUICK
@given(data=st.data())
def test_symmetric_and_skew_are_exact_with_bounded_spectral_norm(
        dtype: torch.dtype, data: st.DataObject) -> None:
    S = data.draw(strategies.symmetric(5, batch=(2,), dtype=dtype, bound=3.0))
    K = data.draw(strategies.skew(5, dtype=dtype, bound=3.0))
    assert S.shape == (2, 5, 5) and torch.equal(S, S.mT)
    assert torch.equal(K, -K.mT)
    # ‖M‖₂ ≤ bound by construction; the cast rounds each entry by ≤ eps relative.
    for A in (S, K):
        norm = float(torch.linalg.matrix_norm(A.double(), ord=2).max())
        assert norm <= 3.0 * (1 + 5 * eps(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@QUICK
@given(data=st.data())
def test_orthogonal_is_orthogonal_to_working_precision(
        dtype: torch.dtype, shape: tuple[int, int], data: st.DataObject) -> None:
    Q = data.draw(strategies.orthogonal(*shape, batch=(2,), dtype=dtype)).double()
    rows, cols = shape
    gram = Q.mT @ Q if rows >= cols else Q @ Q.mT
    # Built in float64 and cast once: each entry off by ≤ eps/2 relative, so the Gram
    # matrix is off by ≲ n·eps (n terms of size ≤ 1); 2·n·eps is a safe bound.
    assert float((gram - torch.eye(min(shape), dtype=torch.float64)).abs().max()) <= \
        2 * max(shape) * eps(dtype)


def test_orthogonal_draws_both_determinants_and_special_orthogonal_only_plus_one() -> None:
    negative = find(strategies.orthogonal(3), lambda Q: float(torch.linalg.det(Q)) < 0)
    assert math.isclose(float(torch.linalg.det(negative)), -1.0, abs_tol=1e-12)

    @QUICK
    @given(strategies.special_orthogonal(3, batch=(3,)))
    def rotations(Q: Tensor) -> None:
        assert bool((torch.linalg.det(Q) > 0).all())

    rotations()


@pytest.mark.parametrize("dtype", DTYPES)
@QUICK
@given(data=st.data())
def test_spd_spectrum_lies_in_the_requested_range(dtype: torch.dtype, data: st.DataObject
                                                  ) -> None:
    A = data.draw(strategies.spd(4, min_eigenvalue=0.5, max_eigenvalue=8.0, dtype=dtype))
    assert torch.equal(A, A.mT)
    lam = torch.linalg.eigvalsh(A.double())
    # eigenvalues move by at most ‖E‖₂ ≲ n·eps·‖A‖₂ under rounding (Weyl)
    slack = 4 * 4 * eps(dtype) * 8.0
    assert float(lam.min()) >= 0.5 - slack and float(lam.max()) <= 8.0 + slack


@QUICK
@given(strategies.psd(4, max_eigenvalue=2.0))
def test_psd_has_no_negative_eigenvalue(A: Tensor) -> None:
    assert float(torch.linalg.eigvalsh(A).min()) >= -4 * 4 * eps(A.dtype) * 2.0


@QUICK
@given(strategies.with_singular_values(5, 3, min_singular_value=0.5, max_singular_value=4.0))
def test_with_singular_values_controls_the_condition_number(A: Tensor) -> None:
    sigma = torch.linalg.svdvals(A)
    assert A.shape == (5, 3)
    assert float(sigma.min()) >= 0.5 - 1e-12 and float(sigma.max()) <= 4.0 + 1e-12


@QUICK
@given(strategies.nonzero((3, 4), bound=2.0))
def test_nonzero_entries_are_bounded_away_from_zero(X: Tensor) -> None:
    assert float(X.abs().min()) >= 0.2 and float(X.abs().max()) <= 2.0


@QUICK
@given(strategies.sign_diagonal((2, 4, 3)))
def test_sign_diagonal_has_a_diagonal_of_plus_minus_one(X: Tensor) -> None:
    assert set(X.diagonal(dim1=-2, dim2=-1).flatten().tolist()) <= {-1.0, 1.0}


def test_matrices_shrink_to_zeros_but_for_what_the_test_needs() -> None:
    X = find(strategies.matrices((3, 3)), lambda X: float(X.abs().sum()) >= 1.0)
    assert int((X != 0).sum()) == 1 and float(X.abs().max()) == 1.0


def test_structured_strategies_shrink_to_the_simplest_member() -> None:
    assert torch.equal(find(strategies.orthogonal(3), lambda Q: True), torch.eye(3,
                                                                                 dtype=torch.float64))
    assert torch.equal(find(strategies.skew(3), lambda K: True), torch.zeros(3, 3,
                                                                            dtype=torch.float64))
    assert torch.equal(find(strategies.spd(3), lambda A: True), torch.eye(3, dtype=torch.float64))


def test_no_fill_value_repeated_across_entries() -> None:
    # Every entry is drawn on its own: a matrix with all entries distinct is reachable.
    X = find(strategies.matrices((4, 4)),
             lambda X: len(set(X.flatten().tolist())) == 16, settings=settings(
                 max_examples=200, database=None))
    assert len(set(X.flatten().tolist())) == 16


@pytest.mark.parametrize("name", strategies.DOMAIN_NAMES)
def test_every_domain_name_draws_the_requested_shape_dtype_and_device(name: str) -> None:
    strategy = strategies.domain(name, (2, 3, 3), dtype=torch.float32, device="cpu",
                                 bound=2.0)
    X = find(strategy, lambda X: True)
    assert X.shape == (2, 3, 3) and X.dtype == torch.float32 and X.device.type == "cpu"


def test_domain_errors_are_clear() -> None:
    with pytest.raises(UsageError, match="known domains"):
        strategies.domain("banana", (3, 3))
    with pytest.raises(UsageError, match="square"):
        strategies.domain("skew", (3, 4))
    with pytest.raises(UsageError, match="bound >= 1"):
        strategies.domain("spd", (3, 3), bound=0.5)
    with pytest.raises(UsageError, match="floating"):
        strategies.matrices((3, 3), dtype=torch.int32)
    with pytest.raises(UsageError, match="positive"):
        strategies.matrices((3, -1))
    with pytest.raises(UsageError, match="positive"):
        strategies.orthogonal(0)
    with pytest.raises(UsageError, match="exceeds"):
        strategies.spd(3, min_eigenvalue=5.0, max_eigenvalue=1.0)


# ------------------------------------------------------------------- at real sizes

REAL = settings(max_examples=4, deadline=None, database=None, derandomize=True)


@pytest.mark.parametrize("name", strategies.DOMAIN_NAMES)
def test_every_domain_draws_a_256_by_256_batch_with_hypothesis_health_checks_on(name: str
                                                                                ) -> None:
    # The first symptom: entry-by-entry drawing made Hypothesis refuse a 16×16
    # batch ("the smallest natural input is very large"). Descriptions draw a handful of
    # numbers at any size, so every health check stays on here.
    seen: list[Tensor] = []

    @settings(REAL, suppress_health_check=[])
    @given(strategies.domain(name, (2, 256, 256), dtype=torch.float32, bound=2.0))
    def draw(X: Tensor) -> None:
        assert X.shape == (2, 256, 256) and X.dtype == torch.float32
        assert bool(torch.isfinite(X).all())
        seen.append(X)

    draw()
    assert seen


@pytest.mark.parametrize("dtype", DTYPES)
def test_structured_domains_hold_their_constraint_at_1024(dtype: torch.dtype) -> None:
    n = 1024
    e = eps(dtype)

    @REAL
    @given(Q=strategies.orthogonal(n, dtype=dtype), K=strategies.skew(n, dtype=dtype, bound=3.0),
           S=strategies.symmetric(n, dtype=dtype, bound=3.0),
           P=strategies.domain("spd", (n, n), dtype=dtype, bound=3.0))
    def structured(Q: Tensor, K: Tensor, S: Tensor, P: Tensor) -> None:
        Q64 = Q.double()
        # Built in float64 and cast once: each entry off by ≤ eps/2 relative, so QᵀQ is
        # off by ≲ n·eps (n terms of size ≤ 1); 2·n·eps is a safe bound.
        gram = (Q64.mT @ Q64 - torch.eye(n, dtype=torch.float64)).abs().max()
        assert float(gram) <= 2 * n * e
        assert torch.equal(K, -K.mT) and torch.equal(S, S.mT) and torch.equal(P, P.mT)
        # ‖A‖₂ ≤ bound by construction; the cast moves it by ≤ ‖E‖₂ ≤ n·eps/2·max|A|.
        assert float(torch.linalg.matrix_norm(K.double(), ord=2)) <= 3.0 * (1 + n * e)
        lam = torch.linalg.eigvalsh(P.double())
        # eigenvalues in [1/3, 3], moved by ≤ ‖E‖₂ ≤ n·eps·3 under the cast (Weyl)
        assert float(lam.min()) >= 1 / 3 - n * e * 3 and float(lam.max()) <= 3 + n * e * 3

    structured()


def test_a_description_rebuilds_its_tensor_from_its_repr() -> None:
    namespace = {name: getattr(strategies, name) for name in strategies.__all__}

    @settings(max_examples=30, deadline=None, database=None)
    @given(data=st.data(), name=st.sampled_from(strategies.DOMAIN_NAMES))
    def rebuild(data: st.DataObject, name: str) -> None:
        d = data.draw(strategies.descriptions(name, (2, 70, 70), bound=2.0))
        again = eval(repr(d), namespace)
        assert again == d
        assert torch.equal(again.build(torch.float32), d.build(torch.float32))

    rebuild()


def test_a_counterexample_at_1024_reads_as_its_description() -> None:
    d = strategies.Entrywise("square", (1024, 1024), base=strategies.Zeros(),
                             entries=(((2, 3), 1.0),))
    assert str(d) == "1024×1024 square: zeros, with 1.0 at [2, 3]"
    X = d.build(torch.float32)
    assert int((X != 0).sum()) == 1 and float(X[2, 3]) == 1.0
    small = strategies.Entrywise("square", (4, 4), base=strategies.Explicit(
        (0.0,) * 11 + (1.0,) + (0.0,) * 4))
    assert str(small) == "4×4 square: zeros, with 1.0 at [2, 3]"
    Q = strategies.Spectral("orthogonal", (1024, 1024))
    assert str(Q) == "1024×1024 orthogonal: the identity"
    assert torch.equal(Q.build(), torch.eye(1024, dtype=torch.float64))


def test_large_descriptions_shrink_to_the_simplest_member() -> None:
    big = (1024, 1024)
    one = find(strategies.descriptions("square", big, simple=True),
               lambda d: float(d.build()[0, 1].abs()) >= 1.0)
    assert one == strategies.Entrywise("square", big, 1.0, strategies.Zeros(),
                                       (((0, 1), 1.0),))
    assert find(strategies.descriptions("orthogonal", big), lambda d: True) == \
        strategies.Spectral("orthogonal", big)
    zero = find(strategies.descriptions("skew", big, bound=3.0), lambda d: True).build()
    assert not bool(zero.any())
    # a rotation that moves at least one vector shrinks to the smallest block that does
    rot = find(strategies.descriptions("special_orthogonal", big),
               lambda d: not torch.equal(d.build(), torch.eye(1024, dtype=torch.float64)))
    assert isinstance(rot, strategies.Spectral) and rot.basis.block == 2


def test_strategies_have_readable_reprs() -> None:
    assert repr(strategies.domain("skew", (1024, 1024), dtype=torch.float32, bound=3.0)) == \
        "domain(name='skew', shape=(1024, 1024), dtype=torch.float32, bound=3.0)"
    assert repr(strategies.descriptions("square", (256, 256))) == \
        "descriptions(name='square', shape=(256, 256))"
    assert repr(strategies.Build(torch.float32)) == "Build(dtype=torch.float32)"


def test_a_falsifying_tensor_is_printed_as_the_call_that_rebuilds_it() -> None:
    @settings(max_examples=50, deadline=None, database=None, derandomize=True)
    @given(strategies.domain("square", (512, 512), simple=True))
    def never_nonzero(X: Tensor) -> None:
        assert not bool(X.any())

    with pytest.raises(AssertionError) as info:
        never_nonzero()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    # Hypothesis' pretty printer breaks long calls over lines: compare without whitespace.
    assert "Build(dtype=torch.float64)(Entrywise(" in "".join(notes.split())
    assert "tensor(" not in notes


@pytest.mark.parametrize("call", [
    lambda: strategies.descriptions("banana", (3, 3)),
    lambda: strategies.descriptions("skew", (3, 4)),
    lambda: strategies.descriptions("spd", (3, 3), bound=0.5),
    lambda: strategies.descriptions("matrix", (0, 3)),
    lambda: strategies.descriptions("matrix", (3, 3), bound=float("nan")),
    lambda: strategies.domain("orthogonal", (3,)),
    lambda: strategies.symmetric(True),  # type: ignore[arg-type]
])
def test_invalid_description_arguments_raise_usage_error(call: object) -> None:
    with pytest.raises(UsageError):
        call()  # type: ignore[operator]
