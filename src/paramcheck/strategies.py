"""Hypothesis strategies for the tensors a parametrization sees.

Plain matrices are lists of independently drawn, bounded floats (no fill value repeated
across entries), reshaped: they shrink entry by entry toward zero. Structured matrices
are built from factors, so their conditioning is known by construction and they shrink
toward the simplest member of their set:

- ``matrices``: entries in [-bound, bound]; shrink to zeros.
- ``nonzero``: entries in ±[bound/10, bound]; shrink to bound/10 everywhere.
- ``sign_diagonal``: like ``matrices``, the diagonal exactly ±1.
- ``symmetric``, ``skew``: (M ± Mᵀ)/2 with entries of M in [-bound/n, bound/n], so the
  spectral norm is at most ``bound``; shrink to zeros.
- ``special_orthogonal``: a product of Givens rotations with angles in [-π, π]; shrinks
  to the identity. ``orthogonal``: the same times a drawn reflection; tall or wide ones
  are the first columns or rows of a square one.
- ``spd``, ``psd``: Q·diag(λ)·Qᵀ, Q a rotation, λ drawn in a range that bounds the
  condition number; shrink to the identity (spd) or zeros (psd).
- ``with_singular_values``: U·diag(σ)·Vᵀ, U and V rotations, σ in a range.

The factors are computed in float64 and the result cast once to the requested dtype, so
a float32 orthogonal matrix is as orthogonal as float32 allows. Every strategy takes
``dtype`` and ``device``; the structured ones a ``batch`` shape (leading dimensions,
drawn independently), the plain ones a full ``shape``. :func:`domain` maps the domain
names of a transform's ``Spec`` to these.

>>> from paramcheck import strategies
>>> strategies.orthogonal(3).example().shape
torch.Size([3, 3])
>>> strategies.domain("spd", (2, 4, 4), bound=10.0).example().shape
torch.Size([2, 4, 4])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from torch import Tensor

from paramcheck import _validate
from paramcheck.errors import UsageError
from paramcheck.transforms._spec import DOMAINS

__all__ = [
    "DOMAIN_NAMES",
    "batched",
    "domain",
    "matrices",
    "nonzero",
    "orthogonal",
    "psd",
    "sign_diagonal",
    "skew",
    "spd",
    "special_orthogonal",
    "symmetric",
    "with_singular_values",
]

#: Names understood by :func:`domain`: the transforms' Spec domains and two more.
DOMAIN_NAMES: tuple[str, ...] = (*DOMAINS, "special_orthogonal", "psd")

Device = str | torch.device


# ----------------------------------------------------------------------------- helpers


# Argument validation is shared with verify and the command line: paramcheck._validate.


def _check_dtype(dtype: torch.dtype) -> torch.dtype:
    return _validate.dtype(dtype)


def _check_shape(shape: Sequence[int], *, min_ndim: int = 1) -> tuple[int, ...]:
    return _validate.shape(shape, min_ndim=min_ndim)


def _check_bound(bound: float, name: str = "bound") -> float:
    return _validate.positive_number(bound, name=name)


def _floats(low: float, high: float, dtype: torch.dtype) -> SearchStrategy[float]:
    """Finite floats in [low, high], exactly representable in ``dtype`` when it is float32.

    Subnormals are excluded: CPUs may flush them to zero, which would make one input
    behave differently across machines.
    """
    width: Literal[32, 64] = 32 if dtype in (torch.float32, torch.float16, torch.bfloat16) else 64
    if width == 32:
        # Bounds must themselves be float32 numbers for width=32.
        low = float(torch.tensor(low, dtype=torch.float32))
        high = float(torch.tensor(high, dtype=torch.float32))
    return st.floats(low, high, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False, width=width)


def _tensor(values: Sequence[float], shape: tuple[int, ...], dtype: torch.dtype,
            device: Device) -> Tensor:
    return torch.tensor(list(values), dtype=torch.float64).reshape(shape).to(
        device=device, dtype=dtype)


def batched(single: SearchStrategy[Tensor], batch: Sequence[int]) -> SearchStrategy[Tensor]:
    """Stack independent draws of ``single`` into a tensor with leading dims ``batch``."""
    dims = tuple(int(b) for b in batch)
    if not dims:
        return single
    count = math.prod(dims)

    def stack(items: list[Tensor]) -> Tensor:
        out = torch.stack(items)
        return out.reshape(*dims, *out.shape[1:])

    return st.lists(single, min_size=count, max_size=count).map(stack)


# ----------------------------------------------------------------------------- general


def matrices(
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    bound: float = 1.0,
) -> SearchStrategy[Tensor]:
    """Tensors of ``shape`` with every entry drawn independently from [-bound, bound].

    Any number of dimensions; the last two are the matrix, the rest a batch.
    """
    dims = _check_shape(shape)
    _check_dtype(dtype)
    bound = _check_bound(bound)
    count = math.prod(dims)
    return st.lists(_floats(-bound, bound, dtype), min_size=count, max_size=count).map(
        lambda xs: _tensor(xs, dims, dtype, device)
    )


def nonzero(
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    bound: float = 1.0,
) -> SearchStrategy[Tensor]:
    """Tensors whose every entry has bound/10 ≤ |x| ≤ bound: no zero row, column or slice.

    For maps that divide by a norm. Each entry is one float y in [-0.9·bound, 0.9·bound]
    pushed away from zero, x = y ± bound/10 (the sign of y, + at 0): one draw per entry,
    shrinking toward every entry +bound/10.
    """
    dims = _check_shape(shape, min_ndim=0)
    _check_dtype(dtype)
    bound = _check_bound(bound)
    count = math.prod(dims)
    gap = bound / 10

    def push(ys: list[float]) -> Tensor:
        X = torch.tensor(ys, dtype=torch.float64)
        X = torch.where(X < 0, X - gap, X + gap).clamp(-bound, bound)
        return X.reshape(dims).to(device=device, dtype=dtype)

    inner = bound - gap
    return st.lists(_floats(-inner, inner, torch.float64), min_size=count,
                    max_size=count).map(push)


def sign_diagonal(
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    bound: float = 1.0,
) -> SearchStrategy[Tensor]:
    """Matrices with entries in [-bound, bound] whose diagonal is exactly +1 or -1.

    torch's Householder orthogonal map reads column signs from the diagonal with
    ``.int()``. Shrinks toward zeros off the diagonal and +1 on it.
    """
    dims = _check_shape(shape, min_ndim=2)
    _check_dtype(dtype)
    bound = _check_bound(bound)
    k = min(dims[-2:])
    batch = math.prod(dims[:-2])

    def build(parts: tuple[Tensor, list[bool]]) -> Tensor:
        X, flips = parts
        signs = 1.0 - 2.0 * torch.tensor(flips, dtype=dtype).reshape(batch, k)
        flat = X.reshape(batch, *dims[-2:]).clone()
        flat.diagonal(dim1=-2, dim2=-1).copy_(signs)
        return flat.reshape(dims)

    body = matrices(dims, dtype=dtype, bound=bound)
    flips = st.lists(st.booleans(), min_size=batch * k, max_size=batch * k)
    return st.tuples(body, flips).map(build).map(lambda t: t.to(device=device))


def _square_entries(n: int, bound: float) -> SearchStrategy[Tensor]:
    """An n×n float64 matrix with entries in [-bound/n, bound/n], so ‖M‖₂ ≤ bound.

    (‖M‖₂ ≤ ‖M‖_F ≤ n·max|m_ij|.)
    """
    entry = bound / n
    return st.lists(_floats(-entry, entry, torch.float64), min_size=n * n,
                    max_size=n * n).map(lambda xs: _tensor(xs, (n, n), torch.float64, "cpu"))


def symmetric(
    n: int,
    *,
    batch: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    bound: float = 1.0,
) -> SearchStrategy[Tensor]:
    """Symmetric n×n matrices ``(M + Mᵀ)/2`` with spectral norm at most ``bound``."""
    _check_dtype(dtype)
    bound = _check_bound(bound)
    single = _square_entries(_check_n(n), bound).map(
        lambda M: ((M + M.mT) / 2).to(device=device, dtype=dtype))
    return batched(single, batch)


def skew(
    n: int,
    *,
    batch: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    bound: float = 1.0,
) -> SearchStrategy[Tensor]:
    """Skew-symmetric n×n matrices ``(M - Mᵀ)/2`` with spectral norm at most ``bound``."""
    _check_dtype(dtype)
    bound = _check_bound(bound)
    single = _square_entries(_check_n(n), bound).map(
        lambda M: ((M - M.mT) / 2).to(device=device, dtype=dtype))
    return batched(single, batch)


def _check_n(n: int) -> int:
    return _validate.positive_int(n, name="the matrix size")


# ----------------------------------------------------------------------------- rotations


def _givens_product(n: int, angles: Sequence[float]) -> Tensor:
    """∏ G(i, j, θ_ij) over the pairs i < j in a fixed order: every rotation of Rⁿ.

    float64; the identity when every angle is 0.
    """
    Q = torch.eye(n, dtype=torch.float64)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    for (i, j), theta in zip(pairs, angles, strict=True):
        if theta == 0.0:
            continue
        c, s = math.cos(theta), math.sin(theta)
        qi, qj = Q[i].clone(), Q[j].clone()
        Q[i] = c * qi - s * qj
        Q[j] = s * qi + c * qj
    return Q


def _rotations(n: int) -> SearchStrategy[Tensor]:
    """Float64 n×n rotations (det +1); shrink toward the identity."""
    k = n * (n - 1) // 2
    angle = st.floats(-math.pi, math.pi, allow_nan=False, allow_infinity=False)
    return st.lists(angle, min_size=k, max_size=k).map(lambda a: _givens_product(n, a))


def _orthogonal64(rows: int, cols: int, *, reflect: bool) -> SearchStrategy[Tensor]:
    """Float64 rows×cols matrices with orthonormal columns (tall) or rows (wide)."""
    n = max(rows, cols)
    square = _rotations(n)
    if reflect:
        # A drawn reflection (negate the first row): det -1. Shrinks toward no reflection.
        square = st.tuples(square, st.booleans()).map(
            lambda qb: torch.cat([-qb[0][:1], qb[0][1:]]) if qb[1] else qb[0])
    if rows >= cols:
        return square.map(lambda Q: Q[:, :cols].contiguous())
    return square.map(lambda Q: Q[:rows, :].contiguous())


def orthogonal(
    rows: int,
    cols: int | None = None,
    *,
    batch: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
) -> SearchStrategy[Tensor]:
    """Orthogonal matrices (either determinant); semi-orthogonal when not square.

    Tall (rows > cols): orthonormal columns, ``QᵀQ = I``. Wide: orthonormal rows,
    ``QQᵀ = I``. Built from Givens rotations with drawn angles and a drawn reflection.
    """
    _check_dtype(dtype)
    r = _check_n(rows)
    c = r if cols is None else _check_n(cols)
    single = _orthogonal64(r, c, reflect=True).map(lambda Q: Q.to(device=device, dtype=dtype))
    return batched(single, batch)


def special_orthogonal(
    n: int,
    *,
    batch: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
) -> SearchStrategy[Tensor]:
    """Rotations: orthogonal n×n matrices with determinant +1."""
    _check_dtype(dtype)
    single = _rotations(_check_n(n)).map(lambda Q: Q.to(device=device, dtype=dtype))
    return batched(single, batch)


# ----------------------------------------------------------------------------- spectra


def _spectral(Q: Tensor, values: Sequence[float]) -> Tensor:
    """Q·diag(values)·Qᵀ, symmetrized in float64 so the cast keeps it exactly symmetric."""
    lam = torch.tensor(list(values), dtype=torch.float64)
    A = (Q * lam) @ Q.mT
    return (A + A.mT) / 2


def spd(
    n: int,
    *,
    min_eigenvalue: float = 1.0,
    max_eigenvalue: float = 10.0,
    batch: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
) -> SearchStrategy[Tensor]:
    """Symmetric positive definite matrices ``Q·diag(λ)·Qᵀ``, λ in [min, max] eigenvalue.

    The condition number is at most ``max_eigenvalue / min_eigenvalue``.
    """
    _check_dtype(dtype)
    lo = _check_bound(min_eigenvalue, "min_eigenvalue")
    hi = _check_bound(max_eigenvalue, "max_eigenvalue")
    if lo > hi:
        raise UsageError(f"min_eigenvalue {lo} exceeds max_eigenvalue {hi}")
    size = _check_n(n)
    lam = st.lists(st.floats(lo, hi), min_size=size, max_size=size)
    single = st.tuples(_rotations(size), lam).map(
        lambda ql: _spectral(*ql).to(device=device, dtype=dtype))
    return batched(single, batch)


def psd(
    n: int,
    *,
    max_eigenvalue: float = 1.0,
    batch: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
) -> SearchStrategy[Tensor]:
    """Symmetric positive semidefinite matrices, eigenvalues in [0, max_eigenvalue].

    Singular ones included: an eigenvalue drawn as 0 is exactly 0 in the spectrum.
    """
    _check_dtype(dtype)
    hi = _check_bound(max_eigenvalue, "max_eigenvalue")
    size = _check_n(n)
    lam = st.lists(st.floats(0.0, hi), min_size=size, max_size=size)
    single = st.tuples(_rotations(size), lam).map(
        lambda ql: _spectral(*ql).to(device=device, dtype=dtype))
    return batched(single, batch)


def with_singular_values(
    rows: int,
    cols: int | None = None,
    *,
    min_singular_value: float = 1.0,
    max_singular_value: float = 10.0,
    batch: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
) -> SearchStrategy[Tensor]:
    """Matrices ``U·diag(σ)·Vᵀ`` with every σ in [min, max]: a bounded condition number.

    U and V are rotations; ``min(rows, cols)`` singular values are drawn.
    """
    _check_dtype(dtype)
    r = _check_n(rows)
    c = r if cols is None else _check_n(cols)
    lo = _check_bound(min_singular_value, "min_singular_value")
    hi = _check_bound(max_singular_value, "max_singular_value")
    if lo > hi:
        raise UsageError(f"min_singular_value {lo} exceeds max_singular_value {hi}")
    k = min(r, c)

    def build(parts: tuple[Tensor, Tensor, list[float]]) -> Tensor:
        U, V, sigma = parts
        S = torch.zeros(r, c, dtype=torch.float64)
        S[range(k), range(k)] = torch.tensor(sigma, dtype=torch.float64)
        return (U @ S @ V.mT).to(device=device, dtype=dtype)

    sig = st.lists(st.floats(lo, hi), min_size=k, max_size=k)
    single = st.tuples(_rotations(r), _rotations(c), sig).map(build)
    return batched(single, batch)


# ----------------------------------------------------------------------------- domains


def domain(
    name: str,
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    bound: float = 1.0,
) -> SearchStrategy[Tensor]:
    """The strategy for a named input domain (``Spec.inputs``) and a tensor shape.

    Leading dimensions of ``shape`` are a batch. ``bound`` means what
    :class:`paramcheck.transforms._spec.Spec` says it means:

    - ``matrix``, ``square``: entries in [-bound, bound];
    - ``nonzero``: entries with bound/10 ≤ |x| ≤ bound;
    - ``sign_diagonal``: entries in [-bound, bound], the diagonal exactly ±1;
    - ``symmetric``, ``skew``: spectral norm at most ``bound``;
    - ``spd``: eigenvalues in [1/bound, bound] (``bound ≥ 1``); ``psd``: in [0, bound];
    - ``orthogonal``, ``special_orthogonal``: ``bound`` is not used.
    """
    if name not in DOMAIN_NAMES:
        raise UsageError(
            f"unknown input domain {name!r}; known domains: {', '.join(DOMAIN_NAMES)}"
        )
    _check_dtype(dtype)
    bound = _check_bound(bound)
    if name in ("matrix", "nonzero"):
        dims = _check_shape(shape, min_ndim=0)
        if name == "nonzero":
            return nonzero(dims, dtype=dtype, device=device, bound=bound)
        return matrices(dims, dtype=dtype, device=device, bound=bound)
    dims = _check_shape(shape, min_ndim=2)
    batch, (rows, cols) = dims[:-2], dims[-2:]
    if name == "sign_diagonal":
        return sign_diagonal(dims, dtype=dtype, device=device, bound=bound)
    if name == "orthogonal":
        return orthogonal(rows, cols, batch=batch, dtype=dtype, device=device)
    if rows != cols:
        raise UsageError(
            f"the {name!r} domain needs square matrices, got shape {dims}; "
            f"pass a shape like (..., {rows}, {rows})"
        )
    n = rows
    if name == "square":
        return matrices(dims, dtype=dtype, device=device, bound=bound)
    if name == "symmetric":
        return symmetric(n, batch=batch, dtype=dtype, device=device, bound=bound)
    if name == "skew":
        return skew(n, batch=batch, dtype=dtype, device=device, bound=bound)
    if name == "special_orthogonal":
        return special_orthogonal(n, batch=batch, dtype=dtype, device=device)
    if name == "psd":
        return psd(n, max_eigenvalue=bound, batch=batch, dtype=dtype, device=device)
    # spd
    if bound < 1:
        raise UsageError(f"the 'spd' domain needs bound >= 1 (eigenvalues in [1/bound, "
                         f"bound]), got {bound}")
    return spd(n, min_eigenvalue=1 / bound, max_eigenvalue=bound, batch=batch, dtype=dtype,
               device=device)
