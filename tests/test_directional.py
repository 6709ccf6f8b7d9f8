"""paramcheck._directional: the gradient law that scales, with a planted bug and clean twins."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from paramcheck import _directional, _gradcheck, known_bugs, strategies
from paramcheck import _target as tg
from paramcheck.transforms import CayleyMap, MatrixExponential, Skew, Sphere

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
