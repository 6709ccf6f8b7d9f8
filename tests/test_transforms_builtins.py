"""The adapters around torch's built-in parametrizations: same maths, a Spec, clear errors.

Tolerances follow ``test_transforms.py``: ``C · n · eps · κ`` with ``C = 10``.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.utils.parametrize as torch_parametrize
from torch import Tensor, nn
from torch.nn.utils import parametrizations

from paramcheck.errors import TransformDtypeError, TransformShapeError
from paramcheck.transforms import (
    DOMAINS,
    Stiefel,
    TorchOrthogonal,
    TorchSpectralNorm,
    TorchWeightNorm,
)

C = 10.0
MAPS = ("matrix_exp", "cayley", "householder")
SHAPES = ((5, 3), (3, 5), (4, 4), (2, 4, 4))


def eps(dtype: torch.dtype) -> float:
    return torch.finfo(dtype).eps


def max_abs(X: Tensor) -> float:
    return float(X.detach().abs().max())


def draw(shape: tuple[int, ...], dtype: torch.dtype, seed: int = 0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def in_domain(orth: TorchOrthogonal, X: Tensor) -> Tensor:
    """``X`` moved into the adapter's declared domain (a ±1 diagonal for householder)."""
    if orth.spec.inputs == "sign_diagonal":
        X = X.clone()
        diagonal = X.diagonal(dim1=-2, dim2=-1)
        diagonal.copy_(torch.where(diagonal < 0, -1.0, 1.0))
    return X


def orthonormality_error(Q: Tensor) -> float:
    n, k = Q.shape[-2], Q.shape[-1]
    gram = Q.mT @ Q if n >= k else Q @ Q.mT
    return max_abs(gram - torch.eye(min(n, k), dtype=Q.dtype))


# Orthogonal maps of inputs with entries ~N(0, 1) on ≤ 5 x 5: matrix_exp and Householder
# are backward stable (κ = 1); the Cayley solve has κ(I - A/2) ≤ sqrt(1 + (‖A‖₂/2)²),
# ‖A‖₂ ≲ 2·sqrt(n)·3 for such entries: κ ≲ 8.
KAPPA = 8.0


@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_torch_orthogonal_is_orthonormal_and_inverts_on_its_image(
    orthogonal_map: str, shape: tuple[int, ...], dtype: torch.dtype
) -> None:
    orth = TorchOrthogonal(shape, orthogonal_map, dtype=dtype)  # type: ignore[arg-type]
    X = in_domain(orth, draw(shape, dtype))
    Q = orth(X)
    n = max(shape[-2:])
    assert Q.shape == X.shape and Q.dtype == dtype
    assert orthonormality_error(Q) <= C * n * eps(dtype) * KAPPA
    # right_inverse stores Q in base and returns -I, for which the map is the identity.
    original = orth.right_inverse(Q)
    assert torch.equal(original, -torch.eye(*shape[-2:], dtype=dtype).expand(shape))
    assert max_abs(orth(original) - Q) <= C * n * eps(dtype) * KAPPA


def test_torch_orthogonal_trivialization_inverts_reflections_too() -> None:
    orth = TorchOrthogonal((3, 3))
    reflection = torch.diag(torch.tensor([-1.0, 1.0, 1.0]))
    assert torch.equal(orth(orth.right_inverse(reflection)), reflection)


def test_torch_orthogonal_matches_torchs_own_registration() -> None:
    torch.manual_seed(0)
    theirs = parametrizations.orthogonal(nn.Linear(3, 5), orthogonal_map="householder")
    torch.manual_seed(0)
    ours = nn.Linear(3, 5)
    torch_parametrize.register_parametrization(
        ours, "weight", TorchOrthogonal((5, 3), "householder"), unsafe=True
    )
    assert torch.allclose(ours.weight, theirs.weight, atol=C * 5 * eps(torch.float32))
    assert ours.state_dict().keys() == theirs.state_dict().keys()


def test_torch_householder_needs_a_sign_diagonal() -> None:
    """Why its spec says ``sign_diagonal``: ``.int()`` zeroes columns with a diagonal in (-1, 1)."""
    orth = TorchOrthogonal((4, 4), "householder", use_trivialization=False)
    X = draw((4, 4), torch.float64)
    X.diagonal().fill_(0.5)
    assert orthonormality_error(orth(X)) > 0.5
    assert "sign_diagonal" in DOMAINS


def test_torch_orthogonal_without_trivialization() -> None:
    householder = TorchOrthogonal((5, 3), "householder", use_trivialization=False)
    Q = householder(in_domain(householder, draw((5, 3), torch.float64)))
    assert max_abs(householder(householder.right_inverse(Q)) - Q) <= C * 5 * eps(torch.float64)
    assert householder.spec.inverse_exact and not householder.spec.stateful
    exp = TorchOrthogonal((4, 4), "matrix_exp", use_trivialization=False)
    assert not exp.spec.inverse_exact
    with pytest.raises(NotImplementedError):
        exp.right_inverse(torch.eye(4))


def test_torch_orthogonal_agrees_with_stiefel_on_the_householder_map() -> None:
    """Stiefel is torch's householder map without trivialization, with signs as ±1."""
    orth = TorchOrthogonal((5, 3), "householder", use_trivialization=False)
    X = in_domain(orth, draw((5, 3), torch.float64, 4))
    assert max_abs(orth(X) - Stiefel()(X)) <= C * 5 * eps(torch.float64)


def test_torch_orthogonal_state_must_be_moved_with_the_module() -> None:
    orth = TorchOrthogonal((3, 3))
    with pytest.raises(TransformDtypeError, match=r"TorchOrthogonal.*base.*float32.*\.to\("):
        orth(torch.zeros(3, 3, dtype=torch.float64))
    assert orth.to(torch.float64)(torch.zeros(3, 3, dtype=torch.float64)).dtype == torch.float64
    assert orth.spec.stateful
    twin = copy.deepcopy(orth)
    assert torch.equal(twin.base, orth.base)


def test_torch_orthogonal_bad_input() -> None:
    orth = TorchOrthogonal((5, 3))
    with pytest.raises(TransformShapeError, match=r"TorchOrthogonal.*\(5, 3\).*\(4, 4\)"):
        orth(torch.zeros(4, 4))
    with pytest.raises(TransformShapeError, match=r"TorchOrthogonal.*1-D"):
        orth(torch.zeros(5))
    with pytest.raises(TransformDtypeError, match=r"TorchOrthogonal.*torch.int64"):
        orth(torch.zeros(5, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="orthogonal_map"):
        TorchOrthogonal((3, 3), "qr")  # type: ignore[arg-type]
    with pytest.raises(TransformShapeError, match="shape of a matrix"):
        TorchOrthogonal((3,))


# --- spectral norm ------------------------------------------------------------------------------


def test_torch_spectral_norm_is_at_least_one_and_converges_to_one() -> None:
    torch.manual_seed(0)
    W = draw((6, 4), torch.float64, 1)
    sn = TorchSpectralNorm(W.clone())
    # σ̂ = ‖Wᵀu‖ ≤ σ_max(W) for unit u, so σ_max(f(W)) ≥ 1 after every training call.
    first = torch.linalg.matrix_norm(sn(W), ord=2)
    assert float(first) >= 1 - C * 6 * eps(torch.float64)
    for _ in range(200):
        last = sn(W)
    # Power iteration converges like (σ₂/σ₁)^(2k); 200 steps at any gap of this W suffice.
    assert abs(float(torch.linalg.matrix_norm(last, ord=2)) - 1) <= 1e-10


def test_torch_spectral_norm_updates_state_in_training_only() -> None:
    torch.manual_seed(0)
    W = draw((5, 3), torch.float64, 2)
    sn = TorchSpectralNorm(W.clone(), n_power_iterations=1)
    u0 = sn._u.clone()
    sn(W)
    assert not torch.equal(sn._u, u0)
    sn.eval()
    frozen = sn._u.clone()
    assert torch.equal(sn(W), sn(W))
    assert torch.equal(sn._u, frozen)
    assert sn.spec.constraint is None and sn.spec.stateful and not sn.spec.batched
    assert not sn.spec.inverse_exact


def test_torch_spectral_norm_matches_torchs_own_registration() -> None:
    torch.manual_seed(3)
    theirs = nn.Linear(4, 6)
    ours = copy.deepcopy(theirs)
    torch.manual_seed(4)
    parametrizations.spectral_norm(theirs)
    torch.manual_seed(4)
    torch_parametrize.register_parametrization(ours, "weight", TorchSpectralNorm(ours.weight))
    assert torch.equal(ours.weight, theirs.weight)
    assert ours.state_dict().keys() == theirs.state_dict().keys()


def test_torch_spectral_norm_bad_input() -> None:
    sn = TorchSpectralNorm((4, 3))
    with pytest.raises(TransformShapeError, match=r"TorchSpectralNorm.*\(4, 3\).*\(2, 4, 3\)"):
        sn(torch.zeros(2, 4, 3))
    with pytest.raises(TransformDtypeError, match=r"TorchSpectralNorm.*_u.*\.to\("):
        sn(torch.ones(4, 3, dtype=torch.float64))
    with pytest.raises(TransformDtypeError, match=r"TorchSpectralNorm.*torch.int32"):
        sn(torch.zeros(4, 3, dtype=torch.int32))


# --- weight norm --------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [0, 1, None])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_torch_weight_norm_round_trip_through_two_originals(
    dim: int | None, dtype: torch.dtype
) -> None:
    wn = TorchWeightNorm(dim)
    W = draw((4, 3), dtype, 5)
    g, v = wn.right_inverse(W)
    assert wn.spec.originals == 2
    # g·v/‖v‖ with g = ‖W‖ and v = W: one norm and one division, within (m + 2)·eps.
    assert max_abs(wn(g, v) - W) <= 4 * (4 + 2) * eps(dtype) * max_abs(W)
    assert wn.spec.constraint is None and not wn.spec.batched


def test_torch_weight_norm_is_undefined_on_a_zero_slice() -> None:
    """Why its spec declares the ``nonzero`` domain."""
    wn = TorchWeightNorm(0)
    W = torch.zeros(3, 4)
    W[0] = 1
    assert bool(wn(*wn.right_inverse(W))[1:].isnan().all())


def test_torch_weight_norm_registers_like_torchs() -> None:
    torch.manual_seed(5)
    theirs = nn.Linear(3, 4)
    ours = copy.deepcopy(theirs)
    parametrizations.weight_norm(theirs)
    torch_parametrize.register_parametrization(ours, "weight", TorchWeightNorm(0), unsafe=True)
    assert torch.equal(ours.weight, theirs.weight)
    assert ours.state_dict().keys() == theirs.state_dict().keys()


def test_torch_weight_norm_bad_input() -> None:
    with pytest.raises(TransformDtypeError, match=r"TorchWeightNorm \(v\).*torch.int64"):
        TorchWeightNorm()(torch.ones(4, 1), torch.ones(4, 3, dtype=torch.int64))
