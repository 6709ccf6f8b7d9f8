"""paramcheck.transforms: constraints, right inverses, batches, dtypes and bad input.

These are the package's own example-based tests; the property suite (``properties/``)
searches the same contracts with Hypothesis. The checks below are local on purpose
(``paramcheck.constraints`` is tested on its own), with tolerances derived next to them.

Tolerance scheme. A backward-stable computation of a quantity of size ~1 from ``n x n``
matrices errs by at most ``c · n · eps`` times the condition number ``κ`` of the problem,
with ``c`` a small LAPACK constant. We use ``c = 10`` (as torch's own ``_is_orthogonal``
does), and state ``κ`` for each transform from its spec's bound.
"""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
import torch.nn.utils.parametrize as torch_parametrize
from hypothesis import given, settings
from torch import Tensor, nn

from paramcheck import strategies
from paramcheck.errors import TransformDtypeError, TransformShapeError
from paramcheck.transforms import (
    DOMAINS,
    CayleyMap,
    MatrixExponential,
    Positive,
    Pruning,
    Skew,
    Spec,
    Sphere,
    Stiefel,
    Symmetric,
)

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
FLOAT_DTYPES = (torch.float32, torch.float64)
HALF_DTYPES = (torch.float16, torch.bfloat16)
CONSTRAINTS = {
    "symmetric",
    "skew",
    "orthogonal",
    "special_orthogonal",
    "spd",
    "psd",
    "unit_norm",
    "positive",
}
C = 10.0  # the LAPACK constant of the tolerance scheme (module docstring)


def eps(dtype: torch.dtype) -> float:
    return torch.finfo(dtype).eps


def draw(shape: tuple[int, ...], dtype: torch.dtype, seed: int = 0) -> Tensor:
    """Standard normal entries, drawn in float64 so both dtypes see the same matrix."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def with_spectral_norm(M: Tensor, norm: float) -> Tensor:
    """``M`` rescaled (per matrix) to spectral norm ``norm``; zero stays zero."""
    current = torch.linalg.matrix_norm(M, ord=2, keepdim=True).clamp_min(1e-30)
    return M / current * norm


def draw_skew(shape: tuple[int, ...], dtype: torch.dtype, norm: float, seed: int = 0) -> Tensor:
    X = draw(shape, torch.float64, seed)
    return with_spectral_norm(X - X.mT, norm).to(dtype)


def draw_symmetric(
    shape: tuple[int, ...], dtype: torch.dtype, norm: float, seed: int = 0
) -> Tensor:
    X = draw(shape, torch.float64, seed)
    return with_spectral_norm(X + X.mT, norm).to(dtype)


def max_abs(X: Tensor) -> float:
    return float(X.detach().abs().max()) if X.numel() else 0.0


def assert_orthonormal(Q: Tensor, kappa: float) -> None:
    """Columns (tall) or rows (wide) orthonormal: ``|QᵀQ - I| ≤ C · n · eps · κ``.

    A backward-stable ``Q`` is ``Q* + Δ``, ``|Δ| ≲ n·eps·κ``; ``QᵀQ - I ≈ ΔᵀQ + QᵀΔ``
    doubles that, which ``C`` absorbs.
    """
    n, k = Q.shape[-2], Q.shape[-1]
    gram = Q.mT @ Q if n >= k else Q @ Q.mT
    eye = torch.eye(min(n, k), dtype=Q.dtype)
    assert max_abs(gram - eye) <= C * max(n, k) * eps(Q.dtype) * kappa


def assert_special_orthogonal(Q: Tensor, kappa: float) -> None:
    assert_orthonormal(Q, kappa)
    # det of an orthogonal matrix is ±1; rounding moves it by O(n·eps), far from 0.
    assert bool((torch.linalg.det(Q) > 0.5).all())


def assert_spd(A: Tensor, kappa: float) -> None:
    """Symmetric to ``C·n·eps·κ`` relative, and positive definite with margin.

    ``A = exp(X)`` with ``‖X‖₂ ≤ b`` has eigenvalues in ``[e⁻ᵇ, eᵇ]``; rounding moves
    them by at most ``C·n·eps·‖A‖``, which must stay below ``λ_min``.
    """
    n = A.shape[-1]
    scale = max_abs(A)
    assert max_abs(A - A.mT) <= C * n * eps(A.dtype) * kappa * scale
    smallest = torch.linalg.eigvalsh((A + A.mT) / 2).min()
    assert float(smallest) > 0


# --- what each transform promises -------------------------------------------------------------


@dataclass
class Case:
    """One transform under test: how to build it, draw inputs, and judge its output."""

    make: Callable[[], nn.Module]
    draw: Callable[[tuple[int, ...], torch.dtype, int], Tensor]
    check: Callable[[Tensor, Tensor], None]  # (output, input) -> asserts the constraint
    round_trip_tol: Callable[[torch.dtype, int], float]  # absolute, for outputs of size ~1
    shapes: tuple[tuple[int, ...], ...]
    batch_shape: tuple[int, ...]
    item_ndim: int = 2  # trailing dimensions of one item of batch_shape
    grad_shape: tuple[int, ...] | None = None  # for gradcheck; default: the last of shapes


# Cayley map with ‖X‖₂ ≤ 3: κ(I - X) = κ(Q + I) = sqrt(1 + 3²) ≈ 3.2. The round trip
# solves with both, so its error is ~ n·eps·κ².
CAYLEY_KAPPA = math.sqrt(1 + CayleyMap.spec.bound**2)
# exp of a skew X: the principal log via eig is backward stable (residual ~ n·eps), and
# exp is an isometry on skew matrices: κ = 1.
EXP_SKEW_BOUND = MatrixExponential("skew").spec.bound
# exp of a symmetric X with ‖X‖₂ ≤ b: κ(A) = e^{2b}; the log's error is ‖δA‖/λ_min, so
# the round trip is good to n·eps·κ relative to ‖A‖ = eᵇ.
EXP_SYM_BOUND = MatrixExponential("symmetric").spec.bound
EXP_SYM_KAPPA = math.exp(2 * EXP_SYM_BOUND)
PRUNING_SHAPE = (3, 4)

CASES: dict[str, Case] = {
    "Symmetric": Case(
        make=Symmetric,
        draw=lambda s, d, seed: draw(s, d, seed),
        check=lambda Y, X: None if torch.equal(Y, Y.mT) else pytest.fail("not symmetric"),
        round_trip_tol=lambda d, n: 0.0,  # copies entries: exact
        shapes=((1, 1), (3, 3), (5, 5)),
        batch_shape=(2, 3, 4, 4),
    ),
    "Skew": Case(
        make=Skew,
        draw=lambda s, d, seed: draw(s, d, seed),
        check=lambda Y, X: None if torch.equal(Y, -Y.mT) else pytest.fail("not skew"),
        round_trip_tol=lambda d, n: 0.0,
        shapes=((1, 1), (3, 3), (5, 5)),
        batch_shape=(2, 3, 4, 4),
    ),
    "CayleyMap": Case(
        make=CayleyMap,
        draw=lambda s, d, seed: draw_skew(s, d, CayleyMap.spec.bound, seed),
        check=lambda Y, X: assert_special_orthogonal(Y, CAYLEY_KAPPA),
        round_trip_tol=lambda d, n: C * n * eps(d) * CAYLEY_KAPPA**2,
        shapes=((1, 1), (2, 2), (5, 5)),
        batch_shape=(2, 3, 4, 4),
    ),
    "MatrixExponential(skew)": Case(
        make=lambda: MatrixExponential("skew"),
        draw=lambda s, d, seed: draw_skew(s, d, EXP_SKEW_BOUND, seed),
        check=lambda Y, X: assert_special_orthogonal(Y, 1.0),
        round_trip_tol=lambda d, n: C * n * eps(d),
        shapes=((1, 1), (2, 2), (5, 5)),
        batch_shape=(2, 3, 4, 4),
    ),
    "MatrixExponential(symmetric)": Case(
        make=lambda: MatrixExponential("symmetric"),
        draw=lambda s, d, seed: draw_symmetric(s, d, EXP_SYM_BOUND, seed),
        check=lambda Y, X: assert_spd(Y, 1.0),
        round_trip_tol=lambda d, n: C * n * eps(d) * EXP_SYM_KAPPA * math.exp(EXP_SYM_BOUND),
        shapes=((1, 1), (2, 2), (5, 5)),
        batch_shape=(2, 3, 4, 4),
    ),
    "Stiefel": Case(
        make=Stiefel,
        draw=lambda s, d, seed: draw(s, d, seed),
        # Householder products are backward stable: κ = 1.
        check=lambda Y, X: assert_orthonormal(Y, 1.0),
        round_trip_tol=lambda d, n: C * n * eps(d),
        shapes=((5, 3), (3, 5), (4, 4), (1, 1), (6, 1)),
        batch_shape=(2, 3, 5, 3),
        grad_shape=(4, 2),
    ),
    "Sphere": Case(
        make=Sphere,
        draw=lambda s, d, seed: draw(s, d, seed),
        # ‖X/‖X‖‖ - 1: the sum of m squares and one division, each within (m + 2)·eps.
        check=lambda Y, X: _assert_unit_rows(Y),
        round_trip_tol=lambda d, n: 4 * (n + 2) * eps(d),
        shapes=((3,), (1, 1), (4, 5)),
        batch_shape=(2, 3, 4, 5),
    ),
    "Positive": Case(
        make=Positive,
        draw=lambda s, d, seed: (draw(s, d, seed) * 40).clamp(
            -Positive.spec.bound, Positive.spec.bound
        ),
        check=lambda Y, X: None if bool((Y > 0).all()) else pytest.fail("not positive"),
        # (used for batches and half precision; round trips use positive_round_trip_tolerance)
        round_trip_tol=lambda d, n: 8 * eps(d),
        shapes=((), (4,), (3, 4)),
        batch_shape=(2, 3, 4),
        item_ndim=1,
    ),
    "Pruning": Case(
        make=lambda: Pruning(PRUNING_SHAPE, p_drop=0.5, seed=0),
        draw=lambda s, d, seed: draw(s, d, seed),
        # The same seed draws the same mask: Y is X where it is True, 0 elsewhere.
        check=lambda Y, X: (
            None
            if torch.equal(Y, torch.where(Pruning(PRUNING_SHAPE, p_drop=0.5, seed=0).mask, X, 0))
            else pytest.fail("not pruned by the mask")
        ),
        round_trip_tol=lambda d, n: 0.0,
        shapes=(PRUNING_SHAPE,),
        batch_shape=(2, 3, *PRUNING_SHAPE),
    ),
}


def positive_round_trip_tolerance(y: Tensor, x: Tensor) -> Tensor:
    """Absolute tolerance for ``softplus(g(y)) - y``, with ``x = g(y)``.

    ``g`` and softplus each round to a few eps (8 eps in all), and the ``exp`` inside
    softplus turns the rounding of ``x`` (absolute ``|x|·eps``) into a relative error
    ``|x|·eps`` of ``y``. Subnormal ``y`` are only exact to a few of their ulps (4).
    """
    subnormal_ulp = torch.finfo(y.dtype).tiny * eps(y.dtype)
    return (8 + x.abs()) * eps(y.dtype) * y.abs() + 4 * subnormal_ulp


def _assert_unit_rows(Y: Tensor) -> None:
    m = Y.shape[-1]
    norms = torch.linalg.vector_norm(Y.double(), dim=-1)
    assert max_abs(norms - 1) <= 4 * (m + 2) * eps(Y.dtype)


case_names = pytest.mark.parametrize("name", list(CASES))
dtypes = pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)


@case_names
@dtypes
def test_constraint_on_random_inputs(name: str, dtype: torch.dtype) -> None:
    case = CASES[name]
    for seed, shape in enumerate(case.shapes):
        X = case.draw(shape, dtype, seed)
        Y = case.make()(X)
        assert Y.shape == X.shape
        assert Y.dtype == dtype
        assert bool(torch.isfinite(Y).all())
        case.check(Y, X)


@case_names
@dtypes
def test_right_inverse_on_the_image(name: str, dtype: torch.dtype) -> None:
    """``forward(right_inverse(A)) == A`` for ``A = forward(X)``, within the case's tolerance."""
    case = CASES[name]
    for seed, shape in enumerate(case.shapes):
        f = case.make()
        A = f(case.draw(shape, dtype, seed))
        B = f(f.right_inverse(A))
        n = max(shape) if shape else 1
        assert B.dtype == dtype
        if name == "Positive":  # relative, see positive_round_trip_tolerance
            assert bool(
                (B - A).abs().le(positive_round_trip_tolerance(A, f.right_inverse(A))).all()
            )
        else:
            assert max_abs(B - A) <= case.round_trip_tol(dtype, n), name


@case_names
@dtypes
def test_batched_input_equals_each_matrix(name: str, dtype: torch.dtype) -> None:
    case = CASES[name]
    f = case.make()
    X = case.draw(case.batch_shape, dtype, 7)
    Y = f(X)
    items = X.reshape(-1, *X.shape[X.ndim - case.item_ndim :])
    each = torch.stack([f(x) for x in items]).reshape(Y.shape)
    n = max(case.batch_shape[-2:])
    # Batched LAPACK calls loop over the same kernels, but rounding may differ with the
    # memory layout: allow the round-trip tolerance (0 for the copying transforms).
    assert max_abs(Y - each) <= case.round_trip_tol(dtype, n) * max(1.0, max_abs(Y))


@case_names
def test_gradients_match_finite_differences(name: str) -> None:
    case = CASES[name]
    X = case.draw(case.grad_shape or case.shapes[-1], torch.float64, 3).requires_grad_()
    assert torch.autograd.gradcheck(case.make(), (X,))


@case_names
def test_spec_is_well_formed(name: str) -> None:
    spec = CASES[name].make().spec
    assert isinstance(spec, Spec)
    assert spec.constraint is None or spec.constraint in CONSTRAINTS
    assert spec.inputs in DOMAINS
    assert set(FLOAT_DTYPES) <= set(spec.dtypes)


# --- half precision: works, or a clear refusal ---------------------------------------------------

# forward runs in half precision (torch has the kernels); spec declares it only where
# the right inverse runs too and the constraint holds over the spec's bound.
HALF_FORWARD = {"Symmetric", "Skew", "Sphere", "Positive", "Pruning"} | {
    "MatrixExponential(skew)",
    "MatrixExponential(symmetric)",
}
HALF_DECLARED = {"Symmetric", "Skew", "Sphere", "Pruning"}


@case_names
@pytest.mark.parametrize("dtype", HALF_DTYPES, ids=str)
def test_half_precision_works_or_is_refused_clearly(name: str, dtype: torch.dtype) -> None:
    case = CASES[name]
    X = case.draw(case.shapes[-1], torch.float32, 0).to(dtype)
    f = case.make()
    assert (dtype in f.spec.dtypes) == (name in HALF_DECLARED)
    if name in HALF_FORWARD:
        assert f(X).dtype == dtype
    else:
        with pytest.raises(TransformDtypeError, match=f"{name}.*{dtype}"):
            f(X)
    if name in HALF_DECLARED:  # then the constraint and the round trip hold too
        A = f(X)
        case.check(A, X)
        n = max(X.shape[-2:])
        assert max_abs(f(f.right_inverse(A)) - A) <= case.round_trip_tol(dtype, n)


def test_matrix_exponential_forward_takes_half_but_its_inverse_refuses_it() -> None:
    f = MatrixExponential("symmetric")
    A = f(torch.zeros(3, 3, dtype=torch.float16))
    assert A.dtype == torch.float16
    with pytest.raises(TransformDtypeError, match=r"MatrixExponential.*float16"):
        f.right_inverse(A)


# --- bad input ----------------------------------------------------------------------------------

SQUARE_ONLY = {
    "Symmetric": Symmetric,
    "Skew": Skew,
    "CayleyMap": CayleyMap,
    "MatrixExponential": lambda: MatrixExponential("skew"),
}
MATRIX_ONLY = {**SQUARE_ONLY, "Stiefel": Stiefel}
ANY_INPUT = {
    **MATRIX_ONLY,
    "Sphere": Sphere,
    "Positive": Positive,
    "Pruning": lambda: Pruning((3,)),
}


#: Both entry points validate their input: forward (a read) and right_inverse (an
#: assignment, which receives whatever the user assigns).
methods = pytest.mark.parametrize("method", ["forward", "right_inverse"])


def _call(module: nn.Module, method: str, X: object) -> object:
    return module(X) if method == "forward" else module.right_inverse(X)  # type: ignore[operator]


@methods
@pytest.mark.parametrize("name", list(SQUARE_ONLY))
def test_non_square_input_is_refused_with_a_clear_message(name: str, method: str) -> None:
    with pytest.raises(TransformShapeError) as info:
        _call(SQUARE_ONLY[name](), method, torch.zeros(3, 4))
    message = str(info.value)
    assert name in message  # the transform
    assert method != "right_inverse" or "right_inverse" in message  # and which call
    assert "(3, 4)" in message  # what it got
    assert "square" in message  # what it needs


@methods
@pytest.mark.parametrize("name", list(MATRIX_ONLY))
def test_one_dimensional_input_is_refused_with_a_clear_message(name: str, method: str) -> None:
    with pytest.raises(TransformShapeError) as info:
        _call(MATRIX_ONLY[name](), method, torch.zeros(4))
    message = str(info.value)
    assert name in message
    assert method != "right_inverse" or "right_inverse" in message
    assert "1-D" in message and "(4,)" in message
    assert "matrix" in message


@methods
@pytest.mark.parametrize("name", list(ANY_INPUT))
@pytest.mark.parametrize("bad", [torch.int64, torch.bool, torch.complex64], ids=str)
def test_non_float_dtype_is_refused_with_a_clear_message(name: str, bad: torch.dtype,
                                                         method: str) -> None:
    X = torch.zeros(3, 3).to(bad) if name != "Pruning" else torch.zeros(3).to(bad)
    with pytest.raises(TransformDtypeError) as info:
        _call(ANY_INPUT[name](), method, X)
    message = str(info.value)
    assert name in message
    assert method != "right_inverse" or "right_inverse" in message
    assert str(bad) in message
    assert "float32" in message and "float64" in message


def test_a_non_tensor_is_refused_with_a_clear_message() -> None:
    with pytest.raises(TransformDtypeError, match=r"Skew needs a torch.Tensor; got list"):
        Skew()([[0.0, 1.0], [2.0, 3.0]])  # type: ignore[arg-type]


def test_errors_subclass_the_builtin_exceptions() -> None:
    with pytest.raises(ValueError):
        Symmetric()(torch.zeros(2, 3))
    with pytest.raises(TypeError):
        Symmetric()(torch.zeros(2, 2, dtype=torch.int32))


# --- CayleyMap: the tutorial's formula versus the right one ---------------------------------


def rotation_about_z(angle: float, dtype: torch.dtype = torch.float64) -> Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=dtype)


def test_tutorial_cayley_inverse_fails_the_round_trip_where_cayley_map_passes() -> None:
    """A rotation by 1 rad about z: special orthogonal, no eigenvalue -1, not symmetric."""
    Q = rotation_about_z(1.0)
    eye = torch.eye(3, dtype=Q.dtype)
    tutorial_inverse = torch.linalg.solve(Q + eye, eye - Q)  # the tutorial, X read as A
    cayley = CayleyMap(3)
    from_tutorial = cayley(tutorial_inverse)
    assert torch.allclose(from_tutorial, Q.mT, atol=1e-12)  # it gives Qᵀ back...
    assert max_abs(from_tutorial - Q) > 1.0  # ...which is far from Q (|2 sin 1| ≈ 1.68)
    # The right inverse: 30 eps (κ(Q + I) = 1/cos(1/2) ≈ 1.14 on 3x3, C·n·eps·κ²).
    assert max_abs(cayley(cayley.right_inverse(Q)) - Q) <= C * 3 * eps(Q.dtype) * 1.14**2


def test_cayley_map_optional_n_checks_the_size() -> None:
    assert CayleyMap()(torch.zeros(2, 6, 6)).shape == (2, 6, 6)
    with pytest.raises(TransformShapeError, match=r"CayleyMap\(3\).*\(4, 4\)"):
        CayleyMap(3)(torch.zeros(4, 4))


def test_cayley_inverse_returns_a_skew_matrix_and_rejects_eigenvalue_minus_one() -> None:
    S = CayleyMap().right_inverse(draw((4, 4), torch.float64))  # not orthogonal: still skew
    assert torch.equal(S, -S.mT)
    reflection = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="eigenvalue -1"):
        CayleyMap().right_inverse(reflection)


# --- MatrixExponential ---------------------------------------------------------------------------


def test_orthogonal_log_recovers_the_skew_matrix_below_pi() -> None:
    exp = MatrixExponential("skew")
    S = draw_skew((2, 5, 5), torch.float64, 3.0, seed=11)
    # log ∘ exp is the identity on ‖S‖₂ < π; κ of log there is θ/sin θ ≤ 3/sin 3 ≈ 21.
    assert max_abs(exp.right_inverse(exp(S)) - S) <= C * 5 * eps(torch.float64) * 21


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("norm", [3.1, 3.14])
def test_orthogonal_log_stays_accurate_near_the_eigenvalue_minus_one(
    dtype: torch.dtype, norm: float
) -> None:
    exp = MatrixExponential("skew")
    Q = exp(draw_skew((6, 6), torch.float64, norm, seed=5).to(dtype))
    # Backward error stays ~ n·eps even near θ = π (a Cayley-based log loses eps/(π-θ)²).
    assert max_abs(exp(exp.right_inverse(Q)) - Q) <= C * 6 * eps(dtype)


@pytest.mark.parametrize(
    "angles",
    [(), (1.0, 1.0), (1e-4, 1e-4), (2.5, 2.5)],
    ids=["identity", "repeated", "tiny", "wide"],
)
def test_orthogonal_log_handles_repeated_eigenvalues(angles: tuple[float, ...]) -> None:
    Q = torch.eye(6, dtype=torch.float64)
    for i, angle in enumerate(angles):
        c, s = math.cos(angle), math.sin(angle)
        Q[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = torch.tensor([[c, -s], [s, c]], dtype=Q.dtype)
    R = torch.linalg.qr(draw((6, 6), torch.float64, 2))[0]
    R[:, 0] *= torch.sign(torch.linalg.det(R))  # det +1
    Q = R @ Q @ R.mT
    exp = MatrixExponential("skew")
    assert max_abs(exp(exp.right_inverse(Q)) - Q) <= C * 6 * eps(torch.float64)


def test_matrix_exponential_inverse_refuses_what_is_not_in_the_image() -> None:
    with pytest.raises(ValueError, match=r"MatrixExponential\(domain='skew'\).*det"):
        MatrixExponential("skew").right_inverse(torch.diag(torch.tensor([-1.0, 1.0, 1.0])))
    with pytest.raises(ValueError, match=r"symmetric positive definite.*-1"):
        MatrixExponential("symmetric").right_inverse(torch.diag(torch.tensor([-1.0, 1.0])))


def test_matrix_exponential_without_a_domain_behaves_like_the_tutorial() -> None:
    exp = MatrixExponential()
    assert exp.spec.constraint is None and not exp.spec.inverse_exact
    with pytest.raises(NotImplementedError, match="MatrixExponential\\('skew'\\)"):
        exp.right_inverse(torch.eye(3))
    # Registration treats NotImplementedError as "no right_inverse", as for the tutorial's.
    layer = nn.Linear(3, 3)
    W = layer.weight.detach().clone()
    torch_parametrize.register_parametrization(layer, "weight", exp)
    assert torch.allclose(layer.weight, torch.matrix_exp(W))
    with pytest.raises(ValueError, match="domain"):
        MatrixExponential("orthogonal")  # type: ignore[arg-type]


# --- Pruning ------------------------------------------------------------------------------------


def test_pruning_zeroes_exactly_the_mask() -> None:
    prune = Pruning(PRUNING_SHAPE, p_drop=0.5, seed=0)
    X = draw((2, *PRUNING_SHAPE), torch.float64) + 10  # no zero entries of its own
    Y = prune(X)
    assert torch.equal(Y == 0, ~prune.mask.expand_as(Y))
    assert torch.equal(Y[..., prune.mask], X[..., prune.mask])


def test_pruning_mask_is_reproducible() -> None:
    shape = (20, 30)
    assert torch.equal(Pruning(shape, seed=1).mask, Pruning(shape, seed=1).mask)
    assert not torch.equal(Pruning(shape, seed=1).mask, Pruning(shape, seed=2).mask)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(Pruning(shape, generator=g1).mask, Pruning(shape, generator=g2).mask)
    torch.manual_seed(9)
    first = Pruning(shape).mask
    torch.manual_seed(9)
    assert torch.equal(first, Pruning(shape).mask)
    # 600 entries, P(drop) = 0.2: the kept fraction is 0.8 ± 0.016 (one sd); allow 5 sd.
    assert abs(float(first.float().mean()) - 0.8) < 5 * math.sqrt(0.8 * 0.2 / 600)
    assert bool(Pruning(shape, p_drop=0.0).mask.all())
    assert not bool(Pruning(shape, p_drop=1.0).mask.any())


def test_pruning_mask_travels_with_state_dict_and_deepcopy() -> None:
    layer = nn.Linear(4, 3)
    prune = Pruning(layer.weight, seed=3)
    torch_parametrize.register_parametrization(layer, "weight", prune)
    state = layer.state_dict()
    assert torch.equal(state["parametrizations.weight.0.mask"], prune.mask)
    twin = copy.deepcopy(layer)
    assert torch.equal(twin.weight, layer.weight)
    fresh = nn.Linear(4, 3)
    torch_parametrize.register_parametrization(fresh, "weight", Pruning(fresh.weight, seed=99))
    fresh.load_state_dict(state)
    assert torch.equal(fresh.weight, layer.weight)
    assert prune.to(torch.float64).mask.dtype == torch.bool  # .to(dtype) leaves it alone


def test_pruning_refuses_bad_arguments_and_shapes() -> None:
    with pytest.raises(ValueError, match="p_drop"):
        Pruning((3, 3), p_drop=1.5)
    with pytest.raises(ValueError, match="seed or a generator"):
        Pruning((3, 3), seed=1, generator=torch.Generator())
    with pytest.raises(TransformShapeError, match=r"Pruning.*\(3, 4\).*\(4, 3\)"):
        Pruning((3, 4))(torch.zeros(4, 3))


# --- Stiefel ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_stiefel_right_inverse_covers_the_identity_and_every_sign(shape: tuple[int, int]) -> None:
    stiefel = Stiefel()
    eye = torch.eye(*shape, dtype=torch.float64)
    assert max_abs(stiefel(stiefel.right_inverse(eye)) - eye) <= C * 5 * eps(torch.float64)
    flipped = eye.clone()
    flipped[0, 0] = -1
    assert max_abs(stiefel(stiefel.right_inverse(flipped)) - flipped) <= C * 5 * eps(torch.float64)


def test_stiefel_is_orthonormal_and_differentiable_at_zero() -> None:
    X = torch.zeros(5, 3, dtype=torch.float64, requires_grad=True)
    Q = Stiefel()(X)
    assert_orthonormal(Q.detach(), 1.0)
    (Q * draw((5, 3), torch.float64)).sum().backward()
    assert X.grad is not None and bool(torch.isfinite(X.grad).all())


def test_stiefel_right_inverse_orthogonalises_other_matrices() -> None:
    A = draw((6, 3), torch.float64, 4)
    Q = Stiefel()(Stiefel().right_inverse(A))
    q, r = torch.linalg.qr(A)
    expected = q * torch.sign(r.diagonal()).unsqueeze(-2)  # QR factor with positive diag(R)
    assert max_abs(Q - expected) <= C * 6 * eps(torch.float64) * float(torch.linalg.cond(A))


# --- Sphere -------------------------------------------------------------------------------------


def test_sphere_maps_zero_to_the_first_basis_vector_with_finite_gradients() -> None:
    X = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    Y = Sphere()(X)
    assert torch.equal(Y, torch.tensor([[1.0, 0, 0], [1.0, 0, 0]], dtype=torch.float64))
    Y.sum().backward()
    assert X.grad is not None and bool(torch.isfinite(X.grad).all())
    frobenius = Sphere(dim=(-2, -1))(torch.zeros(2, 2, 3))
    assert torch.equal(frobenius[0], torch.tensor([[1.0, 0, 0], [0, 0, 0]]))


@pytest.mark.parametrize("magnitude", [1e-30, 1e30])
def test_sphere_neither_underflows_nor_overflows(magnitude: float) -> None:
    Y = Sphere()(torch.full((2, 4), magnitude))
    assert torch.allclose(Y, torch.full((2, 4), 0.5))


def test_sphere_over_several_dimensions() -> None:
    X = draw((3, 4, 5), torch.float64)
    Y = Sphere(dim=(-2, -1))(X)
    norms = torch.linalg.matrix_norm(Y)
    assert max_abs(norms - 1) <= 4 * (20 + 2) * eps(torch.float64)
    assert Sphere(dim=(-2, -1)).spec.norm_dims == (-2, -1)
    with pytest.raises(ValueError, match="negative"):
        Sphere(dim=0)
    with pytest.raises(TransformShapeError, match=r"Sphere.*at least 2"):
        Sphere(dim=(-2, -1))(torch.zeros(3))


# --- Positive -----------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [-100.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 89.0, 100.0])
def test_positive_round_trip_in_float32_at_extremes(x: float) -> None:
    positive = Positive()
    y = positive(torch.tensor([x]))
    assert float(y) > 0
    back = positive(positive.right_inverse(y))
    assert bool((back - y).abs().le(positive_round_trip_tolerance(y, positive.right_inverse(y))))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_positive_right_inverse_projects_non_positive_values(dtype: torch.dtype) -> None:
    positive = Positive()
    y = torch.tensor([-3.0, 0.0, 2.0], dtype=dtype)
    x = positive.right_inverse(y)
    assert bool(torch.isfinite(x).all())
    smallest = torch.finfo(dtype).tiny * eps(dtype)  # the smallest positive subnormal
    expected = torch.tensor([smallest, smallest, 2.0], dtype=dtype)
    assert bool((positive(x) - expected).abs().le(positive_round_trip_tolerance(expected, x)).all())
    layer = nn.Linear(3, 3, dtype=dtype)  # a bias with negative entries, registered
    torch_parametrize.register_parametrization(layer, "bias", positive)
    assert bool((layer.bias > 0).all())


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_positive_round_trip_is_relatively_exact_over_the_decades(dtype: torch.dtype) -> None:
    """Every positive ``y`` (1e-30 to 1e3, the image side), entry by entry, to
    ``(8 + |x|)·eps`` relative: an absolute tolerance would hide a tiny entry's loss."""
    positive = Positive()

    @settings(max_examples=50, deadline=None, database=None, derandomize=True)
    @given(strategies.positive((16,), dtype=dtype))
    def round_trip(y: Tensor) -> None:
        x = positive.right_inverse(y)
        back = positive(x)
        assert bool((back - y).abs().le(positive_round_trip_tolerance(y, x)).all()), (y, back)

    round_trip()


def test_positive_forward_is_accurate_in_float64_above_torchs_threshold() -> None:
    x = torch.tensor([25.0, 35.0], dtype=torch.float64)
    exact = x + torch.log1p(torch.exp(-x))  # softplus(x) = x + log(1 + e⁻ˣ), stable for x > 0
    assert max_abs(Positive()(x) - exact) <= 2 * eps(torch.float64) * 35


# --- hygiene ------------------------------------------------------------------------------------


def test_transforms_need_only_torch() -> None:
    code = (
        "import sys, paramcheck.transforms, paramcheck.known_bugs; "
        "heavy = {'hypothesis', 'pandas', 'matplotlib', 'paramcheck.parametrize'}; "
        "assert not heavy & set(sys.modules), heavy & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_state_follows_the_module_but_stateless_transforms_build_from_the_input() -> None:
    # No float buffers: any float dtype works as constructed.
    for make in (Symmetric, Skew, CayleyMap, Stiefel, Sphere, Positive, MatrixExponential):
        f = make()
        assert not [b for b in f.buffers() if b.is_floating_point()]
        assert not f.spec.stateful


@requires_cuda
@case_names
def test_cuda_output_stays_on_the_device_and_matches_the_cpu(name: str) -> None:
    case = CASES[name]
    f = case.make()
    X = case.draw(case.batch_shape, torch.float64, 1)
    expected = f(X)
    f_cuda = copy.deepcopy(f).to("cuda")
    Y = f_cuda(X.cuda())
    assert Y.device.type == "cuda"
    assert Y.dtype == X.dtype
    n = max(case.batch_shape[-2:])
    tol = max(case.round_trip_tol(torch.float64, n), C * n * eps(torch.float64))
    assert max_abs(Y.cpu() - expected) <= tol * max(1.0, max_abs(expected))
    A = f_cuda.right_inverse(Y)
    assert A.device.type == "cuda"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matrix_exponential_is_exact_for_a_lone_matrix(dtype: torch.dtype) -> None:
    """torch.matrix_exp's lone-matrix T8 path is off by ~1e5 eps (pytorch/pytorch#196592);
    MatrixExponential must match the closed form exp(diag(d)) = diag(e^d) to a few eps."""
    d = torch.tensor([0.0, 0.0, 0.0, 0.03125, 0.5], dtype=dtype)
    expected = torch.diag(torch.exp(d))
    for X in (torch.diag(d), torch.diag(d)[None]):
        got = MatrixExponential()(X).reshape(5, 5)
        # exp of a diagonal matrix is computed entrywise by the polynomial: a handful of
        # roundings per entry, so 4 eps relative to the largest entry (e^0.5 < 2) is ample.
        assert (got - expected).abs().max() <= 4 * torch.finfo(dtype).eps * 2
