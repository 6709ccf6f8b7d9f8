"""The target rule: what is a chain of parametrizations, and what is one parametrization.

A chain is a plain sequence of modules (list, tuple, ``transforms.Chain``), an
``nn.Sequential`` or an ``nn.ModuleList``; a module with its own ``forward`` is one
parametrization even when it subclasses ``nn.ModuleList`` (geotorch's ProductManifold).
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from paramcheck import _target as tg
from paramcheck.transforms import MatrixExponential, Skew, Symmetric


class Product(nn.ModuleList):
    """A ModuleList that combines its parts in its own forward (geotorch's pattern)."""

    def __init__(self) -> None:
        super().__init__([Symmetric(), Skew()])

    def forward(self, X: Tensor) -> Tensor:
        return self[0](X) + self[1](X)


class Steps(nn.Sequential):
    """A Sequential with its own forward: one parametrization too."""

    def forward(self, X: Tensor) -> Tensor:  # type: ignore[override]
        return 2 * X


@pytest.mark.parametrize(("value", "length"), [
    ([Skew(), MatrixExponential("skew")], 2),
    ((Skew(), MatrixExponential("skew")), 2),
    (nn.Sequential(Skew(), MatrixExponential("skew")), 2),
    (nn.ModuleList([Skew(), MatrixExponential("skew")]), 2),
    (Product(), 1),
    (Steps(Skew()), 1),
    (Skew(), 1),
])
def test_what_is_a_chain(value: object, length: int) -> None:
    assert len(tg.as_chain(value)) == length


def test_a_module_list_with_its_own_forward_runs_as_one_parametrization() -> None:
    target = tg.Target(Product())
    X = torch.arange(16, dtype=torch.float64).reshape(4, 4)
    chain = target.fresh(X)
    assert len(chain) == 1 and isinstance(chain[0], Product)
    Y = tg.forward(chain, (X,))
    assert torch.equal(Y, Symmetric()(X) + Skew()(X))
    # Read as a chain it would be Skew(Symmetric(X)) = 0.
    assert not torch.equal(Y, Skew()(Symmetric()(X)))
    assert target.name == "Product"


def test_geotorch_product_manifold_is_one_parametrization() -> None:
    geotorch = pytest.importorskip("geotorch")
    psd = geotorch.PSD((4, 4))
    assert isinstance(psd, nn.ModuleList)
    chain = tg.as_chain(psd)
    assert chain == [psd]
