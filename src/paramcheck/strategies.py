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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from torch import Tensor

from paramcheck import _validate
from paramcheck._described import Batched, attach, described
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
from paramcheck.errors import UsageError
from paramcheck.transforms._spec import DOMAINS

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

#: Names understood by :func:`domain`: the transforms' Spec domains and two more.
DOMAIN_NAMES: tuple[str, ...] = (*DOMAINS, "special_orthogonal", "psd")

#: Tensors with at most this many entries are drawn entry by entry (8×8); larger ones
#: from a base and a few entries. Hypothesis' own limit on the size of one example is a
#: few thousand choices, and its shrinker works entry by entry: 64 keeps both cheap.
EXPLICIT_LIMIT = 64

#: The most entries set on top of a base (a larger tensor's special entries).
MAX_ENTRIES = 8

#: The largest condition number (top/bottom of the spectrum) drawn for symmetric, skew
#: and psd matrices: values down to top·1e-6, "tiny" next to the top in float32
#: (eps 1.2e-7 · n ≥ 1e-6 from n = 8 on) while still distinct from exact zeros, which the
#: spectrum draws separately.
MAX_CONDITION = 1e6

Device = str | torch.device

_SEEDS = st.integers(0, 2**32 - 1)


@dataclass(frozen=True)
class Build:
    """Builds a drawn description: ``Build(dtype)(description)`` is the tensor.

    The function :func:`domain` maps over descriptions, so Hypothesis prints a falsifying
    tensor as this call on its description, which rebuilds it.
    """

    dtype: torch.dtype = torch.float64
    device: str = "cpu"

    def __call__(self, description: Description) -> Tensor:
        # Recorded on the tensor, so that a report prints the description, not the entries.
        return attach(description.build(self.dtype, self.device), description)

    def __repr__(self) -> str:
        device = "" if self.device == "cpu" else f", device={self.device!r}"
        return f"Build(dtype={self.dtype}{device})"


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


def _named(name: str, fn: Callable[..., Any]) -> Callable[..., SearchStrategy[Any]]:
    """``st.composite(fn)`` under the public ``name``, so the strategy's repr is the call
    that made it (``domain('skew', (1024, 1024), ...)``), as in hypothesis.extra.numpy."""
    fn.__name__ = fn.__qualname__ = name
    return st.composite(fn)


def batched(single: SearchStrategy[Tensor], batch: Sequence[int]) -> SearchStrategy[Tensor]:
    """Stack independent draws of ``single`` into a tensor with leading dims ``batch``."""
    dims = tuple(int(b) for b in batch)
    if not dims:
        return single
    count = math.prod(dims)

    def stack(items: list[Tensor]) -> Tensor:
        out = torch.stack(items)
        out = out.reshape(*dims, *out.shape[1:])
        parts = [p for p in map(described, items) if isinstance(p, Entrywise | Spectral)]
        if len(parts) == len(items):  # every item described: so is the batch
            attach(out, Batched(dims, tuple(parts)))
        return out

    return st.lists(single, min_size=count, max_size=count).map(stack)


# ------------------------------------------------------------------ entrywise domains


def _index(shape: tuple[int, ...]) -> SearchStrategy[tuple[int, ...]]:
    return st.tuples(*(st.integers(0, d - 1) for d in shape))


def _draw_entrywise(draw: Any, name: str, shape: tuple[int, ...], bound: float,
                    dtype: torch.dtype, simple: bool) -> Entrywise:
    # Values are drawn before the nonzero push: within bound - bound/10 for 'nonzero'.
    top = bound - bound / 10 if name == "nonzero" else bound
    value = _floats(-top, top, dtype if name != "nonzero" else torch.float64)
    numel = math.prod(shape)
    signs = draw(st.none() | _SEEDS) if name == "sign_diagonal" else None
    if numel <= EXPLICIT_LIMIT:
        values = draw(st.lists(value, min_size=numel, max_size=numel))
        return Entrywise(name, shape, bound, Explicit(tuple(values)), signs=signs)
    kinds = ["zeros"]
    if len(shape) >= 2:
        kinds.append("identity")
    if not simple:
        kinds += ["uniform", "low_rank", "sparse"]
    kind = draw(st.sampled_from(kinds))
    scale = _floats(0.0, top, dtype)
    base: Zeros | Identity | Uniform | LowRank | Sparse
    if kind == "zeros":
        base = Zeros()
    elif kind == "identity":
        base = Identity(draw(value))
    elif kind == "uniform":
        base = Uniform(draw(_SEEDS), draw(scale))
    elif kind == "low_rank":
        rank = draw(st.integers(1, min(shape[-2:]))) if len(shape) >= 2 else 1
        base = LowRank(draw(_SEEDS), rank, draw(scale))
    else:
        base = Sparse(draw(_SEEDS), draw(st.floats(0.0, 1.0)), draw(scale))
    entries = draw(st.lists(st.tuples(_index(shape), value), max_size=MAX_ENTRIES,
                            unique_by=lambda e: e[0]))
    return Entrywise(name, shape, bound, base, tuple(entries), signs=signs)


# ------------------------------------------------------------------- spectral domains


@dataclass(frozen=True)
class _SpectrumRange:
    """What a spectral domain allows: the range of the top value, the largest condition
    number for a given top, whether exact zeros and negated values may be drawn."""

    low: float
    high: float
    condition: Callable[[float], float]
    zeros: bool = False
    negative: bool = False


def _draw_rotation(draw: Any, n: int) -> Rotation:
    block = draw(st.integers(0, n))
    return Rotation(draw(_SEEDS), block) if block >= 2 else Rotation()


def _draw_spectral(draw: Any, name: str, shape: tuple[int, ...],
                   allowed: _SpectrumRange | None) -> Spectral:
    rows, cols = shape[-2:]
    if allowed is None:  # orthogonal, special_orthogonal
        basis = _draw_rotation(draw, max(rows, cols))
        reflect = draw(st.booleans()) if name == "orthogonal" else False
        return Spectral(name, shape, basis, reflect=reflect)
    basis = _draw_rotation(draw, rows)
    count = {"skew": rows // 2, "singular": min(rows, cols)}.get(name, rows)
    top = draw(_floats(allowed.low, allowed.high, torch.float64))
    spread = draw(st.sampled_from(["flat", "geometric", "random"]))
    condition, seed = 1.0, 0
    if spread != "flat":
        condition = draw(_floats(1.0, max(1.0, allowed.condition(top)), torch.float64))
        if spread == "random":
            seed = draw(_SEEDS)
    zeros = draw(st.integers(0, count)) if allowed.zeros and count else 0
    negative = draw(st.integers(0, count)) if allowed.negative and count else 0
    spectrum = Spectrum(top, condition, spread, seed, zeros, negative)
    right = _draw_rotation(draw, cols) if name == "singular" else Rotation()
    return Spectral(name, shape, basis, spectrum, right=right)


def _spectrum_range(name: str, bound: float) -> _SpectrumRange | None:
    """The spectrum a domain of ``Spec.bound`` ``bound`` draws (see :func:`domain`)."""
    if name in ("orthogonal", "special_orthogonal"):
        return None
    if name == "spd":  # eigenvalues in [1/bound, bound]
        return _SpectrumRange(1 / bound, bound, lambda top: top * bound)
    return _SpectrumRange(0.0, bound, lambda top: MAX_CONDITION,
                          zeros=True, negative=name == "symmetric")


# --------------------------------------------------------------------------- drawing


def _draw_description(draw: Any, name: str, shape: tuple[int, ...], bound: float,
                      dtype: torch.dtype, simple: bool,
                      spectrum: _SpectrumRange | None = None) -> Description:
    if name in ("matrix", "square", "nonzero", "sign_diagonal"):
        return _draw_entrywise(draw, name, shape, bound, dtype, simple)
    allowed = spectrum if spectrum is not None else _spectrum_range(name, bound)
    return _draw_spectral(draw, name, shape, allowed)


def _descriptions_impl(draw: Any, name: str, shape: tuple[int, ...], *,
                       dtype: torch.dtype = torch.float64, bound: float = 1.0,
                       simple: bool = False) -> Description:
    return _draw_description(draw, name, shape, bound, dtype, simple)


def _domain_impl(draw: Any, name: str, shape: tuple[int, ...], *,
                 dtype: torch.dtype = torch.float64, device: Device = "cpu",
                 bound: float = 1.0, simple: bool = False) -> Tensor:
    # Drawn through .map so Hypothesis prints the tensor as Build(...)(description).
    described = _descriptions_lazy(name, shape, dtype=dtype, bound=bound, simple=simple)
    tensor: Tensor = draw(described.map(Build(dtype, str(device))))
    return tensor


def _structured_impl(draw: Any, name: str, shape: tuple[int, ...], *,
                     spectrum: _SpectrumRange | None, dtype: torch.dtype,
                     device: Device) -> Tensor:
    def described(d: Any) -> Description:
        return _draw_description(d, name, shape, 1.0, dtype, False, spectrum)

    tensor: Tensor = draw(st.composite(described)().map(Build(dtype, str(device))))
    return tensor


_descriptions_lazy = _named("descriptions", _descriptions_impl)
_domain_lazy = _named("domain", _domain_impl)


def _validated(name: str, shape: Sequence[int], dtype: torch.dtype, bound: float
               ) -> tuple[tuple[int, ...], float]:
    """Check a domain name against a shape, dtype and bound; the shape and bound as used."""
    if name not in DOMAIN_NAMES:
        raise UsageError(
            f"unknown input domain {name!r}; known domains: {', '.join(DOMAIN_NAMES)}"
        )
    _check_dtype(dtype)
    bound = _check_bound(bound)
    if name in ("matrix", "nonzero"):
        return _check_shape(shape, min_ndim=0), bound
    dims = _check_shape(shape, min_ndim=2)
    rows, cols = dims[-2:]
    if name not in ("sign_diagonal", "orthogonal") and rows != cols:
        raise UsageError(
            f"the {name!r} domain needs square matrices, got shape {dims}; "
            f"pass a shape like (..., {rows}, {rows})"
        )
    if name == "spd" and bound < 1:
        raise UsageError(f"the 'spd' domain needs bound >= 1 (eigenvalues in [1/bound, "
                         f"bound]), got {bound}")
    return dims, bound


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
    dims, bound = _validated(name, shape, dtype, bound)
    strategy: SearchStrategy[Description] = _descriptions_lazy(
        name, dims, dtype=dtype, bound=bound, simple=simple)
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
    dims, bound = _validated(name, shape, dtype, bound)
    strategy: SearchStrategy[Tensor] = _domain_lazy(
        name, dims, dtype=dtype, device=device, bound=bound, **(
            {"simple": True} if simple else {}))
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
    return _check_shape((*batch, size, size), min_ndim=2)


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
    return domain("orthogonal", _check_shape((*batch, r, c), min_ndim=2), dtype=dtype,
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


def _spectral_strategy(name: str, shape: tuple[int, ...], spectrum: _SpectrumRange,
                       dtype: torch.dtype, device: Device) -> SearchStrategy[Tensor]:
    _check_dtype(dtype)
    strategy: SearchStrategy[Tensor] = st.composite(_structured_impl)(
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
    lo = _check_bound(min_eigenvalue, "min_eigenvalue")
    hi = _check_bound(max_eigenvalue, "max_eigenvalue")
    if lo > hi:
        raise UsageError(f"min_eigenvalue {lo} exceeds max_eigenvalue {hi}")
    return _spectral_strategy("spd", _square(n, batch),
                              _SpectrumRange(lo, hi, lambda top: top / lo), dtype, device)


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
    hi = _check_bound(max_eigenvalue, "max_eigenvalue")
    return _spectral_strategy("psd", _square(n, batch),
                              _SpectrumRange(0.0, hi, lambda top: MAX_CONDITION, zeros=True),
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
    lo = _check_bound(min_singular_value, "min_singular_value")
    hi = _check_bound(max_singular_value, "max_singular_value")
    if lo > hi:
        raise UsageError(f"min_singular_value {lo} exceeds max_singular_value {hi}")
    return _spectral_strategy("singular", _check_shape((*batch, r, c), min_ndim=2),
                              _SpectrumRange(lo, hi, lambda top: top / lo), dtype, device)


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
    full = _check_shape(shape, min_ndim=max(-d for d in dims_t) if dims_t else 0)
    _check_dtype(dtype)
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
    dims = _check_shape(shape, min_ndim=0)
    _check_dtype(dtype)
    lo, hi = _check_bound(low, "low"), _check_bound(high, "high")
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
        dims = _check_shape(shape, min_ndim=2)
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
