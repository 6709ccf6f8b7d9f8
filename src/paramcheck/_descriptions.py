"""Small descriptions of large tensors: what Hypothesis draws, and how torch builds them.

A 1024×1024 weight has a million entries; drawing each one with Hypothesis is slow,
trips its health checks, and shrinks to a counterexample nobody can read. Instead the
strategies draw a *description* of a handful of numbers (a seed for a
``torch.Generator``, a scale, a rank, a condition number, a few special entries) and
torch builds the tensor from it at any size. A description is a frozen dataclass whose
``repr`` is the Python expression that rebuilds it, and whose ``str`` says in words what
it is::

    >>> from paramcheck._descriptions import Entrywise, Zeros
    >>> d = Entrywise("square", (1024, 1024), base=Zeros(), entries=(((2, 3), 1.0),))
    >>> print(d)
    1024×1024 square: zeros, with 1.0 at [2, 3]
    >>> d.build().shape
    torch.Size([1024, 1024])

Two families, each the simplest way to reach every member of its domains:

- :class:`Entrywise` (domains ``matrix``, ``square``, ``nonzero``, ``sign_diagonal``): a
  *base* (:class:`Zeros`, :class:`Identity`, :class:`Uniform`, :class:`LowRank`,
  :class:`Sparse`) with a few entries set to drawn values on top. Every entry lies in
  [-bound, bound].
- :class:`Spectral` (``symmetric``, ``skew``, ``spd``, ``psd``, ``orthogonal``,
  ``special_orthogonal``, ``singular``): ``Q·D·Qᵀ`` (or ``U·Σ·Vᵀ``) with ``Q`` a
  :class:`Rotation` (Haar-random on a leading block, the identity elsewhere; the whole
  identity when the block is empty) and ``D`` from a :class:`Spectrum` (largest value,
  condition number, how the values spread between the two, exact zeros). Conditioning is
  known by construction, so the tolerances of the properties can rely on it.

Every tensor is built in float64 on the CPU from the description alone (the generators are
seeded from it, never from global state), then cast once to the requested dtype and
device: the same description gives the same tensor on every machine, and a float32
orthogonal matrix is as orthogonal as float32 allows. Needs torch only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor

__all__ = [
    "ENTRYWISE_DOMAINS",
    "SPECTRAL_DOMAINS",
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
]

ENTRYWISE_DOMAINS = ("matrix", "square", "nonzero", "sign_diagonal")
SPECTRAL_DOMAINS = ("symmetric", "skew", "spd", "psd", "orthogonal", "special_orthogonal",
                    "singular")

Index = tuple[int, ...]


def _size(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape) if shape else "scalar"


def _g(x: float) -> str:
    return f"{x:.4g}"


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------ bases


@dataclass(frozen=True)
class Explicit:
    """Every entry given, in row-major order: how small tensors are drawn (one Hypothesis
    draw per entry, each shrinking toward 0 on its own)."""

    values: tuple[float, ...]

    def build(self, shape: tuple[int, ...]) -> Tensor:
        return torch.tensor(self.values, dtype=torch.float64).reshape(shape)

    def __str__(self) -> str:
        nonzero = [(i, v) for i, v in enumerate(self.values) if v != 0.0]
        if not nonzero:
            return "zeros"
        return "entries " + repr(list(self.values))


@dataclass(frozen=True)
class Zeros:
    """Every entry 0."""

    def build(self, shape: tuple[int, ...]) -> Tensor:
        return torch.zeros(shape, dtype=torch.float64)

    def __str__(self) -> str:
        return "zeros"


@dataclass(frozen=True)
class Identity:
    """``scale`` on the diagonal of every matrix (``torch.eye`` for non-square), 0 elsewhere."""

    scale: float = 1.0

    def build(self, shape: tuple[int, ...]) -> Tensor:
        if len(shape) < 2:
            return torch.full(shape, self.scale, dtype=torch.float64)
        eye = torch.eye(shape[-2], shape[-1], dtype=torch.float64) * self.scale
        return eye.expand(shape).clone()

    def __str__(self) -> str:
        return "the identity" if self.scale == 1.0 else f"{_g(self.scale)}·identity"


@dataclass(frozen=True)
class Uniform:
    """Independent entries uniform in [-scale, scale], from ``torch.Generator`` seed ``seed``."""

    seed: int
    scale: float

    def build(self, shape: tuple[int, ...]) -> Tensor:
        u = torch.rand(shape, generator=_generator(self.seed), dtype=torch.float64)
        return (2 * u - 1) * self.scale

    def __str__(self) -> str:
        return f"uniform entries in [-{_g(self.scale)}, {_g(self.scale)}] (seed {self.seed})"


@dataclass(frozen=True)
class LowRank:
    """``U·Vᵀ`` with Gaussian U, V of ``rank`` columns (seed ``seed``), scaled so the largest
    entry is ``scale``. Along the last two dimensions; a batch gets independent factors."""

    seed: int
    rank: int
    scale: float

    def build(self, shape: tuple[int, ...]) -> Tensor:
        if len(shape) < 2:
            return Uniform(self.seed, self.scale).build(shape)
        g = _generator(self.seed)
        *batch, rows, cols = shape
        r = max(1, min(self.rank, rows, cols))
        U = torch.randn(*batch, rows, r, generator=g, dtype=torch.float64)
        V = torch.randn(*batch, cols, r, generator=g, dtype=torch.float64)
        M = U @ V.mT
        return M * (self.scale / M.abs().max().clamp_min(1e-300))

    def __str__(self) -> str:
        return f"rank-{self.rank} product scaled to max |entry| {_g(self.scale)} (seed {self.seed})"


@dataclass(frozen=True)
class Sparse:
    """Each entry nonzero with probability ``density``, then uniform in [-scale, scale]."""

    seed: int
    density: float
    scale: float

    def build(self, shape: tuple[int, ...]) -> Tensor:
        g = _generator(self.seed)
        keep = torch.rand(shape, generator=g, dtype=torch.float64) < self.density
        u = torch.rand(shape, generator=g, dtype=torch.float64)
        return torch.where(keep, (2 * u - 1) * self.scale, torch.zeros((), dtype=torch.float64))

    def __str__(self) -> str:
        return (f"{self.density:.0%} of entries uniform in [-{_g(self.scale)}, "
                f"{_g(self.scale)}] (seed {self.seed})")


Base = Explicit | Zeros | Identity | Uniform | LowRank | Sparse


# --------------------------------------------------------------------------- entrywise


@dataclass(frozen=True)
class Entrywise:
    """A tensor of ``shape`` in an entrywise domain: ``base``, then ``entries`` set on top.

    Attributes:
        domain: ``matrix`` or ``square`` (entries in [-bound, bound]); ``nonzero``
            (every entry pushed away from 0 by bound/10: ``x ± bound/10`` by the sign
            of x, + at 0, clipped to [-bound, bound]); ``sign_diagonal`` (the diagonal
            of every matrix overwritten by ±1).
        shape: the full shape; leading dimensions are a batch.
        bound: the largest |entry|.
        base: where the entries start from.
        entries: ``(index, value)`` pairs set after the base (index over the full
            shape), before the nonzero push and the sign diagonal.
        signs: ``sign_diagonal`` only: the seed of random ±1 diagonal signs, or None for
            every diagonal entry +1.
    """

    domain: str
    shape: tuple[int, ...]
    bound: float = 1.0
    base: Base = field(default_factory=Zeros)
    entries: tuple[tuple[Index, float], ...] = ()
    signs: int | None = None

    def build(self, dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu"
              ) -> Tensor:
        X = self.base.build(self.shape)
        for index, value in self.entries:
            X[index] = value
        X = X.clamp(-self.bound, self.bound)
        if self.domain == "nonzero":
            gap = self.bound / 10
            X = torch.where(X < 0, X - gap, X + gap).clamp(-self.bound, self.bound)
        elif self.domain == "sign_diagonal":
            diag = X.diagonal(dim1=-2, dim2=-1)
            if self.signs is None:
                diag.fill_(1.0)
            else:
                flips = torch.rand(diag.shape, generator=_generator(self.signs)) < 0.5
                diag.copy_(torch.where(flips, -1.0, 1.0).to(torch.float64))
        return X.to(device=device, dtype=dtype)

    def __str__(self) -> str:
        text = f"{_size(self.shape)} {self.domain}: {self._base_text()}"
        if self.entries:
            shown = ", ".join(f"{value!r} at {list(index)}" for index, value in self.entries)
            text += f", with {shown}"
        if self.domain == "nonzero":
            text += f", each entry then pushed {_g(self.bound / 10)} away from 0"
        if self.domain == "sign_diagonal":
            text += (", diagonal +1" if self.signs is None
                     else f", diagonal random ±1 (seed {self.signs})")
        return text

    def _base_text(self) -> str:
        """An explicit base with few nonzero entries reads as zeros with those entries."""
        if not isinstance(self.base, Explicit):
            return str(self.base)
        flat = torch.tensor(self.base.values, dtype=torch.float64)
        nonzero = flat.nonzero().flatten().tolist()
        if len(nonzero) > _FEW:
            return str(self.base)
        if not nonzero:
            return "zeros"
        shown = ", ".join(
            f"{self.base.values[k]!r} at "
            f"{[int(i) for i in torch.unravel_index(torch.tensor(k), self.shape)]}"
            for k in nonzero)
        return f"zeros, with {shown}"


#: An explicit tensor with at most this many nonzero entries is described entry by entry.
_FEW = 8


# ---------------------------------------------------------------------------- spectral


@dataclass(frozen=True)
class Rotation:
    """A rotation (det +1): Haar-random on the leading ``block``×``block`` block, the
    identity on the rest. ``block`` 0 or 1 is the identity; seed of the generator ``seed``.

    Haar: Q from the QR factorization of a Gaussian matrix, columns signed by diag(R)
    (Mezzadri, "How to generate random matrices from the classical compact groups"), one
    column negated if needed so that det Q = +1.
    """

    seed: int = 0
    block: int = 0

    def build(self, n: int, count: int) -> Tensor:
        """``count`` independent rotations of size ``n`` (one generator, drawn in turn)."""
        Q = torch.eye(n, dtype=torch.float64).expand(count, n, n).clone()
        k = min(self.block, n)
        if k < 2:
            return Q
        G = torch.randn(count, k, k, generator=_generator(self.seed), dtype=torch.float64)
        H, R = torch.linalg.qr(G)
        H = H * torch.sign(R.diagonal(dim1=-2, dim2=-1)).unsqueeze(-2)
        flip = torch.linalg.det(H) < 0
        H[..., 0] = torch.where(flip.unsqueeze(-1), -H[..., 0], H[..., 0])
        Q[:, :k, :k] = H
        return Q

    def __str__(self) -> str:
        if self.block < 2:
            return "the identity"
        k = self.block
        return f"a random rotation of the leading {k}×{k} block (seed {self.seed})"


Spread = Literal["flat", "geometric", "random"]


@dataclass(frozen=True)
class Spectrum:
    """``count`` nonnegative values from ``top`` down to ``top/condition``.

    ``flat``: all equal to ``top`` (repeated values); ``geometric``: ``top·condition^(-i/(m-1))``;
    ``random``: log-uniform in [top/condition, top] (seed ``seed``). Then the last
    ``zeros`` values are set to exactly 0 (a singular matrix), and the first ``negative``
    values are negated (symmetric only).
    """

    top: float = 1.0
    condition: float = 1.0
    spread: Spread = "flat"
    seed: int = 0
    zeros: int = 0
    negative: int = 0

    def values(self, count: int, batch: int) -> Tensor:
        if self.spread == "flat" or count == 1:
            u = torch.zeros(batch, count, dtype=torch.float64)
        elif self.spread == "geometric":
            u = torch.linspace(0, 1, count, dtype=torch.float64).expand(batch, count)
        else:
            u = torch.rand(batch, count, generator=_generator(self.seed), dtype=torch.float64)
        v = self.top * torch.pow(torch.tensor(self.condition, dtype=torch.float64), -u)
        v = v.clone()
        if self.zeros:
            v[:, count - min(self.zeros, count):] = 0.0
        if self.negative:
            v[:, :min(self.negative, count)] *= -1
        return v

    def __str__(self) -> str:
        if self.spread == "flat" or self.condition == 1.0:
            text = f"all {_g(self.top)}"
        else:
            how = "geometric" if self.spread == "geometric" else f"log-uniform (seed {self.seed})"
            text = f"{how} from {_g(self.top)} down to {_g(self.top / self.condition)}"
        if self.zeros:
            text += f", the last {self.zeros} exactly 0"
        if self.negative:
            text += f", the first {self.negative} negated"
        return text


@dataclass(frozen=True)
class Spectral:
    """A matrix built from a rotation and a spectrum, in one of :data:`SPECTRAL_DOMAINS`.

    - ``symmetric``, ``spd``, ``psd``: ``Q·diag(λ)·Qᵀ`` (eigenvalues λ from ``spectrum``);
    - ``skew``: ``Q·J·Qᵀ``, J block diagonal with 2×2 blocks ``[[0, θ], [-θ, 0]]`` (the
      spectral norm is the largest θ); an odd size leaves one 0;
    - ``orthogonal``, ``special_orthogonal``: ``Q`` itself, with the first row negated
      when ``reflect`` (det -1); tall or wide: its leading columns or rows;
    - ``singular``: ``U·Σ·Vᵀ``, U = ``basis``, V = ``right`` (singular values from ``spectrum``).

    Symmetric and skew results are symmetrized in float64, so the cast keeps them exact.
    """

    domain: str
    shape: tuple[int, ...]
    basis: Rotation = field(default_factory=Rotation)
    spectrum: Spectrum = field(default_factory=Spectrum)
    reflect: bool = False
    right: Rotation = field(default_factory=Rotation)

    def build(self, dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu"
              ) -> Tensor:
        *batch, rows, cols = self.shape
        count = math.prod(batch)
        n = max(rows, cols) if self.domain in ("orthogonal", "special_orthogonal") else rows
        Q = self.basis.build(n, count)
        if self.domain in ("orthogonal", "special_orthogonal"):
            if self.reflect:
                Q[:, 0] = -Q[:, 0]
            A = Q[:, :, :cols] if rows >= cols else Q[:, :rows, :]
        elif self.domain == "singular":
            k = min(rows, cols)
            V = self.right.build(cols, count)
            sigma = self.spectrum.values(k, count)
            A = (Q[:, :, :k] * sigma.unsqueeze(-2)) @ V[:, :, :k].mT
        elif self.domain == "skew":
            theta = self.spectrum.values(n // 2, count)
            J = torch.zeros(count, n, n, dtype=torch.float64)
            i = torch.arange(n // 2)
            J[:, 2 * i, 2 * i + 1] = theta
            J[:, 2 * i + 1, 2 * i] = -theta
            A = Q @ J @ Q.mT
            A = (A - A.mT) / 2
        else:
            lam = self.spectrum.values(n, count)
            A = (Q * lam.unsqueeze(-2)) @ Q.mT
            A = (A + A.mT) / 2
        return A.reshape(self.shape).contiguous().to(device=device, dtype=dtype)

    def __str__(self) -> str:
        head = f"{_size(self.shape)} {self.domain}"
        if self.domain in ("orthogonal", "special_orthogonal"):
            return f"{head}: {self.basis}" + (", first row negated" if self.reflect else "")
        what = {"skew": "rotation angles", "singular": "singular values"}.get(
            self.domain, "eigenvalues")
        text = f"{head}: basis {self.basis}; {what} {self.spectrum}"
        if self.domain == "singular":
            text += f"; right basis {self.right}"
        return text


Description = Entrywise | Spectral
