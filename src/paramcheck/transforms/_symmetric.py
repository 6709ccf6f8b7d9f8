"""Symmetric and skew-symmetric matrices, built from one triangle.

Both are linear projections that copy entries, so they are exact in every floating
dtype, half precisions included.
"""

from __future__ import annotations

from torch import Tensor, nn

from paramcheck.transforms._checks import check_input
from paramcheck.transforms._spec import ALL_FLOATS, Spec


class Symmetric(nn.Module):
    r"""Symmetric matrices from the upper triangle: ``f(X) = triu(X) + triu(X, 1)ᵀ``.

    Domain: any square matrix (only its upper triangle is read); output satisfies
    ``f(X) = f(X)ᵀ``. ``right_inverse(A) = triu(A)`` is exact on symmetric ``A``; for
    any other ``A`` it returns the symmetric matrix with ``A``'s upper triangle.
    Batched over leading dimensions; every floating dtype.

    Example::

        >>> X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> Symmetric()(X)
        tensor([[1., 2.],
                [2., 4.]])
    """

    spec = Spec(
        constraint="symmetric",
        inputs="square",
        inverse_exact_on="symmetric matrices (the image of forward)",
        square=True,
        dtypes=ALL_FLOATS,
    )

    def forward(self, X: Tensor) -> Tensor:
        check_input("Symmetric", X, dtypes=ALL_FLOATS, square=True)
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A: Tensor) -> Tensor:
        check_input("Symmetric.right_inverse", A, dtypes=ALL_FLOATS, square=True)
        return A.triu()


class Skew(nn.Module):
    r"""Skew-symmetric matrices from the strict upper triangle ``U = triu(X, 1)``: ``U - Uᵀ``.

    Domain: any square matrix (only its strict upper triangle is read); output
    satisfies ``f(X) = -f(X)ᵀ`` with a zero diagonal. ``right_inverse(A) = triu(A, 1)``
    is exact on skew-symmetric ``A``. Batched; every floating dtype.

    Example::

        >>> X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> Skew()(X)
        tensor([[ 0.,  2.],
                [-2.,  0.]])
    """

    spec = Spec(
        constraint="skew",
        inputs="square",
        inverse_exact_on="skew-symmetric matrices (the image of forward)",
        square=True,
        dtypes=ALL_FLOATS,
    )

    def forward(self, X: Tensor) -> Tensor:
        check_input("Skew", X, dtypes=ALL_FLOATS, square=True)
        upper = X.triu(1)
        return upper - upper.mT

    def right_inverse(self, A: Tensor) -> Tensor:
        check_input("Skew.right_inverse", A, dtypes=ALL_FLOATS, square=True)
        return A.triu(1)
