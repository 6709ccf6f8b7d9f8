"""What a transform promises, as data the verification engine can read.

Every shipped transform carries a :class:`Spec` in its ``spec`` attribute. The
engine (``paramcheck.strategies``, ``paramcheck.properties``, ``paramcheck.verify``)
reads it to know which inputs to draw, which constraint to check on the output, and
where ``right_inverse`` is exact. This module needs only the standard library and
torch, so transforms never depend on Hypothesis.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

FLOATS: tuple[torch.dtype, ...] = (torch.float32, torch.float64)
#: Every floating dtype, for transforms whose kernels exist in half precision too.
ALL_FLOATS: tuple[torch.dtype, ...] = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

#: Domain names understood by ``paramcheck.strategies.domain``:
#: ``matrix``    any real tensor of the requested shape (entries bounded by ``bound``);
#: ``square``    any real square matrix;
#: ``symmetric`` X = Xᵀ;  ``skew``  X = -Xᵀ (spectral norm at most ``bound``);
#: ``spd``       symmetric positive definite (eigenvalues in [1/bound, bound]);
#: ``orthogonal`` QᵀQ = I (semi-orthogonal when not square);
#: ``nonzero``   like ``matrix``, but every entry has ``bound/10 ≤ |x| ≤ bound``, so no
#:               row, column or slice is zero (for maps that divide by a norm);
#: ``sign_diagonal`` like ``matrix``, but every diagonal entry is exactly +1 or -1
#:               (torch's Householder orthogonal map reads column signs from the
#:               diagonal with ``.int()``, so other diagonal values are outside its domain).
DOMAINS = (
    "matrix",
    "square",
    "symmetric",
    "skew",
    "spd",
    "orthogonal",
    "nonzero",
    "sign_diagonal",
)


@dataclass(frozen=True)
class Spec:
    """The contract of a transform ``f`` with an optional ``right_inverse`` ``g``.

    Attributes:
        constraint: name of the check in ``paramcheck.constraints`` that ``f(X)``
            satisfies for every ``X`` in ``inputs``; ``None`` when there is none.
        inputs: the domain ``f`` is meant to be applied to (one of :data:`DOMAINS`).
            For a transform used after another in a chain (``CayleyMap`` after
            ``Skew``), this is the previous transform's image.
        bound: scale of the drawn inputs: the bound on entries for ``matrix`` and
            ``square``, on the spectral norm for ``skew`` and ``symmetric``, on the
            condition number for ``spd``. Chosen so that ``f`` is well conditioned.
        inverse_exact_on: where ``f(g(A)) == A`` holds, in words. The engine checks it
            on the image ``A = f(X)``, ``X`` drawn from ``inputs``.
        square: ``f`` needs square trailing dimensions.
        min_ndim: the fewest dimensions an input may have (leading ones are a batch).
        dtypes: the floating dtypes ``f`` supports.
        shape: the trailing shape ``f`` requires (its state was built for it, as for
            ``Pruning``'s mask), or ``None`` when any shape allowed above works.
        norm_dims: the dimensions (counted from the end) over which the ``unit_norm``
            constraint measures the Euclidean norm; other dimensions are a batch.
        batched: leading dimensions are a batch of independent inputs, so ``f`` of a
            stack equals the stack of ``f``. ``False`` for maps that couple the whole
            tensor (torch's spectral and weight norm reshape or reduce across it).
        stateful: ``f`` reads tensor state (buffers) that ``right_inverse`` or
            training-mode calls update, or that was drawn for one shape. Use a fresh
            copy (``copy.deepcopy`` of a pristine instance) per example and move it with
            ``.to(dtype=..., device=...)`` to match its input, as a layer's ``.to()``
            would. Stateless transforms must work on any float input as constructed.
        originals: how many tensors ``right_inverse`` returns and ``forward`` takes
            (2 for torch's weight norm: ``forward(g, v)``). When it is more than one,
            ``forward``'s arguments are ``right_inverse(X)`` for ``X`` drawn from ``inputs``.
        inverse_exact: ``right_inverse`` exists and is exact on the image (up to
            rounding). ``False`` when it raises ``NotImplementedError`` or is only an
            approximation; the round-trip property does not apply then.
        dimension: the dimension of ``f``'s image for an input of a given shape (batch
            included): the rank ``f``'s Jacobian reaches at generic points of ``inputs``
            (the ``coverage`` property checks it). ``None``: the dimension of the
            constraint's set (n(n-1)/2 for skew, n(n+1)/2 for spd, ...). Declare it
            when there is no constraint or the image is smaller than the set.
    """

    constraint: str | None
    inputs: str = "matrix"
    bound: float = 1.0
    inverse_exact_on: str = "the image of forward"
    square: bool = False
    min_ndim: int = 2
    dtypes: tuple[torch.dtype, ...] = FLOATS
    shape: tuple[int, ...] | None = None
    norm_dims: tuple[int, ...] = (-2, -1)
    batched: bool = True
    stateful: bool = False
    originals: int = 1
    inverse_exact: bool = True
    dimension: Callable[[tuple[int, ...]], int] | None = None

    def __post_init__(self) -> None:
        if self.inputs not in DOMAINS:
            raise ValueError(f"Spec.inputs must be one of {DOMAINS}, got {self.inputs!r}")
        if any(d >= 0 for d in self.norm_dims):
            raise ValueError(f"Spec.norm_dims counts from the end (negative), got {self.norm_dims}")


def every_entry(shape: tuple[int, ...]) -> int:
    """The dimension of an image that is open in the whole space: every entry is free."""
    return math.prod(shape)


def every_entry_but_scale(shape: tuple[int, ...]) -> int:
    """The dimension of a scale-invariant map's image (``f(cX) = f(X)``): one fewer."""
    return math.prod(shape) - 1

