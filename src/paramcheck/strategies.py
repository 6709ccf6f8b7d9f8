"""Hypothesis strategies for the tensors a parametrization sees, at any size.

Hypothesis draws a small *description* of the tensor (see :mod:`paramcheck._descriptions`)
and torch builds the tensor from it, so a 1024×1024 weight costs a few draws, not a
million, and a counterexample reads as the description that rebuilds it ("1024×1024
square: zeros, with 1.0 at [2, 3]"), not as a million numbers. Tensors of at most
``EXPLICIT_LIMIT`` entries are still drawn entry by entry, each entry shrinking toward 0
on its own: at 4×4 that is the most thorough search there is.

- ``matrices``: entries in [-bound, bound]; shrink to zeros. Above ``EXPLICIT_LIMIT``
  entries: a base (zeros, a multiple of the identity, uniform entries from a seed, a
  low-rank product, a sparse pattern) with up to ``MAX_ENTRIES`` entries set on top.
- ``nonzero``: entries in ±[bound/10, bound]; shrink to bound/10 everywhere.
- ``sign_diagonal``: like ``matrices``, the diagonal exactly ±1.
- ``symmetric``, ``skew``: ``Q·D·Qᵀ`` from a rotation Q and a spectrum (largest value at
  most ``bound``, so the spectral norm is at most ``bound``; condition numbers up to
  ``MAX_CONDITION``, repeated and exactly zero values); shrink to zeros.
- ``special_orthogonal``: a Haar rotation of a leading block, the identity on the rest;
  shrinks to the identity. ``orthogonal``: the same, optionally with a reflection; tall or
  wide ones are the first columns or rows of a square one.
- ``spd``, ``psd``: ``Q·diag(λ)·Qᵀ``, λ in a range that bounds the condition number;
  shrink to a multiple of the identity (spd) or zeros (psd).
- ``with_singular_values``: ``U·diag(σ)·Vᵀ``, U and V rotations, σ in a range.

Every tensor is built in float64 and cast once to the requested dtype, so a float32
orthogonal matrix is as orthogonal as float32 allows. Every strategy takes ``dtype`` and
``device``; the structured ones a ``batch`` shape (leading dimensions), the plain ones a
full ``shape``. :func:`domain` maps the domain names of a transform's ``Spec`` to these;
:func:`descriptions` draws the descriptions themselves (what :func:`paramcheck.verify`
searches over, and prints).

>>> from paramcheck import strategies
>>> strategies.orthogonal(3).example().shape
torch.Size([3, 3])
>>> strategies.domain("spd", (2, 4, 4), bound=10.0).example().shape
torch.Size([2, 4, 4])
>>> strategies.domain("skew", (1024, 1024), dtype=torch.float32, bound=3.0)
domain('skew', (1024, 1024), dtype=torch.float32, bound=3.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from torch import Tensor

from paramcheck import _drawing, _validate
from paramcheck._described import Batched
from paramcheck._descriptions import (
    Description,
    Entrywise,
    Explicit,
    Identity,
    LowRank,
    Rotation,
    Sparse,
    Spectral,
    Spectrum,
    Uniform,
    Zeros,
)
from paramcheck._drawing import (
    DOMAIN_NAMES,
    EXPLICIT_LIMIT,
    MAX_CONDITION,
    MAX_ENTRIES,
    Build,
    Device,
    batched,
)
from paramcheck.errors import UsageError

__all__ = [
    "DOMAIN_NAMES",
    "EXPLICIT_LIMIT",
    "MAX_CONDITION",
    "MAX_ENTRIES",
    "Batched",
    "Build",
    "Description",
    "Entrywise",
    "Explicit",
    "Identity",
    "LowRank",
    "Rotation",
    "Sparse",
    "Spectral",
    "Spectrum",
    "Uniform",
    "Zeros",
    "batched",
    "descriptions",
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

def descriptions(
    name: str,
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float64,
    bound: float = 1.0,
    simple: bool = False,
) -> SearchStrategy[Description]:
    """Descriptions of tensors in the named domain (see :func:`domain`); build one with
    ``description.build(dtype, device)``.

    ``simple=True`` keeps to the simplest descriptions of large entrywise tensors: zeros
    or a multiple of the identity with a few entries set, which is what a counterexample
    found among dense ones is searched again with, to print the simplest one that fails.
    ``dtype`` only makes drawn entries exact in it (float32 numbers for float32).
    """
    dims, bound = _drawing.validated(name, shape, dtype, bound)
    strategy: SearchStrategy[Description] = _drawing.descriptions_lazy(
        name, dims, **_drawing.non_default(dtype=dtype, bound=bound, simple=simple))
    return strategy


def domain(
    name: str,
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    bound: float = 1.0,
    simple: bool = False,
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

    Any size: the tensor is built by torch from a drawn description (:func:`descriptions`).
    """
    dims, bound = _drawing.validated(name, shape, dtype, bound)
    strategy: SearchStrategy[Tensor] = _drawing.domain_lazy(
        name, dims, **_drawing.non_default(dtype=dtype, device=device, bound=bound,
                                           simple=simple))
    return strategy


# ----------------------------------------------------------------------------- general


def matrices(
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    bound: float = 1.0,
) -> SearchStrategy[Tensor]:
    """Tensors of ``shape`` with every entry in [-bound, bound].

    Any number of dimensions; the last two are the matrix, the rest a batch. Up to
    ``EXPLICIT_LIMIT`` entries each is drawn on its own; above, see :func:`domain`.
    """
    return domain("matrix", shape, dtype=dtype, device=device, bound=bound)


def nonzero(
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    bound: float = 1.0,
) -> SearchStrategy[Tensor]:
    """Tensors whose every entry has bound/10 ≤ |x| ≤ bound: no zero row, column or slice.

    For maps that divide by a norm. Each entry is a value y in [-0.9·bound, 0.9·bound]
    pushed away from zero, x = y ± bound/10 (the sign of y, + at 0): shrinks toward every
    entry +bound/10.
    """
    return domain("nonzero", shape, dtype=dtype, device=device, bound=bound)


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
    return domain("sign_diagonal", shape, dtype=dtype, device=device, bound=bound)


def _square(n: int, batch: Sequence[int]) -> tuple[int, ...]:
    size = _check_n(n)
    return _drawing.check_shape((*batch, size, size), min_ndim=2)


def symmetric(
    n: int,
    *,
    batch: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    bound: float = 1.0,
) -> SearchStrategy[Tensor]:
    """Symmetric n×n matrices ``Q·diag(λ)·Qᵀ`` with spectral norm at most ``bound``."""
    return domain("symmetric", _square(n, batch), dtype=dtype, device=device, bound=bound)


def skew(
    n: int,
    *,
    batch: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    bound: float = 1.0,
) -> SearchStrategy[Tensor]:
    """Skew-symmetric n×n matrices with spectral norm at most ``bound``."""
    return domain("skew", _square(n, batch), dtype=dtype, device=device, bound=bound)


def _check_n(n: int) -> int:
    return _validate.positive_int(n, name="the matrix size")


# ----------------------------------------------------------------------------- rotations


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
    ``QQᵀ = I``. A Haar rotation of a drawn leading block, and a drawn reflection.
    """
    r = _check_n(rows)
    c = r if cols is None else _check_n(cols)
    return domain("orthogonal", _drawing.check_shape((*batch, r, c), min_ndim=2), dtype=dtype,
                  device=device)


def special_orthogonal(
    n: int,
    *,
    batch: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
) -> SearchStrategy[Tensor]:
    """Rotations: orthogonal n×n matrices with determinant +1."""
    return domain("special_orthogonal", _square(n, batch), dtype=dtype, device=device)


# ----------------------------------------------------------------------------- spectra


def _spectral_strategy(name: str, shape: tuple[int, ...], spectrum: _drawing.SpectrumRange,
                       dtype: torch.dtype, device: Device) -> SearchStrategy[Tensor]:
    _drawing.check_dtype(dtype)
    strategy: SearchStrategy[Tensor] = st.composite(_drawing.structured_impl)(
        name, shape, spectrum=spectrum, dtype=dtype, device=device)
    return strategy


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
    lo = _drawing.check_bound(min_eigenvalue, "min_eigenvalue")
    hi = _drawing.check_bound(max_eigenvalue, "max_eigenvalue")
    if lo > hi:
        raise UsageError(f"min_eigenvalue {lo} exceeds max_eigenvalue {hi}")
    return _spectral_strategy("spd", _square(n, batch),
                              _drawing.SpectrumRange(lo, hi, lambda top: top / lo), dtype, device)


def psd(
    n: int,
    *,
    max_eigenvalue: float = 1.0,
    batch: Sequence[int] = (),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
) -> SearchStrategy[Tensor]:
    """Symmetric positive semidefinite matrices, eigenvalues in [0, max_eigenvalue].

    Singular ones included: the spectrum draws exact zeros.
    """
    hi = _drawing.check_bound(max_eigenvalue, "max_eigenvalue")
    return _spectral_strategy("psd", _square(n, batch),
                              _drawing.SpectrumRange(0.0, hi, lambda top: MAX_CONDITION,
                                                     zeros=True),
                              dtype, device)


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
    r = _check_n(rows)
    c = r if cols is None else _check_n(cols)
    lo = _drawing.check_bound(min_singular_value, "min_singular_value")
    hi = _drawing.check_bound(max_singular_value, "max_singular_value")
    if lo > hi:
        raise UsageError(f"min_singular_value {lo} exceeds max_singular_value {hi}")
    return _spectral_strategy("singular", _drawing.check_shape((*batch, r, c), min_ndim=2),
                              _drawing.SpectrumRange(lo, hi, lambda top: top / lo), dtype, device)


# ----------------------------------------------------------------------- constraint sets


def unit_norm(
    shape: Sequence[int],
    *,
    dims: Sequence[int] = (-2, -1),
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
) -> SearchStrategy[Tensor]:
    """Tensors whose every slice over ``dims`` (negative, counted from the end) has unit norm.

    A ``nonzero`` tensor divided by its norm over ``dims`` in float64, then cast once;
    shrinks toward the normalised all-equal tensor.
    """
    dims_t = tuple(int(d) for d in dims)
    full = _drawing.check_shape(shape, min_ndim=max(-d for d in dims_t) if dims_t else 0)
    _drawing.check_dtype(dtype)
    if not dims_t or any(d >= 0 for d in dims_t):
        raise UsageError(f"dims must be negative dimensions, got {tuple(dims)!r}")
    return nonzero(full, dtype=torch.float64).map(
        lambda X: (X / torch.linalg.vector_norm(X, dim=dims_t, keepdim=True)).to(
            device=device, dtype=dtype))


def positive(
    shape: Sequence[int],
    *,
    low: float = 1e-30,
    high: float = 1e3,
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
) -> SearchStrategy[Tensor]:
    """Tensors with every entry in [low, high], spread over the decades: ``10ᵘ``, ``u`` drawn.

    The default range spans float32's normal numbers above 1e-30 up to 1e3, so tiny,
    moderate and large entries all occur; shrinks toward 1 everywhere.
    """
    dims = _drawing.check_shape(shape, min_ndim=0)
    _drawing.check_dtype(dtype)
    lo, hi = _drawing.check_bound(low, "low"), _drawing.check_bound(high, "high")
    if lo > hi:
        raise UsageError(f"low {lo} exceeds high {hi}")
    count = math.prod(dims)
    exponent = st.floats(math.log10(lo), math.log10(hi), allow_nan=False,
                         allow_infinity=False)
    return st.lists(exponent, min_size=count, max_size=count).map(
        lambda us: (10.0 ** torch.tensor(us, dtype=torch.float64)).clamp(lo, hi)
        .reshape(dims).to(device=device, dtype=dtype))


def constraint_set(
    name: str,
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float64,
    device: Device = "cpu",
    norm_dims: Sequence[int] = (-2, -1),
) -> SearchStrategy[Tensor]:
    """Points of a named constraint set (``paramcheck.constraints``) of the given shape.

    What a manifold library's user assigns (``layer.weight = Q``): ``orthogonal`` and
    ``special_orthogonal`` (Givens products), ``symmetric`` and ``skew`` (spectral norm
    at most 1), ``spd`` (eigenvalues in [0.1, 10]), ``psd`` (in [0, 1], singular ones
    included), ``unit_norm`` (over ``norm_dims``) and ``positive`` (entries in
    [1e-30, 1e3]). Leading dimensions of ``shape`` are a batch.

    Raises:
        UsageError: ``name`` is not a constraint with a known set, or the shape does not
            fit it (square sets need square matrices).
    """
    if name == "positive":
        return positive(shape, dtype=dtype, device=device)
    if name == "unit_norm":
        return unit_norm(shape, dims=norm_dims, dtype=dtype, device=device)
    if name == "spd":
        dims = _drawing.check_shape(shape, min_ndim=2)
        if dims[-1] != dims[-2]:
            raise UsageError(f"the 'spd' set needs square matrices, got shape {dims}")
        return spd(dims[-1], min_eigenvalue=0.1, max_eigenvalue=10.0, batch=dims[:-2],
                   dtype=dtype, device=device)
    if name in ("orthogonal", "special_orthogonal", "symmetric", "skew", "psd"):
        return domain(name, shape, dtype=dtype, device=device)
    raise UsageError(
        f"no strategy draws the points of {name!r}; known sets: orthogonal, "
        f"special_orthogonal, symmetric, skew, spd, psd, unit_norm, positive"
    )
