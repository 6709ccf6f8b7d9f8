"""The matrix exponential, with a real logarithm as its right inverse."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from paramcheck.transforms._checks import check_input
from paramcheck.transforms._spec import ALL_FLOATS, FLOATS, Spec, every_entry

Domain = Literal["skew", "symmetric"]


def matrix_exp(X: Tensor) -> Tensor:
    """``torch.matrix_exp``, routed around its inaccurate single-matrix path.

    In torch 2.13 ``matrix_exp`` of a lone matrix (no batch, or a batch of one) with a
    small norm uses a Taylor polynomial that is off by far more than rounding:
    ``exp(diag(0, 0, 0, 1/32))`` has a relative error of 2.4e-11 in float64 (1e5 eps),
    while the batched path, which groups matrices by norm, is exact to eps. paramcheck's
    property suite found this (its round_trip and batch laws failed by that much). A
    lone matrix is therefore computed in a batch of two beside a zero matrix, whose
    exponential costs one degree-1 polynomial; batches of two or more go straight in.
    """
    if X.numel() != X.shape[-1] * X.shape[-2]:  # a real batch: torch is exact here
        return torch.matrix_exp(X)
    lone = X.reshape(1, *X.shape[-2:])
    pair = torch.cat([lone, torch.zeros_like(lone)])
    return torch.matrix_exp(pair)[0].reshape(X.shape)


def orthogonal_log(Q: Tensor, transform: str = "orthogonal_log") -> Tensor:
    """The principal logarithm of a special orthogonal ``Q``: skew ``S`` with ``exp(S) = Q``.

    ``Q`` is normal, so ``Q = V diag(λ) V⁻¹`` with ``|λ| = 1`` (complex ``eig``); the
    principal ``log λ = iθ``, ``θ ∈ (-π, π)`` (so ``‖S‖₂ < π``), and conjugate
    eigenvalues come in pairs, so ``V diag(log λ) V⁻¹`` is real up to rounding; its
    real skew part is returned. ``V⁻¹`` is applied by a solve, not as ``Vᴴ``, so
    repeated eigenvalues (whose ``eig`` eigenvectors need not be orthogonal) are fine.

    Measured on 6 x 6 to 12 x 12 matrices, the residual ``max|exp(S) - Q|`` stays below
    16 eps in float32 and float64 for ``‖S‖₂ ≤ 3.14``, with repeated or nearly repeated
    angles too. (A real alternative, ``log Q = C·φ(CᵀC)`` from the Cayley inverse ``C``
    and ``eigh``, reaches 4e5 eps at ``‖S‖₂ = 3.14``: ``C`` carries an error
    ``eps / (π - θ)²``.)

    Raises:
        ValueError: ``det Q ≤ 0``: a reflection is the exponential of no real matrix.
    """
    # Data-dependent: skipped on the meta device (no data), where models are built empty.
    if not Q.is_meta and bool((torch.linalg.det(Q) <= 0).any()):
        raise ValueError(
            f"{transform} needs special orthogonal matrices (det +1, no eigenvalue -1); "
            "got one with det <= 0, which is the exponential of no real skew matrix. "
            "Flip the sign of one row to make det +1."
        )
    eigenvalues, V = torch.linalg.eig(Q)
    V_log = V * torch.log(eigenvalues).unsqueeze(-2)  # V diag(log λ)
    S = torch.linalg.solve(V, V_log, left=False).real  # V diag(log λ) V⁻¹
    skew: Tensor = (S - S.mT) / 2
    return skew


def spd_log(A: Tensor, transform: str = "spd_log") -> Tensor:
    """The logarithm of a symmetric positive definite ``A``: ``U diag(log λ) Uᵀ`` from ``eigh``.

    Exact (backward stable) on SPD matrices: the symmetric ``L`` with ``exp(L) = A``.

    Raises:
        ValueError: ``A`` has an eigenvalue ``<= 0``, so it is not SPD.
    """
    eigenvalues, U = torch.linalg.eigh((A + A.mT) / 2)
    if not A.is_meta and bool((eigenvalues <= 0).any()):  # no data on meta
        raise ValueError(
            f"{transform} needs symmetric positive definite matrices; got one with "
            f"smallest eigenvalue {eigenvalues.min().item():.3g} <= 0. Only SPD "
            "matrices are exponentials of real symmetric matrices."
        )
    L = (U * torch.log(eigenvalues).unsqueeze(-2)) @ U.mT
    symmetric: Tensor = (L + L.mT) / 2
    return symmetric


class MatrixExponential(nn.Module):
    r"""The matrix exponential ``f(X) = exp(X) = Σ Xᵏ/k!``, with a real logarithm as right inverse.

    ``domain`` says which image ``right_inverse`` inverts and which constraint holds:

    - ``"skew"`` (use after :class:`Skew`): ``exp`` of a skew ``X`` is special
      orthogonal. ``right_inverse`` is the principal logarithm (:func:`orthogonal_log`),
      exact on special orthogonal matrices without the eigenvalue -1; it returns ``X``
      itself when ``‖X‖₂ < π``.
    - ``"symmetric"`` (use after :class:`Symmetric`): ``exp`` of a symmetric ``X`` is
      SPD; ``right_inverse`` is the ``eigh`` logarithm (:func:`spd_log`), exact on SPD.
    - ``None`` (the tutorial's ``MatrixExponential()``): ``forward`` only. Its
      ``right_inverse`` raises ``NotImplementedError`` naming the fix; registration
      then treats it as the identity, as torch does for a parametrization without one.

    ``forward`` accepts every floating dtype (``torch.matrix_exp`` has float16 and
    bfloat16 kernels); ``right_inverse`` needs float32 or float64 (``eig``/``eigh``
    have no half kernels). Batched over leading dimensions.

    Example::

        >>> layer = nn.Linear(3, 3)
        >>> parametrize.register_parametrization(layer, "weight", Symmetric())
        >>> parametrize.register_parametrization(layer, "weight", MatrixExponential("symmetric"))
        >>> bool((torch.linalg.eigvalsh(layer.weight) > 0).all())
        True
    """

    def __init__(self, domain: Domain | None = None) -> None:
        super().__init__()
        if domain not in ("skew", "symmetric", None):
            raise ValueError(
                f"MatrixExponential(domain=...) must be 'skew', 'symmetric' or None; got {domain!r}"
            )
        self.domain = domain
        self.spec = _SPECS[domain]

    def forward(self, X: Tensor) -> Tensor:
        check_input("MatrixExponential", X, dtypes=ALL_FLOATS, square=True)
        return matrix_exp(X)

    def right_inverse(self, A: Tensor) -> Tensor:
        name = f"MatrixExponential(domain={self.domain!r}).right_inverse"
        if self.domain is None:
            raise NotImplementedError(
                "MatrixExponential() has no right_inverse without a domain: build "
                "MatrixExponential('skew') to assign orthogonal matrices or "
                "MatrixExponential('symmetric') to assign SPD matrices."
            )
        check_input(name, A, dtypes=FLOATS, square=True)
        if self.domain == "skew":
            return orthogonal_log(A, name)
        return spd_log(A, name)

    def extra_repr(self) -> str:
        return f"domain={self.domain!r}"


_SPECS: dict[Domain | None, Spec] = {
    # Bound 3 < π on ‖X‖₂: exp(X) keeps its eigenvalues e^{iθ}, |θ| ≤ 3, away from -1
    # (|1 + e^{3i}| ≈ 0.14), where the logarithm has its branch cut.
    "skew": Spec(
        constraint="special_orthogonal",
        inputs="skew",
        bound=3.0,
        inverse_exact_on="special orthogonal matrices without the eigenvalue -1 (the image)",
        square=True,
    ),
    # Bound 3 on ‖X‖₂: exp(X) has eigenvalues in [e⁻³, e³], condition number e⁶ ≈ 403, so
    # float32 rounding (≈ 1e-7 · e³ ≈ 2.4e-6) stays far below the smallest eigenvalue 0.05.
    "symmetric": Spec(
        constraint="spd",
        inputs="symmetric",
        bound=3.0,
        inverse_exact_on="symmetric positive definite matrices (the image)",
        square=True,
    ),
    None: Spec(
        constraint=None,
        inputs="square",
        inverse_exact_on="nowhere: without a domain there is no right_inverse",
        square=True,
        dtypes=ALL_FLOATS,
        inverse_exact=False,
        # exp is a local diffeomorphism at X unless two eigenvalues of X differ by 2πik,
        # k ≠ 0: its image has the dimension of the whole space.
        dimension=every_entry,
    ),
}
