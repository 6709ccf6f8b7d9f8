"""Ready chains of transforms, and registering a chain on a module.

A chain is what the tutorial builds by registering several parametrizations on one
tensor: ``Skew`` then ``CayleyMap`` gives an orthogonal weight. :class:`Chain` keeps
the modules in order together with a :class:`Spec` for the whole composition, which
none of its links states alone.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Sequence
from types import ModuleType
from typing import Any, overload

from torch import Tensor, nn

from paramcheck.transforms._cayley import CayleyMap
from paramcheck.transforms._exponential import MatrixExponential
from paramcheck.transforms._spec import Spec
from paramcheck.transforms._symmetric import Skew, Symmetric


class Chain(Sequence[nn.Module]):
    """Transforms applied in order, as stacked registrations apply them, with a ``spec``.

    ``Chain(Skew(), CayleyMap(), spec=...)`` is a read-only sequence of modules (index,
    iterate, ``len``). It is not itself a module: register it with
    :func:`register_chain`, which registers each link on the same tensor.
    :meth:`forward` and :meth:`right_inverse` compute the composed maps directly, the
    way a ``ParametrizationList`` does (``right_inverse`` in reverse order).

    A chain's modules are registered as they are, so use a fresh chain per tensor (the
    factories :func:`orthogonal_cayley`, :func:`orthogonal_exp` and :func:`spd_exp`
    build a new one on every call).
    """

    def __init__(self, *modules: nn.Module, spec: Spec) -> None:
        if not modules:
            raise ValueError("Chain needs at least one module.")
        self._links = tuple(modules)
        self.spec = spec

    @overload
    def __getitem__(self, index: int) -> nn.Module: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[nn.Module, ...]: ...
    def __getitem__(self, index: int | slice) -> nn.Module | tuple[nn.Module, ...]:
        return self._links[index]

    def __len__(self) -> int:
        return len(self._links)

    def __iter__(self) -> Iterator[nn.Module]:
        return iter(self._links)

    def forward(self, X: Tensor) -> Tensor:
        """``fₖ(⋯f₁(X))``: the weight the stacked registrations compute from ``X``."""
        for link in self._links:
            X = link(X)
        return X

    def right_inverse(self, A: Tensor) -> Tensor:
        """``g₁(⋯gₖ(A))``: each link's ``right_inverse`` in reverse order (identity if absent)."""
        for link in reversed(self._links):
            inverse = getattr(link, "right_inverse", None)
            if inverse is not None:
                A = inverse(A)
        return A

    def __repr__(self) -> str:
        links = ", ".join(repr(link) for link in self._links)
        return f"Chain({links}; constraint={self.spec.constraint!r})"


def register_chain(
    module: nn.Module,
    name: str,
    chain: Iterable[nn.Module],
    implementation: ModuleType | None = None,
    *,
    unsafe: bool = False,
) -> nn.Module:
    """Register each link of ``chain`` on ``module.<name>``, in order; return ``module``.

    ``implementation`` is the parametrize module to use: ``paramcheck.parametrize``
    (the default, imported here so that ``paramcheck.transforms`` never depends on it at
    import time) or ``torch.nn.utils.parametrize``; both have the same
    ``register_parametrization``.

    Example::

        >>> import torch.nn.utils.parametrize as P
        >>> layer = register_chain(nn.Linear(4, 4), "weight", orthogonal_cayley(), P)
        >>> Q = layer.weight   # special orthogonal
    """
    if implementation is None:
        implementation = importlib.import_module("paramcheck.parametrize")
    register: Any = implementation.register_parametrization
    for link in chain:
        register(module, name, link, unsafe=unsafe)
    return module


def orthogonal_cayley() -> Chain:
    """``Skew`` then ``CayleyMap``: special orthogonal matrices (det +1, no eigenvalue -1).

    Input domain: skew matrices (any square matrix works; only the strict upper triangle
    is read). ``right_inverse`` is exact on special orthogonal matrices without the
    eigenvalue -1, the whole image.
    """
    return Chain(Skew(), CayleyMap(), spec=CayleyMap.spec)


def orthogonal_exp() -> Chain:
    """``Skew`` then ``MatrixExponential('skew')``: special orthogonal matrices.

    Input domain: skew matrices of spectral norm below π for ``right_inverse`` to give
    them back; ``forward(right_inverse(Q)) = Q`` for every special orthogonal ``Q``
    without the eigenvalue -1.
    """
    exponential = MatrixExponential("skew")
    return Chain(Skew(), exponential, spec=exponential.spec)


def spd_exp() -> Chain:
    """``Symmetric`` then ``MatrixExponential('symmetric')``: symmetric positive definite matrices.

    Input domain: symmetric matrices (any square matrix works; only the upper triangle is
    read). ``right_inverse`` (the ``eigh`` logarithm, then the upper triangle) is exact
    on every SPD matrix.
    """
    exponential = MatrixExponential("symmetric")
    return Chain(Symmetric(), exponential, spec=exponential.spec)
