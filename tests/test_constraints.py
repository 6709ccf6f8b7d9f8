"""paramcheck.constraints: verdicts, measured violations, derived tolerances."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from torch import Tensor

from paramcheck import constraints, strategies
from paramcheck.errors import UsageError

QUICK = settings(max_examples=25, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow])
DTYPES = [torch.float32, torch.float64]


def rotation(theta: float, dtype: torch.dtype = torch.float64) -> Tensor:
    c, s = torch.cos(torch.tensor(theta)), torch.sin(torch.tensor(theta))
    return torch.tensor([[c, -s], [s, c]], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_members_pass_with_their_natural_rounding(dtype: torch.dtype) -> None:
    @QUICK
    @given(Q=strategies.orthogonal(5, batch=(3,), dtype=dtype),
           R=strategies.special_orthogonal(4, dtype=dtype),
           S=strategies.symmetric(4, dtype=dtype), K=strategies.skew(4, dtype=dtype),
           P=strategies.spd(4, max_eigenvalue=100.0, dtype=dtype),
           T=strategies.orthogonal(6, 3, dtype=dtype), W=strategies.orthogonal(3, 6, dtype=dtype))
    def members(Q: Tensor, R: Tensor, S: Tensor, K: Tensor, P: Tensor, T: Tensor, W: Tensor
                ) -> None:
        assert constraints.orthogonal(Q).ok, constraints.orthogonal(Q).message
        assert constraints.orthogonal(T).ok and constraints.orthogonal(W).ok
        assert constraints.special_orthogonal(R).ok
        assert constraints.symmetric(S).ok and constraints.skew(K).ok
        assert constraints.spd(P).ok and constraints.psd(P).ok
        # and a product computed in the dtype, as a transform would: Q·D·Qᵀ
        D = torch.diag(torch.arange(1.0, 5.0, dtype=dtype))
        assert constraints.spd(R @ D @ R.mT).ok, constraints.spd(R @ D @ R.mT).message
        assert constraints.symmetric(R @ D @ R.mT).ok

    members()


def test_violations_are_measured_and_located() -> None:
    A = torch.eye(3, dtype=torch.float64)
    A[0, 2] = 0.5
    sym = constraints.symmetric(A)
    assert not sym.ok and sym.violation == 0.5
    assert "[0, 2]" in sym.message and "above the tolerance" in sym.message

    Q = torch.eye(3, dtype=torch.float64) * 1.1
    ortho = constraints.orthogonal(Q)
    assert not ortho.ok and abs(ortho.violation - 0.21) < 1e-12
    assert "max|QᵀQ - I|" in ortho.message

    batch = torch.stack([torch.eye(2), rotation(0.3, torch.float32), 2 * torch.eye(2)])
    worst = constraints.orthogonal(batch)
    assert not worst.ok and worst.where == (2,) and "matrix [2] of the batch" in worst.message


def test_tolerance_scales_with_dtype_and_size() -> None:
    small = constraints.orthogonal(torch.eye(4, dtype=torch.float64))
    big = constraints.orthogonal(torch.eye(8, dtype=torch.float64))
    single = constraints.orthogonal(torch.eye(4, dtype=torch.float32))
    assert big.tolerance == pytest.approx(2 * small.tolerance)
    assert single.tolerance / small.tolerance == pytest.approx(
        torch.finfo(torch.float32).eps / torch.finfo(torch.float64).eps)


def test_a_perturbation_just_above_the_tolerance_fails_and_below_passes() -> None:
    Q = torch.eye(4, dtype=torch.float64)
    tol = constraints.orthogonal(Q).tolerance
    below, above = Q.clone(), Q.clone()
    # QᵀQ - I ≈ 2δ on the diagonal for a diagonal entry 1 + δ
    below[0, 0] += 0.4 * tol
    above[0, 0] += 0.6 * tol
    assert constraints.orthogonal(below).ok and not constraints.orthogonal(above).ok


def test_semi_orthogonal_uses_the_right_gram_matrix() -> None:
    tall = torch.eye(5, 3, dtype=torch.float64)
    assert constraints.orthogonal(tall).ok and constraints.orthogonal(tall.mT).ok
    assert not constraints.orthogonal(torch.ones(5, 3, dtype=torch.float64) / 5).ok
    assert "QQᵀ - I" in constraints.orthogonal(tall.mT).message


def test_special_orthogonal_rejects_reflections() -> None:
    reflection = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))
    result = constraints.special_orthogonal(reflection)
    assert constraints.orthogonal(reflection).ok and not result.ok
    assert result.violation == pytest.approx(2.0) and "reflection" in result.message


def test_definiteness() -> None:
    singular = torch.diag(torch.tensor([1.0, 0.0], dtype=torch.float64))
    indefinite = torch.diag(torch.tensor([1.0, -0.5], dtype=torch.float64))
    assert constraints.psd(singular).ok and not constraints.spd(singular).ok
    assert not constraints.psd(indefinite).ok
    assert constraints.psd(indefinite).violation == pytest.approx(0.5)
    assert "-0.5" in constraints.psd(indefinite).message
    assert not constraints.spd(torch.tensor([[1.0, 2.0], [0.0, 1.0]])).ok  # not symmetric


def test_unit_norm_and_positive() -> None:
    rows = torch.nn.functional.normalize(torch.randn(3, 4, dtype=torch.float64), dim=-1)
    assert constraints.unit_norm(rows, dim=-1).ok
    assert not constraints.unit_norm(rows).ok  # Frobenius norm of the matrix is sqrt(3)
    assert constraints.unit_norm(rows / 3**0.5).ok
    assert constraints.positive(torch.tensor([1e-30, 2.0])).ok
    result = constraints.positive(torch.tensor([[1.0, 0.0]]))
    assert not result.ok and "[0, 1]" in result.message


@pytest.mark.parametrize("name", sorted(constraints.CONSTRAINTS))
def test_non_finite_input_fails_with_a_message(name: str) -> None:
    A = torch.eye(3)
    A[1, 1] = float("nan")
    result = constraints.check(name, A)
    assert not result.ok and "not finite" in result.message and "[1, 1]" in result.message


def test_registry_and_unknown_names() -> None:
    assert set(constraints.names()) >= {"symmetric", "skew", "orthogonal", "special_orthogonal",
                                        "spd", "psd", "unit_norm", "positive"}
    with pytest.raises(UsageError, match=r"known constraints: .*orthogonal"):
        constraints.get("orthonormal")
    with pytest.raises(ValueError):
        constraints.check("nope", torch.eye(2))


def test_user_predicates_become_checks() -> None:
    def nonnegative(A: Tensor) -> Tensor:
        return A >= 0

    check = constraints.from_callable(nonnegative)
    assert check.__name__ == "nonnegative"
    assert check(torch.eye(2)).ok
    failing = check(-torch.eye(2))
    assert not failing.ok and "first false entry: [0, 0]" in failing.message
    assert not constraints.from_callable(lambda A: "yes")(torch.eye(2)).ok
    assert not constraints.from_callable(lambda A: 1 / 0)(torch.eye(2)).ok


def test_non_square_inputs_to_square_constraints() -> None:
    for name in ("symmetric", "skew", "special_orthogonal"):
        result = constraints.check(name, torch.ones(2, 3))
        assert not result.ok and "square" in result.message


def test_a_zero_dim_bool_verdict_is_judged_by_its_value() -> None:
    # (A == 0).all() is a 0-dim tensor: nonzero() of its negation has no entries, which
    # once read as "nothing failed" and let a False verdict pass.
    assert not constraints.from_callable(lambda A: (A == 0).all())(torch.ones(2, 2)).ok
    assert constraints.from_callable(lambda A: (A == 0).all())(torch.zeros(2, 2)).ok
