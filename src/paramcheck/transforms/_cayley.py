"""The Cayley map: skew-symmetric matrices to special orthogonal ones."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from paramcheck.errors import TransformShapeError
from paramcheck.transforms._checks import check_input
from paramcheck.transforms._spec import FLOATS, Spec


def _eye_like(X: Tensor) -> Tensor:
    """The identity with ``X``'s trailing size, dtype and device (broadcasts over batches)."""
    return torch.eye(X.shape[-1], dtype=X.dtype, device=X.device)


def cayley_inverse(Q: Tensor, transform: str = "cayley_inverse") -> Tensor:
    """``X = (Q - I)(Q + I)⁻¹``, the skew matrix whose Cayley map is ``Q``.

    For orthogonal ``Q``, ``Q`` and ``Q + I`` commute, so this is the solve
    ``(Q + I)⁻¹(Q - I)``. Its skew part is returned: equal to ``X`` on the image and
    skew for any input, so the Cayley map of the result is always orthogonal.

    Raises:
        ValueError: ``Q + I`` is singular (``Q`` has the eigenvalue -1, which no
            Cayley map of a skew matrix has).
    """
    eye = _eye_like(Q)
    X, info = torch.linalg.solve_ex(Q + eye, Q - eye)
    # Data-dependent: skipped on the meta device (no data), where models are built empty.
    if not Q.is_meta and bool((info != 0).any()):
        raise ValueError(
            f"{transform} needs a matrix without the eigenvalue -1 (Q + I must be "
            "invertible); got one where Q + I is singular. A rotation by pi (det -1 or "
            "an eigenvalue -1) is not the Cayley map or exponential of a real skew matrix."
        )
    skew: Tensor = (X - X.mT) / 2
    return skew


class CayleyMap(nn.Module):
    r"""The Cayley map ``Q = (I - X)⁻¹(I + X)`` of a skew-symmetric ``X``.

    Domain: skew-symmetric ``X`` (use it after :class:`Skew`); ``I - X`` is then
    always invertible (its singular values are ``sqrt(1 + σ²) ≥ 1``) and ``Q`` is
    orthogonal with ``det Q = +1`` and no eigenvalue -1. An eigenvalue ``iλ`` of ``X``
    maps to ``e^{iθ}`` with ``θ = 2·atan(λ)``.

    ``right_inverse(Q) = (Q - I)(Q + I)⁻¹`` is exact on special orthogonal matrices
    without the eigenvalue -1, i.e. on the whole image; it returns the skew part so
    the result is skew for any ``Q`` with ``Q + I`` invertible. (The tutorial's
    ``solve(Q + I, I - Q)`` has the opposite sign and returns ``Qᵀ``; see
    :class:`paramcheck.known_bugs.TutorialCayleyMap`.)

    ``n`` is optional, kept for the tutorial's ``CayleyMap(n)``; given, inputs must be
    ``n x n``. The identity is built from the input, so any float32/float64 input on
    any device works; half precisions are refused (``torch.linalg.solve`` has no
    float16/bfloat16 kernel).

    Example::

        >>> layer = nn.Linear(3, 3)
        >>> parametrize.register_parametrization(layer, "weight", Skew())
        >>> parametrize.register_parametrization(layer, "weight", CayleyMap())
        >>> Q = layer.weight   # Qᵀ Q = I, det Q = 1
    """

    # Bound 3 on the spectral norm of X: the condition number of I - X is at most
    # sqrt(1 + 3²) ≈ 3.2, and that of Q + I for right_inverse is the same.
    spec = Spec(
        constraint="special_orthogonal",
        inputs="skew",
        bound=3.0,
        inverse_exact_on="special orthogonal matrices without the eigenvalue -1 (the image)",
        square=True,
    )

    def __init__(self, n: int | None = None) -> None:
        super().__init__()
        self.n = n

    def _check(self, X: Tensor, what: str) -> None:
        check_input(what, X, dtypes=FLOATS, square=True)
        if self.n is not None and X.shape[-1] != self.n:
            raise TransformShapeError(
                f"{what} was built for {self.n} x {self.n} matrices (CayleyMap({self.n})); "
                f"got shape {tuple(X.shape)}. Build CayleyMap() without n to accept any size."
            )

    def forward(self, X: Tensor) -> Tensor:
        self._check(X, "CayleyMap")
        eye = _eye_like(X)
        Q: Tensor = torch.linalg.solve(eye - X, eye + X)
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        self._check(Q, "CayleyMap.right_inverse")
        return cayley_inverse(Q, "CayleyMap.right_inverse")

    def extra_repr(self) -> str:
        return "" if self.n is None else f"n={self.n}"
