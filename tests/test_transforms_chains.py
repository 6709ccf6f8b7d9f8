"""Ready chains, registered with torch's parametrize and with paramcheck's.

Tolerances follow the scheme of ``test_transforms.py``: ``C · n · eps · κ``.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import math
from collections.abc import Callable
from types import ModuleType

import pytest
import torch
import torch.nn.utils.parametrize as torch_parametrize
from torch import Tensor, nn

from paramcheck.transforms import (
    CayleyMap,
    Chain,
    MatrixExponential,
    Skew,
    Spec,
    orthogonal_cayley,
    orthogonal_exp,
    register_chain,
    spd_exp,
)

C = 10.0
N = 4


def implementations() -> list[ModuleType]:
    """torch's parametrize, and paramcheck's once it exists (it is written in parallel)."""
    found = [torch_parametrize]
    with contextlib.suppress(ModuleNotFoundError):
        found.append(importlib.import_module("paramcheck.parametrize"))
    return found


def eps(dtype: torch.dtype) -> float:
    return torch.finfo(dtype).eps


def max_abs(X: Tensor) -> float:
    return float(X.detach().abs().max())


def orthogonality_error(Q: Tensor) -> float:
    return max_abs(Q.mT @ Q - torch.eye(Q.shape[-1], dtype=Q.dtype))


# κ for the orthogonal chains: Cayley with ‖X‖₂ ≤ n·max|W| ≲ 4 from a Linear's init
# (entries ≤ 1/sqrt(n)): sqrt(1 + 4²) ≈ 4.1; exp is an isometry on skew matrices.
def check_orthogonal(W: Tensor) -> None:
    assert orthogonality_error(W) <= C * N * eps(W.dtype) * 4.2
    assert float(torch.linalg.det(W)) > 0.5


def check_spd(W: Tensor) -> None:
    # exp of a symmetric matrix with entries ≤ 1/sqrt(n): ‖X‖₂ ≤ sqrt(n) = 2, κ ≤ e⁴ ≈ 55.
    assert max_abs(W - W.mT) <= C * N * eps(W.dtype) * 55 * max_abs(W)
    assert float(torch.linalg.eigvalsh(W).min()) > 0


CHAINS: dict[str, tuple[Callable[[], Chain], Callable[[Tensor], None]]] = {
    "orthogonal_cayley": (orthogonal_cayley, check_orthogonal),
    "orthogonal_exp": (orthogonal_exp, check_orthogonal),
    "spd_exp": (spd_exp, check_spd),
}
chain_names = pytest.mark.parametrize("name", list(CHAINS))
impls = pytest.mark.parametrize("impl", implementations(), ids=lambda m: m.__name__)
dtypes = pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)


@chain_names
@impls
@dtypes
def test_registered_chain_gives_the_constrained_weight(
    name: str, impl: ModuleType, dtype: torch.dtype
) -> None:
    make, check = CHAINS[name]
    torch.manual_seed(0)
    layer = register_chain(nn.Linear(N, N, dtype=dtype), "weight", make(), impl)
    assert len(layer.parametrizations.weight) == 2
    W = layer.weight
    assert W.dtype == dtype
    check(W.detach())
    W.sum().backward()  # gradients reach the original
    original = layer.parametrizations.weight.original
    assert original.grad is not None and bool(torch.isfinite(original.grad).all())


@chain_names
@impls
def test_assigning_to_a_registered_chain_round_trips(name: str, impl: ModuleType) -> None:
    make, _ = CHAINS[name]
    torch.manual_seed(1)
    layer = register_chain(nn.Linear(N, N, dtype=torch.float64), "weight", make(), impl)
    target = register_chain(nn.Linear(N, N, dtype=torch.float64), "weight", make(), impl).weight
    target = target.detach().clone()
    layer.weight = target
    # Each link's inverse is exact on its image; κ as in check_orthogonal/check_spd.
    assert max_abs(layer.weight - target) <= C * N * eps(torch.float64) * 55 * max_abs(target)


@chain_names
def test_chain_forward_and_right_inverse_compose_the_links(name: str) -> None:
    make, check = CHAINS[name]
    chain = make()
    X = torch.randn(2, 3, N, N, dtype=torch.float64) / N
    A = chain.forward(X)
    expected = X
    for link in chain:
        expected = link(expected)
    assert torch.equal(A, expected)
    for matrix in A.reshape(-1, N, N):
        check(matrix)
    assert max_abs(chain.forward(chain.right_inverse(A)) - A) <= 1e-12


def test_chain_is_a_read_only_sequence_with_a_spec() -> None:
    chain = orthogonal_cayley()
    assert len(chain) == 2
    assert isinstance(chain[0], Skew) and isinstance(chain[-1], CayleyMap)
    assert [type(m) for m in chain] == [Skew, CayleyMap]
    assert chain[:1] == (chain[0],)
    assert isinstance(chain.spec, Spec) and chain.spec.constraint == "special_orthogonal"
    assert spd_exp().spec.constraint == "spd"
    assert orthogonal_exp().spec.inputs == "skew"
    assert "constraint='special_orthogonal'" in repr(chain)
    assert not callable(chain)  # so verify() never mistakes it for a factory
    with pytest.raises(ValueError, match="at least one"):
        Chain(spec=chain.spec)


def test_factories_build_fresh_chains() -> None:
    a, b = orthogonal_exp(), orthogonal_exp()
    assert a[1] is not b[1]
    assert isinstance(a[1], MatrixExponential) and a[1].domain == "skew"


def test_register_chain_accepts_any_iterable_of_modules() -> None:
    layer = register_chain(nn.Linear(3, 3), "weight", [Skew(), CayleyMap()], torch_parametrize)
    assert orthogonality_error(layer.weight.detach()) <= C * 3 * eps(torch.float32) * 4.2


@impls
def test_chain_state_dict_round_trip(impl: ModuleType) -> None:
    torch.manual_seed(2)
    layer = register_chain(nn.Linear(N, N), "weight", orthogonal_cayley(), impl)
    fresh = register_chain(nn.Linear(N, N), "weight", orthogonal_cayley(), impl)
    fresh.load_state_dict(layer.state_dict())
    assert torch.equal(fresh.weight, layer.weight)
    assert torch.equal(copy.deepcopy(layer).weight, layer.weight)


def test_orthogonal_exp_chain_inverts_a_rotation_close_to_pi() -> None:
    """A rotation by 3.1 rad: right_inverse must still give it back (eig-based log)."""
    c, s = math.cos(3.1), math.sin(3.1)
    Q = torch.eye(N, dtype=torch.float64)
    Q[:2, :2] = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    layer = register_chain(
        nn.Linear(N, N, dtype=torch.float64), "weight", orthogonal_exp(), torch_parametrize
    )
    layer.weight = Q
    assert max_abs(layer.weight - Q) <= C * N * eps(torch.float64)
