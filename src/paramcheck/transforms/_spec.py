"""What a transform promises, as data the verification engine can read.

Every shipped transform carries a :class:`Spec` in its ``spec`` attribute. The
engine (``paramcheck.strategies``, ``paramcheck.properties``, ``paramcheck.verify``)
reads it to know which inputs to draw, which constraint to check on the output, and
where ``right_inverse`` is exact. This module needs only the standard library and
torch, so transforms never depend on Hypothesis.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

FLOATS: tuple[torch.dtype, ...] = (torch.float32, torch.float64)

#: Domain names understood by ``paramcheck.strategies.domain``:
#: ``matrix``    any real tensor of the requested shape (entries bounded by ``bound``);
#: ``square``    any real square matrix;
#: ``symmetric`` X = Xᵀ;  ``skew``  X = -Xᵀ (spectral norm at most ``bound``);
#: ``spd``       symmetric positive definite (eigenvalues in [1/bound, bound]);
#: ``orthogonal`` QᵀQ = I (semi-orthogonal when not square).
DOMAINS = ("matrix", "square", "symmetric", "skew", "spd", "orthogonal")


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
    """

    constraint: str | None
    inputs: str = "matrix"
    bound: float = 1.0
    inverse_exact_on: str = "the image of forward"
    square: bool = False
    min_ndim: int = 2
    dtypes: tuple[torch.dtype, ...] = FLOATS

    def __post_init__(self) -> None:
        if self.inputs not in DOMAINS:
            raise ValueError(f"Spec.inputs must be one of {DOMAINS}, got {self.inputs!r}")
