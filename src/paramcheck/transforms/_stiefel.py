"""Semi-orthogonal (Stiefel) matrices of any shape, by Householder reflections."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from paramcheck.transforms._checks import check_input
from paramcheck.transforms._spec import FLOATS, Spec


class Stiefel(nn.Module):
    r"""Matrices with orthonormal columns (tall) or rows (wide), from Householder reflections.

    For a tall ``X`` (``n ≥ k``; a wide one is transposed, mapped, transposed back)::

        vᵢ = eᵢ + (strict lower part of column i of X),   τᵢ = 2 / ‖vᵢ‖²
        Hᵢ = I - τᵢ vᵢ vᵢᵀ                                  (a reflection: orthogonal)
        f(X) = H₁ H₂ ⋯ Hₖ [I_k; 0] · diag(sᵢ),              sᵢ = -1 if Xᵢᵢ < 0 else +1

    so ``f(X)ᵀ f(X) = I_k`` for every ``X``: the domain is all real ``n x k`` matrices,
    and ``f`` is smooth in the reflector entries (no singularity anywhere, unlike a
    QR-based projection whose gradient blows up at rank-deficient input such as the
    zero matrix). The diagonal of ``X`` only carries the column signs ``sᵢ`` (zero
    gradient), needed to reach every semi-orthogonal matrix, the identity included.

    ``right_inverse(Q)`` reads the reflectors back with ``geqrf`` (``Q = H₁⋯Hₖ R``, ``R``
    diagonal ±1 for orthonormal ``Q``) and stores ``sign(Rᵢᵢ)`` on the diagonal,
    flipped where LAPACK applied no reflection (``τᵢ = 0``, where ``f``'s reflector
    with ``vᵢ = eᵢ`` is a sign flip). It is exact on all semi-orthogonal matrices of
    the shape: the image is the whole Stiefel manifold. For a non-orthonormal full-rank
    ``A``, ``f(g(A))`` is ``A``'s QR factor with a positive ``R`` diagonal. This is the
    map of ``torch.nn.utils.parametrizations.orthogonal(..., "householder",
    use_trivialization=False)``, with signs read as ``±1`` instead of ``.int()``
    (which truncates diagonals in (-1, 1) to 0 and breaks orthogonality there).

    float32 and float64 (``geqrf``/``householder_product`` have no half kernels).

    Example::

        >>> Q = Stiefel()(torch.randn(5, 3))
        >>> torch.allclose(Q.mT @ Q, torch.eye(3), atol=1e-6)
        True
    """

    spec = Spec(
        constraint="orthogonal",
        inputs="matrix",
        inverse_exact_on="semi-orthogonal matrices of the shape (the whole image)",
    )

    def forward(self, X: Tensor) -> Tensor:
        check_input("Stiefel", X, dtypes=FLOATS)
        wide = X.shape[-2] < X.shape[-1]
        if wide:
            X = X.mT
        reflectors = X.tril(-1)
        tau = 2.0 / (1.0 + (reflectors * reflectors).sum(dim=-2))
        Q = torch.linalg.householder_product(reflectors, tau)
        signs = 1 - 2 * (X.diagonal(dim1=-2, dim2=-1) < 0).to(X.dtype)
        Q = Q * signs.unsqueeze(-2)
        result: Tensor = Q.mT if wide else Q
        return result

    def right_inverse(self, Q: Tensor) -> Tensor:
        check_input("Stiefel.right_inverse", Q, dtypes=FLOATS)
        wide = Q.shape[-2] < Q.shape[-1]
        if wide:
            Q = Q.mT
        factored, tau = torch.geqrf(Q)
        signs = torch.where(factored.diagonal(dim1=-2, dim2=-1) < 0, -1.0, 1.0).to(Q.dtype)
        signs = torch.where(tau == 0, -signs, signs)
        X = factored.tril(-1)
        X.diagonal(dim1=-2, dim2=-1).copy_(signs)
        return X.mT if wide else X
