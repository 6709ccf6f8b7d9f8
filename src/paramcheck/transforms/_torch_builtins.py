"""Thin adapters that expose torch's built-in parametrizations to the property suite.

``torch.nn.utils.parametrizations.orthogonal``, ``spectral_norm`` and ``weight_norm``
build private modules (``_Orthogonal``, ``_SpectralNorm``, ``_WeightNorm``) and
register them. The classes here *are* those modules (subclasses that only check
their input and attach a :class:`Spec`), built for a given weight shape, so the
property suite tests torch's own ``forward`` and ``right_inverse``, and the
``state_dict`` keys are torch's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor
from torch.nn.utils.parametrizations import (
    _OrthMaps,
    _Orthogonal,
    _SpectralNorm,
    _WeightNorm,
)

from paramcheck.errors import TransformDtypeError, TransformShapeError
from paramcheck.transforms._checks import check_input
from paramcheck.transforms._spec import FLOATS, Spec, every_entry, every_entry_but_scale

OrthogonalMap = Literal["matrix_exp", "cayley", "householder"]


def _check_state(what: str, X: Tensor, state: Tensor, name: str) -> None:
    if state.dtype != X.dtype or state.device != X.device:
        raise TransformDtypeError(
            f"{what} holds its buffer {name} as {state.dtype} on {state.device}; got a "
            f"{X.dtype} tensor on {X.device}. Move the module with "
            f".to(dtype={X.dtype}, device='{X.device}') (a layer's .to() moves it too)."
        )


def _check_shape(what: str, X: Tensor, expected: tuple[int, ...], built: str) -> None:
    if tuple(X.shape[X.ndim - len(expected) :]) != expected:
        raise TransformShapeError(
            f"{what} was built for a weight of shape {built}; got shape {tuple(X.shape)}. "
            f"Its trailing dimensions must be {expected}."
        )


def orthogonal_spec(
    shape: Sequence[int], orthogonal_map: str, use_trivialization: bool = True
) -> Spec:
    """The :class:`Spec` of torch's ``orthogonal`` for a weight of ``shape`` (see
    :class:`TorchOrthogonal` for why each field is what it is)."""
    householder = orthogonal_map == "householder"
    if use_trivialization:
        exact_on = "every semi-orthogonal matrix of the shape (stored in base)"
    elif householder:
        exact_on = "semi-orthogonal matrices of the shape (reflectors from geqrf)"
    else:
        exact_on = "nowhere: right_inverse raises NotImplementedError"
    return Spec(
        constraint="orthogonal",
        inputs="sign_diagonal" if householder else "matrix",
        inverse_exact_on=exact_on,
        shape=tuple(int(s) for s in shape),
        stateful=use_trivialization,
        inverse_exact=use_trivialization or householder,
    )


def spectral_norm_spec(shape: Sequence[int]) -> Spec:
    """The :class:`Spec` of torch's ``spectral_norm`` for a weight of ``shape`` (see
    :class:`TorchSpectralNorm`)."""
    size = tuple(int(s) for s in shape)
    return Spec(
        constraint=None,
        inputs="nonzero",
        inverse_exact_on=(
            "only approximately: f(A) = A when sigma_max(A) = 1 and the power "
            "iteration has converged for A"
        ),
        min_ndim=len(size),
        shape=size,
        batched=False,
        stateful=True,
        inverse_exact=False,
        # W / σ(W) does not change when W is scaled: every direction but one.
        dimension=every_entry_but_scale,
    )


def weight_norm_spec() -> Spec:
    """The :class:`Spec` of torch's ``weight_norm`` (see :class:`TorchWeightNorm`)."""
    return Spec(
        constraint=None,
        inputs="nonzero",
        inverse_exact_on="tensors with no zero slice along dim",
        min_ndim=1,
        batched=False,
        originals=2,
        dimension=every_entry,
    )


class TorchOrthogonal(_Orthogonal):
    r"""torch's ``orthogonal`` parametrization (``_Orthogonal``) for a weight of ``shape``.

    ``f(X)`` has orthonormal columns (tall) or rows (wide): constraint ``orthogonal``.
    For ``orthogonal_map``:

    - ``"matrix_exp"`` / ``"cayley"``: ``exp(A)`` or ``(I + A/2)(I - A/2)⁻¹`` of the skew
      ``A = tril(X) - tril(X)ᵀ`` (``X`` padded to square), first ``k`` columns. Domain:
      any real matrix.
    - ``"householder"``: a product of Householder reflections from ``tril(X, -1)``, with
      column ``i`` multiplied by ``int(Xᵢᵢ)``. Domain: matrices whose diagonal is ±1
      (``"sign_diagonal"``): ``.int()`` truncates, so a diagonal entry in (-1, 1) zeroes
      its column and one of magnitude ≥ 2 scales it. Registration keeps the diagonal at
      -1 (see below) and it gets no gradient, so torch's own use stays in the domain.

    With ``use_trivialization=True`` (torch's default) ``f(X) = B · map(X)`` for an
    orthogonal buffer ``B = self.base`` (``n x n``, ``n = max(shape[-2:])``);
    ``right_inverse(Q)`` stores ``Q`` (QR-orthogonalised if it is not orthogonal, and
    completed with random columns if it is not square) in ``B`` and returns ``-I``, for
    which ``map(-I) = I``: exact on every semi-orthogonal matrix of the shape, det -1
    included. torch's registration calls ``right_inverse`` first; here ``B`` starts as
    the identity (in ``dtype``/``device``), so ``forward`` works before any assignment.
    This state makes the module ``stateful``: move it with ``.to(dtype)``.

    With ``use_trivialization=False``, householder's ``right_inverse`` reads the
    reflectors back with ``geqrf`` (exact on the image); matrix_exp and cayley have none
    (``NotImplementedError``, which registration treats as the identity).

    float32 and float64 (``geqrf``/``solve`` have no half kernels); not batched
    ``right_inverse`` across shapes: ``Q`` must have exactly ``shape``.

    Example::

        >>> orth = TorchOrthogonal((5, 3), "householder")
        >>> parametrize.register_parametrization(nn.Linear(3, 5), "weight", orth, unsafe=True)
    """

    base: Tensor

    def __init__(
        self,
        shape: Sequence[int],
        orthogonal_map: OrthogonalMap = "matrix_exp",
        *,
        use_trivialization: bool = True,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        if orthogonal_map not in ("matrix_exp", "cayley", "householder"):
            raise ValueError(
                "TorchOrthogonal's orthogonal_map must be 'matrix_exp', 'cayley' or "
                f"'householder'; got {orthogonal_map!r}."
            )
        size = tuple(int(s) for s in shape)
        if len(size) < 2:
            raise TransformShapeError(
                f"TorchOrthogonal needs the shape of a matrix or a batch of matrices; got {size}."
            )
        meta = torch.empty(size, device="meta")  # _Orthogonal reads only shape and is_complex
        super().__init__(meta, _OrthMaps[orthogonal_map], use_trivialization=use_trivialization)
        self.use_trivialization = use_trivialization
        n = max(size[-2:])
        if use_trivialization:
            self.base = torch.eye(n, dtype=dtype, device=device)
        self.spec = orthogonal_spec(size, orthogonal_map, use_trivialization)

    def forward(self, X: Tensor) -> Tensor:
        check_input("TorchOrthogonal", X, dtypes=FLOATS)
        _check_shape("TorchOrthogonal", X, self.shape[-2:], str(tuple(self.shape)))
        if self.use_trivialization:
            _check_state("TorchOrthogonal", X, self.base, "base")
        Q: Tensor = super().forward(X)
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        check_input("TorchOrthogonal.right_inverse", Q, dtypes=FLOATS)
        X: Tensor = super().right_inverse(Q)
        return X

    def extra_repr(self) -> str:
        return (
            f"shape={tuple(self.shape)}, orthogonal_map={self.orthogonal_map.name!r}, "
            f"use_trivialization={self.use_trivialization}"
        )


class TorchSpectralNorm(_SpectralNorm):
    r"""torch's ``spectral_norm`` parametrization (``_SpectralNorm``) for ``weight`` or a shape.

    ``f(W) = W / σ̂``, with ``σ̂`` from power iteration on ``W`` reshaped to a matrix
    (``dim`` first, the rest flattened): in training mode each call runs
    ``n_power_iterations`` steps, updating the buffers ``_u``, ``_v`` in place, then
    ``σ̂ = uᵀ W v = ‖Wᵀu‖ ≤ σ_max(W)``. So ``σ_max(f(W)) ≥ 1`` always, and ``≈ 1`` only
    once the iteration has converged for this ``W`` (at a rate set by σ₂/σ₁). In eval
    mode ``u``, ``v`` are frozen and ``σ̂ = uᵀWv`` is whatever those give for a new ``W``
    (possibly ≤ 0). Hence no named constraint (``spec.constraint`` is ``None``), and
    ``right_inverse`` (the identity) is only approximate: ``f(A) = A`` needs
    ``σ_max(A) = 1`` and converged ``u``, ``v``. A 1-D weight is simply ``W / ‖W‖``.

    Not batched: leading dimensions are flattened into the matrix, not a batch.
    Stateful: ``_u``, ``_v`` are drawn from torch's global generator at construction
    (``weight`` given as a shape is drawn from it too) and hold ``weight``'s dtype and
    device. float32 and float64. Domain: nonzero ``W`` (a zero ``W`` gives 0/0).
    """

    def __init__(
        self,
        weight: Tensor | Sequence[int],
        n_power_iterations: int = 1,
        dim: int = 0,
        eps: float = 1e-12,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        if not isinstance(weight, Tensor):
            weight = torch.randn(tuple(int(s) for s in weight), dtype=dtype, device=device)
        super().__init__(weight, n_power_iterations, dim, eps)
        self.shape = tuple(weight.shape)
        self.spec = spectral_norm_spec(self.shape)

    def forward(self, weight: Tensor) -> Tensor:
        check_input("TorchSpectralNorm", weight, dtypes=FLOATS, min_ndim=len(self.shape))
        if tuple(weight.shape) != self.shape:
            raise TransformShapeError(
                f"TorchSpectralNorm was built for a weight of shape {self.shape} (its power-"
                f"iteration vectors have those sizes); got shape {tuple(weight.shape)}. It "
                "does not batch: leading dimensions are part of the matrix."
            )
        if weight.ndim > 1:
            _check_state("TorchSpectralNorm", weight, self._u, "_u")
        return super().forward(weight)

    def extra_repr(self) -> str:
        return f"shape={self.shape}, n_power_iterations={self.n_power_iterations}, dim={self.dim}"


class TorchWeightNorm(_WeightNorm):
    r"""torch's ``weight_norm`` parametrization (``_WeightNorm``): ``f(g, v) = g · v / ‖v‖``.

    ``‖v‖`` is taken over every dimension except ``dim`` (``dim=None``: the whole
    tensor). It has two originals: ``right_inverse(W)`` returns ``(g, v) = (‖W‖, W)``
    (``spec.originals == 2``) and ``f(*right_inverse(W)) = W`` exactly wherever no slice
    along ``dim`` is zero (a zero slice gives 0/0 = NaN: domain ``nonzero``). There is
    no constraint on the output (``spec.constraint`` is ``None``): weight norm only
    decouples the norm ``g`` from the direction ``v``.

    Not batched (with ``dim=0`` a leading dimension is the normalised one, not a batch);
    stateless; float32 and float64.
    """

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__(dim)
        self.spec = weight_norm_spec()

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        check_input("TorchWeightNorm (g)", weight_g, dtypes=FLOATS, min_ndim=0)
        check_input("TorchWeightNorm (v)", weight_v, dtypes=FLOATS, min_ndim=1)
        W: Tensor = super().forward(weight_g, weight_v)  # type: ignore[no-untyped-call]
        return W

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        check_input("TorchWeightNorm.right_inverse", weight, dtypes=FLOATS, min_ndim=1)
        g, v = super().right_inverse(weight)  # type: ignore[no-untyped-call]
        return g, v

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
