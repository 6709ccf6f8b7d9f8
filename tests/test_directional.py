"""paramcheck._directional: the gradient law that scales, with a planted bug and clean twins."""

from __future__ import annotations

import pytest
import torch
from hypothesis import strategies as st
from torch import Tensor, nn

import paramcheck
from paramcheck import _directional, _gradcheck, known_bugs, properties, strategies
from paramcheck import _target as tg
from paramcheck.errors import CouldNotJudge, PropertyFailed
from paramcheck.transforms import CayleyMap, MatrixExponential, Skew, Sphere, Stiefel

N = 256


def _drawn(domain: str, seed: int, bound: float = 1.0) -> Tensor:
    """A dense input at N×N, from a description (no Hypothesis needed)."""
    if domain in ("skew", "symmetric"):
        d: strategies.Description = strategies.Spectral(
            domain, (N, N), strategies.Rotation(seed, N),
            strategies.Spectrum(bound, 10.0, "random", seed))
    else:
        d = strategies.Entrywise(domain, (N, N), bound, strategies.Uniform(seed, bound))
    return d.build()


class _ScaledBackward(torch.autograd.Function):
    """Identity forward whose backward is off by a factor: a planted wrong gradient."""

    @staticmethod
    def forward(ctx: object, X: Tensor, factor: float) -> Tensor:  # type: ignore[override]
        ctx.factor = factor  # type: ignore[attr-defined]
        return X.clone()

    @staticmethod
    def backward(ctx: object, g: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        return g * ctx.factor, None  # type: ignore[attr-defined]


class SlightlyWrongCayley(CayleyMap):
    """CayleyMap whose backward is 1% too large: values exact, gradient wrong."""

    def forward(self, X: Tensor) -> Tensor:
        return super().forward(_ScaledBackward.apply(X, 1.01))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("module", "domain", "bound"), [
    (Sphere(), "matrix", 1.0),
    (Sphere((-2, -1)), "matrix", 1.0),
    (CayleyMap(), "skew", 3.0),
    (MatrixExponential("skew"), "skew", 3.0),
    (Skew(), "square", 1.0),
], ids=["Sphere", "Sphere2", "CayleyMap", "MatrixExponential", "Skew"])
def test_correct_backward_passes_at_256(module: nn.Module, domain: str, bound: float,
                                        seed: int) -> None:
    X = _drawn(domain, seed, bound)
    assert _directional.check_at(tg.Target(module), X, _gradcheck.tangent(domain),
                                 _directional.tangent(domain)) is None


def test_planted_detached_norm_is_caught_at_256_and_its_twin_is_not() -> None:
    X = _drawn("matrix", 0)
    problem = _directional.check_at(tg.Target(known_bugs.DetachedNormSphere()), X, None)
    assert problem is not None and "directional derivative" in problem
    assert _directional.check_at(tg.Target(Sphere()), X, None) is None


def test_a_one_percent_wrong_backward_is_caught() -> None:
    X = _drawn("skew", 0, 3.0)
    project = _gradcheck.tangent("skew")
    problem = _directional.check_at(tg.Target(SlightlyWrongCayley()), X, project)
    assert problem is not None and "exceeds the tolerance" in problem
    assert _directional.check_at(tg.Target(CayleyMap()), X, project) is None


def test_cost_is_a_few_dozen_forward_calls_at_any_size() -> None:
    calls = 0

    class Counting(Sphere):
        def forward(self, X: Tensor) -> Tensor:
            nonlocal calls
            calls += 1
            return super().forward(X)

    _directional.check_at(tg.Target(Counting()), _drawn("matrix", 0), None)
    # one forward for backward, then at most 2 per step per direction
    assert calls <= 1 + 2 * _directional.STEPS * _directional.DIRECTIONS
    # (gradcheck would need 2·N² = 131072 at this size)


def test_sign_diagonal_directions_keep_the_diagonal() -> None:
    along = _directional.tangent("sign_diagonal")
    assert along is not None
    V = along(torch.ones(3, 5, 5))
    assert not bool(V.diagonal(dim1=-2, dim2=-1).any()) and float(V.sum()) == 3 * 20


# A jump inside the step: Stiefel's column sign s_i = -1 if X_ii < 0 else +1 flips where a
# diagonal entry crosses 0. At "zeros with 1.0 at [0, 0]" (a Hypothesis favourite) every
# other diagonal entry sits on the jump; the size sweep once reported a wrong gradient there.

def _e00(n: int, dtype: torch.dtype = torch.float64) -> Tensor:
    X = torch.zeros(n, n, dtype=dtype)
    X[0, 0] = 1.0
    return X


class SlightlyWrongStiefel(Stiefel):
    """Stiefel whose backward is 1% too large: values exact, gradient wrong."""

    def forward(self, X: Tensor) -> Tensor:
        return super().forward(_ScaledBackward.apply(X, 1.01))


def test_a_jump_at_the_input_is_no_verdict_not_a_wrong_gradient() -> None:
    with pytest.raises(CouldNotJudge, match="not differentiable at this input"):
        _directional.check_at(tg.Target(Stiefel()), _e00(64), None)
    # clean twin: away from the jump, the same map is checked and passes
    assert _directional.check_at(tg.Target(Stiefel()), _drawn("matrix", 0), None) is None


@pytest.mark.parametrize("n", [32, 64, 256])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_stiefel_gradient_holds_next_to_its_sign_jump(n: int, dtype: torch.dtype) -> None:
    # The second point X + δ has diagonal entries down to ~1e-7 (δ = 1e-3·pattern): the
    # ladder must go on past the steps that straddle them (it used to stop there).
    properties.gradient(Stiefel(), _e00(n, dtype))


@pytest.mark.parametrize("n", [64, 256])
def test_a_wrong_backward_next_to_a_sign_jump_still_fails(n: int) -> None:
    with pytest.raises(PropertyFailed, match="does not match finite differences"):
        properties.gradient(SlightlyWrongStiefel(), _e00(n))


class JumpThroughThePattern(nn.Module):
    """Planted: forward jumps on a hyperplane ⟨A, X⟩ = 0 that holds both zeros and the
    gradient law's second point (A is orthogonal to the law's perturbation pattern), so
    no point the law tries is differentiable: the law cannot judge, and must say so."""

    def forward(self, X: Tensor) -> Tensor:
        P = tg.gradient_pattern(X)
        A = torch.zeros_like(X)
        A[0, 0], A[0, 1] = P[0, 1], -P[0, 0]
        side = ((A * X).sum() >= 0).to(X.dtype)
        return X + side * torch.ones_like(X)


def test_no_judgeable_input_is_could_not_test_not_a_failure() -> None:
    X = torch.zeros(32, 32, dtype=torch.float64)
    with pytest.raises(CouldNotJudge):
        properties.gradient(JumpThroughThePattern(), X)
    report = paramcheck.verify(JumpThroughThePattern(), inputs=st.just(X),
                               properties=["gradient"], dtypes=(torch.float64,),
                               max_examples=1)
    (result,) = report.results
    assert result.status is paramcheck.Verdict.COULD_NOT_TEST, str(report)
    assert report.ok and "not differentiable at this input" in result.message, str(report)
    # its twin without the jump is judged, and passes
    clean = paramcheck.verify(nn.Identity(), inputs=st.just(X), properties=["gradient"],
                              dtypes=(torch.float64,), max_examples=1)
    assert clean.results[0].status is paramcheck.Verdict.PASSED, str(clean)
