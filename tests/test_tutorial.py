"""The code of the seed tutorial, run with either implementation: the same results, bit for bit.

The seed is the Chinese translation of PyTorch's "Parametrizations Tutorial"
(``shared/seed/000_969c98b83ed57d84.txt``); its code blocks are English Python and are
reproduced here block by block, in order, with ``parametrize`` being either
``torch.nn.utils.parametrize`` or ``paramcheck.parametrize``. The tutorial's ``print`` calls
become returned observations, compared between the two by ``on_both`` (same seed, same bits),
and what the tutorial claims in prose is asserted outright.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
import torch
from test_parametrize import on_both
from torch import Tensor, nn

# Under both of torch's ways of updating tensors in place: set_ and swap_tensors.
pytestmark = pytest.mark.usefixtures("swap")

# ------------------------------------------------------------------------ the tutorial's classes


def symmetric(X: Tensor) -> Tensor:
    return X.triu() + X.triu(1).transpose(-1, -2)


class LinearSymmetric(nn.Module):
    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.rand(n_features, n_features))

    def forward(self, x: Tensor) -> Tensor:
        A = symmetric(self.weight)
        return x @ A


class Symmetric(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        return X.triu() + X.triu(1).transpose(-1, -2)


class Skew(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        A = X.triu(1)
        return A - A.transpose(-1, -2)


class NoisyParametrization(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        print("Computing the Parametrization")
        return X


class CayleyMap(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.register_buffer("Id", torch.eye(n))

    def forward(self, X: Tensor) -> Tensor:
        # (I + X)(I - X)^{-1}
        return torch.linalg.solve(self.Id - X, self.Id + X)


class MatrixExponential(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        return torch.matrix_exp(X)


class SkewWithInverse(Skew):
    """The tutorial's second ``Skew`` (it reuses the name): the same forward, plus an inverse."""

    def right_inverse(self, A: Tensor) -> Tensor:
        # We assume that A is skew-symmetric
        # We take the upper-triangular elements, as these are those used in the forward
        return A.triu(1)


class CayleyMapWithInverse(CayleyMap):
    """The tutorial's second ``CayleyMap``, with its ``right_inverse`` as printed except for ``X``.

    The tutorial writes ``torch.linalg.solve(X + self.Id, self.Id - X)``: ``X`` is undefined in
    the method (it picks up a global in the script), and the formula has a sign error. With ``A``
    for ``X`` it computes (A + I)⁻¹(I - A) = -S where A = (I - S)⁻¹(I + S), so assigning an
    orthogonal Q stores -S and reads back (I + S)⁻¹(I - S) = Q⁻¹ = Qᵀ instead of Q.
    ``paramcheck.transforms.CayleyMap`` is the corrected version.
    """

    def right_inverse(self, A: Tensor) -> Tensor:
        return torch.linalg.solve(A + self.Id, self.Id - A)


class PruningParametrization(nn.Module):
    def __init__(self, X: Tensor, p_drop: float = 0.2) -> None:
        super().__init__()
        # sample zeros with probability p_drop
        mask = torch.full_like(X, 1.0 - p_drop)
        self.mask = torch.bernoulli(mask)

    def forward(self, X: Tensor) -> Tensor:
        return X * self.mask

    def right_inverse(self, A: Tensor) -> Tensor:
        return A


def float32_solve_tolerance(Q: Tensor) -> float:
    """Absolute error allowed on a 3x3 Cayley round trip through ``Q`` (orthogonal, float32).

    Both solves involve matrices with the same condition number: if Q = (I - S)⁻¹(I + S) then
    Q + I = 2(I - S)⁻¹, so cond(Q + I) = cond(I - S). Each backward-stable solve loses at most
    about n·eps·cond in relative error; two of them, on entries of size at most 1 (orthogonal),
    give 2·n·eps·cond, times 10 for the constants the bound hides.
    """
    n, eps = Q.shape[-1], torch.finfo(torch.float32).eps
    condition = torch.linalg.cond(Q.detach() + torch.eye(n)).item()
    return 10 * 2 * n * eps * condition


# ----------------------------------------------------------------------------- the blocks, in order


def test_implementing_parametrizations_by_hand() -> None:
    """Blocks 1-3 use no parametrize at all; they are the hand-written baseline."""
    X = torch.rand(3, 3)
    A = symmetric(X)
    assert torch.allclose(A, A.T)  # A is symmetric
    layer = LinearSymmetric(3)
    x = torch.rand(8, 3)
    assert torch.equal(layer(x), x @ symmetric(layer.weight))


def test_introduction_to_parametrizations() -> None:
    def tutorial(parametrize: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        parametrize.register_parametrization(layer, "weight", Symmetric())
        A = layer.weight
        assert torch.allclose(A, A.T)  # A is symmetric

        cnn = nn.Conv2d(in_channels=5, out_channels=8, kernel_size=3)
        parametrize.register_parametrization(cnn, "weight", Skew())
        return {"A": A, "kernels": [cnn.weight[0, 1], cnn.weight[2, 2]]}

    seen = on_both(tutorial)
    for kernel in seen["kernels"]:
        assert torch.equal(kernel, -kernel.T)  # skew-symmetric kernels


def test_inspecting_a_parametrized_module() -> None:
    def tutorial(parametrize: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        printed = [f"Unparametrized:{layer}"]
        parametrize.register_parametrization(layer, "weight", Symmetric())
        printed += [
            f"Parametrized:{layer}",
            str(layer.parametrizations),
            str(layer.parametrizations.weight),
            str(layer.parametrizations.weight[0]),
        ]
        symmetric = Symmetric()
        weight_orig = layer.parametrizations.weight.original
        return {
            "printed": printed,
            "parameters": dict(layer.named_parameters()),
            "original": layer.parametrizations.weight.original,
            "dist": torch.dist(layer.weight, symmetric(weight_orig)),
        }

    seen = on_both(tutorial)
    assert seen["printed"][1].startswith("Parametrized:ParametrizedLinear(")
    assert "ParametrizationList(" in seen["printed"][3]
    assert list(seen["parameters"]) == ["bias", "parametrizations.weight.original"]
    assert seen["dist"].item() == 0.0


def test_caching_the_value_of_a_parametrization(capsys: pytest.CaptureFixture[str]) -> None:
    def tutorial(parametrize: ModuleType) -> str:
        layer = nn.Linear(4, 4)
        parametrize.register_parametrization(layer, "weight", NoisyParametrization())
        print("Here, layer.weight is recomputed every time we call it")
        foo = layer.weight + layer.weight.T
        bar = layer.weight.sum()
        with parametrize.cached():
            print("Here, it is computed just the first time layer.weight is called")
            foo = layer.weight + layer.weight.T  # noqa: F841
            bar = layer.weight.sum()  # noqa: F841
        return capsys.readouterr().out

    lines = on_both(tutorial).splitlines()
    computing = "Computing the Parametrization"
    # Once for the registration check, three uncached reads, then one read in the block.
    assert lines == [computing, lines[1], computing, computing, computing, lines[5], computing]


def test_concatenating_parametrizations() -> None:
    def tutorial(parametrize: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        parametrize.register_parametrization(layer, "weight", Skew())
        parametrize.register_parametrization(layer, "weight", CayleyMap(3))
        X = layer.weight
        return {"X": X, "dist": torch.dist(X.T @ X, torch.eye(3))}  # X is orthogonal

    seen = on_both(tutorial)
    assert seen["dist"].item() <= float32_solve_tolerance(seen["X"])


def test_reusing_parametrizations_with_the_matrix_exponential() -> None:
    def tutorial(parametrize: ModuleType) -> dict[str, Any]:
        layer_orthogonal = nn.Linear(3, 3)
        parametrize.register_parametrization(layer_orthogonal, "weight", Skew())
        parametrize.register_parametrization(layer_orthogonal, "weight", MatrixExponential())
        X = layer_orthogonal.weight
        orthogonal = torch.dist(X.T @ X, torch.eye(3))  # X is orthogonal

        layer_spd = nn.Linear(3, 3)
        parametrize.register_parametrization(layer_spd, "weight", Symmetric())
        parametrize.register_parametrization(layer_spd, "weight", MatrixExponential())
        X = layer_spd.weight
        return {
            "orthogonal": orthogonal,
            "symmetric": torch.dist(X, X.T),  # X is symmetric
            "positive": (torch.linalg.eigvalsh(X) > 0.0).all(),  # X is positive definite
        }

    seen = on_both(tutorial)
    # exp of a skew matrix with entries below 1: orthogonal to a few float32 ulps per entry.
    assert seen["orthogonal"].item() < 3 * 3 * 10 * torch.finfo(torch.float32).eps
    assert seen["symmetric"].item() < 3 * 3 * 10 * torch.finfo(torch.float32).eps
    assert seen["positive"].item()


def test_initializing_skew_by_assignment() -> None:
    def tutorial(parametrize: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        parametrize.register_parametrization(layer, "weight", SkewWithInverse())
        X = torch.rand(3, 3)
        X = X - X.T  # X is now skew-symmetric
        layer.weight = X  # Initialize layer.weight to be X
        return {"dist": torch.dist(layer.weight, X)}  # layer.weight == X

    assert on_both(tutorial)["dist"].item() == 0.0


def test_initializing_cayley_by_assignment_gives_the_transpose() -> None:
    """The tutorial claims ``layer_orthogonal.weight == X``; both implementations give Xᵀ."""

    def tutorial(parametrize: ModuleType) -> dict[str, Any]:
        layer_orthogonal = nn.Linear(3, 3)
        parametrize.register_parametrization(layer_orthogonal, "weight", SkewWithInverse())
        parametrize.register_parametrization(layer_orthogonal, "weight", CayleyMapWithInverse(3))
        # Sample an orthogonal matrix with positive determinant
        X = torch.empty(3, 3)
        nn.init.orthogonal_(X)
        if X.det() < 0.0:
            X[0].neg_()
        layer_orthogonal.weight = X
        return {"weight": layer_orthogonal.weight, "X": X}

    seen = on_both(tutorial)
    weight, X = seen["weight"], seen["X"]
    tolerance = float32_solve_tolerance(X)
    torch.testing.assert_close(weight, X.T, rtol=0.0, atol=tolerance)
    assert torch.dist(weight, X).item() > 100 * tolerance  # not the X the tutorial promises


def test_initializing_cayley_concisely() -> None:
    """``weight = nn.init.orthogonal_(weight)`` runs the same wrong inverse; det may be -1 too."""

    def tutorial(parametrize: ModuleType) -> Tensor:
        layer_orthogonal = nn.Linear(3, 3)
        parametrize.register_parametrization(layer_orthogonal, "weight", SkewWithInverse())
        parametrize.register_parametrization(layer_orthogonal, "weight", CayleyMapWithInverse(3))
        layer_orthogonal.weight = nn.init.orthogonal_(layer_orthogonal.weight)
        return layer_orthogonal.weight

    assert torch.isfinite(on_both(tutorial)).all()


def test_pruning_parametrization() -> None:
    def tutorial(parametrize: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 4)
        X = torch.rand_like(layer.weight)
        pruning = PruningParametrization(layer.weight)
        parametrize.register_parametrization(layer, "weight", pruning)
        layer.weight = X
        return {"X": X, "weight": layer.weight, "mask": pruning.mask}

    seen = on_both(tutorial)
    # forward(right_inverse(X)) != X: the assigned tensor comes back pruned.
    assert torch.equal(seen["weight"], seen["X"] * seen["mask"])


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_removing_parametrizations(leave_parametrized: bool) -> None:
    def tutorial(parametrize: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        before = (str(layer), layer.weight.detach().clone())
        parametrize.register_parametrization(layer, "weight", SkewWithInverse())
        parametrized = (str(layer), layer.weight.detach().clone())
        parametrize.remove_parametrizations(layer, "weight", leave_parametrized=leave_parametrized)
        return {"before": before, "parametrized": parametrized, "after": (str(layer), layer.weight)}

    seen = on_both(tutorial)
    assert seen["before"][0] == seen["after"][0]  # a plain Linear again
    if leave_parametrized:
        # "Weight has skew-symmetric values but it is unconstrained"
        assert torch.equal(seen["after"][1], seen["parametrized"][1])
    else:
        # The tutorial prints "Same as Before", true only for the first Skew: by this point of
        # the script Skew has a right_inverse, so `original` (and the weight now) is triu(W, 1).
        assert torch.equal(seen["after"][1], seen["before"][1].triu(1))
