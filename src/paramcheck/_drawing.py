"""How :mod:`paramcheck.strategies` draws: descriptions, their validation and building.

Hypothesis draws a small :mod:`paramcheck._descriptions` object (a base and a few entries
for entrywise domains; a rotation and a spectrum for spectral ones) and :class:`Build`
turns it into the tensor at any size. The public strategies (``matrices``, ``symmetric``,
``spd``, ``domain``...) are thin wrappers in :mod:`paramcheck.strategies`; the constants
and their reasoning are here, next to the code they bound.
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


def check_dtype(dtype: torch.dtype) -> torch.dtype:
    return _validate.dtype(dtype)


def check_shape(shape: Sequence[int], *, min_ndim: int = 1) -> tuple[int, ...]:
    return _validate.shape(shape, min_ndim=min_ndim)


def check_bound(bound: float, name: str = "bound") -> float:
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
class SpectrumRange:
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
                   allowed: SpectrumRange | None) -> Spectral:
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


def _spectrum_range(name: str, bound: float) -> SpectrumRange | None:
    """The spectrum a domain of ``Spec.bound`` ``bound`` draws (see :func:`domain`)."""
    if name in ("orthogonal", "special_orthogonal"):
        return None
    if name == "spd":  # eigenvalues in [1/bound, bound]
        return SpectrumRange(1 / bound, bound, lambda top: top * bound)
    return SpectrumRange(0.0, bound, lambda top: MAX_CONDITION,
                          zeros=True, negative=name == "symmetric")


# --------------------------------------------------------------------------- drawing


def _draw_description(draw: Any, name: str, shape: tuple[int, ...], bound: float,
                      dtype: torch.dtype, simple: bool,
                      spectrum: SpectrumRange | None = None) -> Description:
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
    described = descriptions_lazy(name, shape, dtype=dtype, bound=bound, simple=simple)
    tensor: Tensor = draw(described.map(Build(dtype, str(device))))
    return tensor


def structured_impl(draw: Any, name: str, shape: tuple[int, ...], *,
                     spectrum: SpectrumRange | None, dtype: torch.dtype,
                     device: Device) -> Tensor:
    def described(d: Any) -> Description:
        return _draw_description(d, name, shape, 1.0, dtype, False, spectrum)

    tensor: Tensor = draw(st.composite(described)().map(Build(dtype, str(device))))
    return tensor


#: The keyword defaults of the drawing functions: a strategy's repr lists what differs
#: (Hypothesis hides a keyword only when it *is* the default object, which a validated
#: ``float(bound)`` is not).
_DEFAULTS: dict[str, Any] = {"dtype": torch.float64, "device": "cpu", "bound": 1.0,
                             "simple": False}


def non_default(**kwargs: Any) -> dict[str, Any]:
    """``kwargs`` without the entries equal to the drawing functions' defaults."""
    return {k: v for k, v in kwargs.items() if k not in _DEFAULTS or v != _DEFAULTS[k]}


descriptions_lazy = _named("descriptions", _descriptions_impl)
domain_lazy = _named("domain", _domain_impl)


def validated(name: str, shape: Sequence[int], dtype: torch.dtype, bound: float
               ) -> tuple[tuple[int, ...], float]:
    """Check a domain name against a shape, dtype and bound; the shape and bound as used."""
    if name not in DOMAIN_NAMES:
        raise UsageError(
            f"unknown input domain {name!r}; known domains: {', '.join(DOMAIN_NAMES)}"
        )
    check_dtype(dtype)
    bound = check_bound(bound)
    if name in ("matrix", "nonzero"):
        return check_shape(shape, min_ndim=0), bound
    dims = check_shape(shape, min_ndim=2)
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


