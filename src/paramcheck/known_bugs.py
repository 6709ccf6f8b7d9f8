"""Realistic buggy parametrizations, each breaking one property: paramcheck must catch them.

These are the mistakes people make when they write parametrizations by hand, most of
them one line away from the correct transform in :mod:`paramcheck.transforms`. Each
class carries the ``spec`` of its correct twin (what it claims) and ``breaks``, the name
of the property (from ``paramcheck.properties``) that exposes it::

    constraint, round_trip, cache, gradient, batch, dtype, device, state, differential

(and the opt-in ``coverage`` and ``inplace``), so a suite can assert that exactly that
property fails. The docstrings say how each
property is expected to be run for the claim to hold (for example, which bugs only a
CUDA run can show). Needs torch only.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from paramcheck.transforms import (
    CayleyMap,
    MatrixExponential,
    Positive,
    Skew,
    Spec,
    Sphere,
    Symmetric,
    cayley_inverse,
)


class TutorialCayleyMap(nn.Module):
    """The seed tutorial's ``CayleyMap``, ``right_inverse`` as written. Breaks ``round_trip``.

    ``forward`` is right: ``Q = (I - X)⁻¹(I + X)``. The tutorial's ``right_inverse``
    computes ``solve(X + I, I - X)`` with an undefined ``X``; read with ``A`` (the
    argument) in its place, it is ``(A + I)⁻¹(I - A) = -(A - I)(A + I)⁻¹``: the negated
    inverse, so assigning an orthogonal ``Q`` gives back ``cayley(-X) = Q⁻¹ = Qᵀ``. The
    round trip ``f(g(Q)) = Q`` fails for every ``Q`` but the (symmetric) identity-like
    ones; the constraint and every other property hold.

    Kept as the tutorial has it: ``n`` is required and the identity is a float32 buffer
    (float64 input still works: ``Id - X`` promotes).
    """

    breaks = "round_trip"
    spec = CayleyMap.spec
    Id: Tensor

    def __init__(self, n: int) -> None:
        super().__init__()
        self.register_buffer("Id", torch.eye(n))

    def forward(self, X: Tensor) -> Tensor:
        # (I + X)(I - X)^{-1}
        Q: Tensor = torch.linalg.solve(self.Id - X, self.Id + X)
        return Q

    def right_inverse(self, A: Tensor) -> Tensor:
        # The tutorial: torch.linalg.solve(X + self.Id, self.Id - X), X meaning A.
        X: Tensor = torch.linalg.solve(A + self.Id, self.Id - A)
        return X


class TransposeSymmetric(Symmetric):
    """``Symmetric`` written with ``.T`` instead of ``.mT``. Breaks ``batch``.

    On a matrix ``.T`` is the transpose and everything is right. On a batch ``(b, n, n)``
    it reverses *all* dimensions (torch warns it is deprecated), giving ``(n, n, b)``:
    the sum fails to broadcast, or, when ``b == n``, mixes matrices of the batch.
    """

    breaks = "batch"

    def forward(self, X: Tensor) -> Tensor:
        return X.triu() + X.triu(1).T


class TransposeInverseSkew(Skew):
    """``Skew`` whose ``right_inverse`` takes the skew part with ``.T``. Breaks ``batch``.

    ``(A - A.T) / 2`` is a right inverse that also accepts matrices that are not skew
    (``forward`` of the skew part of any ``A`` is that skew part). On a matrix it is
    right; on a batch ``(b, n, n)`` ``.T`` reverses *all* dimensions, so the difference
    fails to broadcast or, when ``b == n``, mixes matrices of the batch. ``forward`` is
    ``Skew``'s, so a batched ``forward`` is right: only assigning a batched weight shows it.
    """

    breaks = "batch"

    def right_inverse(self, A: Tensor) -> Tensor:
        return (A - A.T) / 2


class TypoSkew(Skew):
    """``Skew`` with ``transpose(-1, -1)`` for ``transpose(-1, -2)``. Breaks ``coverage``.

    Transposing a dimension with itself is a no-op, so ``U - U`` is the zero matrix for
    every input: skew (the constraint holds), a round trip ``forward(right_inverse(A)) =
    0 = A`` on its image ``{0}``, and zero gradients that gradcheck confirms. Only the
    rank of forward's Jacobian (0, not n(n-1)/2) and a skew ``A`` assigned from outside
    the image show it.
    """

    breaks = "coverage"

    def forward(self, X: Tensor) -> Tensor:
        U = X.triu(1)
        return U - U.transpose(-1, -1)


class DiagonalDroppingSymmetric(Symmetric):
    """``Symmetric`` built with Skew's ``triu(X, 1)`` twice. Breaks ``coverage``.

    ``triu(X, 1) + triu(X, 1)ᵀ`` is symmetric with a zero diagonal: every law on
    forward's own image holds (``right_inverse = triu`` round-trips a zero-diagonal
    matrix), but the image has dimension n(n-1)/2, not n(n+1)/2: assigning a symmetric
    weight loses its diagonal.
    """

    breaks = "coverage"

    def forward(self, X: Tensor) -> Tensor:
        return X.triu(1) + X.triu(1).mT


class InplaceSymmetric(Symmetric):
    """``Symmetric`` whose ``right_inverse`` uses ``triu_()`` "to save a copy". Breaks ``inplace``.

    Assignment (``layer.weight = S``) runs ``right_inverse(S)`` under ``no_grad``: the
    in-place ``triu_`` zeroes the lower triangle of the user's ``S`` without a word. The
    value it returns is right, so every law that hands right_inverse a copy holds.
    """

    breaks = "inplace"

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.triu_()


class NaivePositive(Positive):
    """Softplus with the textbook inverse ``log(exp(y) - 1)``. Breaks ``round_trip``.

    ``exp(y)`` overflows to ``inf`` for ``y > 88.7`` in float32, so ``right_inverse``
    returns ``inf`` and ``forward(inf) = inf ≠ y``; for tiny ``y``, ``exp(y)`` rounds to
    1 and the result is ``-inf``. ``Positive`` computes ``y + log(-expm1(-y))``, which
    does neither. Its spec's bound (100) puts ``y > 88.7`` inside the drawn inputs.
    """

    breaks = "round_trip"

    def right_inverse(self, Y: Tensor) -> Tensor:
        return torch.log(torch.exp(Y) - 1)


class ElementwiseLogSPD(MatrixExponential):
    """SPD matrix exponential whose inverse is the entrywise ``torch.log``. Breaks ``round_trip``.

    ``torch.log(A)`` is the logarithm of each entry, not the matrix logarithm; entries of
    an SPD matrix can be negative (NaN) and even where they are not, ``exp`` of the
    result is not ``A``. The inverse needs ``eigh``: ``U diag(log λ) Uᵀ``.
    """

    breaks = "round_trip"

    def __init__(self) -> None:
        super().__init__("symmetric")

    def right_inverse(self, A: Tensor) -> Tensor:
        return torch.log(A)


class UpcastCayleyMap(CayleyMap):
    """Cayley map computed in float64 "for accuracy", never cast back. Breaks ``dtype``.

    ``X.double()`` upcasts float32 input, and the float64 result is returned as is, so a
    float32 weight becomes float64. Values are right (more accurate, even): float64 input
    is untouched, and gradcheck in float64 passes. ``register_parametrization`` (without
    ``unsafe=True``) refuses it on a float32 weight ("may not change the dtype"), so any
    property that registers it on a float32 module meets that error too.
    """

    breaks = "dtype"

    def forward(self, X: Tensor) -> Tensor:
        X = X.double()
        eye = torch.eye(X.shape[-1], dtype=X.dtype, device=X.device)
        Q: Tensor = torch.linalg.solve(eye - X, eye + X)
        return Q


class HostBoundCayleyMap(nn.Module):
    """Cayley map with its identity in a plain attribute, not a buffer. Breaks ``device``.

    ``self.Id = torch.eye(n)`` is not registered, so ``.to('cuda')`` leaves it on the
    CPU. To silence the device-mismatch error, the forward moves its input to the
    identity's device: a CUDA weight comes back on the CPU. Values, gradients (through
    ``.to``), dtypes and state are right; only a run on a CUDA device shows it (the
    device property is skipped where CUDA is absent).
    """

    breaks = "device"
    spec = CayleyMap.spec

    def __init__(self, n: int) -> None:
        super().__init__()
        self.Id = torch.eye(n)

    def forward(self, X: Tensor) -> Tensor:
        X = X.to(self.Id.device)
        Q: Tensor = torch.linalg.solve(self.Id - X, self.Id + X)
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        return cayley_inverse(Q)


class DetachedNormSphere(Sphere):
    """Unit norm with the norm detached "for stability". Breaks ``gradient``.

    Values are exactly ``Sphere``'s, but autograd sees ``X / c`` with ``c`` a constant:
    the gradient ``v / ‖X‖`` misses the projection term ``-(v·u) u / ‖X‖`` that keeps
    updates tangent to the sphere, so it disagrees with finite differences. (Detaching a
    factor the output does not depend on, as ``Sphere`` does with its scale, is fine.)
    """

    breaks = "gradient"

    def forward(self, X: Tensor) -> Tensor:
        scale = X.detach().abs().amax(dim=self.dims, keepdim=True)
        is_zero = scale == 0
        scaled = X / scale.masked_fill(is_zero, 1)
        norm = torch.linalg.vector_norm(scaled, dim=self.dims, keepdim=True).detach()  # the bug
        unit = scaled / norm.masked_fill(is_zero, 1)
        return torch.where(is_zero, self._pole(X), unit)


class GradNormalizingSkew(Skew):
    """``Skew`` with a hook normalising the gradient of its output. Breaks ``cache``.

    ``Y.register_hook(lambda g: g / (‖g‖ + 1e-12))`` is a "stabiliser" users add. Read
    uncached, each read of the weight is its own output and normalises its own share of
    the gradient; inside ``parametrize.cached()`` all reads share one output, whose hook
    normalises the *sum* once: reading the weight twice gives gradients that differ by
    a factor of about 2. Values never change, and gradcheck passes (it pulls back one-hot
    vectors, which have norm 1, one at a time).
    """

    breaks = "cache"

    def forward(self, X: Tensor) -> Tensor:
        Y = super().forward(X)
        if Y.requires_grad:
            Y.register_hook(_normalized)  # type: ignore[no-untyped-call]
        return Y


def _normalized(grad: Tensor | None) -> Tensor | None:
    """The gradient scaled to unit norm (``None``, an undefined gradient, passes through)."""
    return None if grad is None else grad / (grad.norm() + 1e-12)


class TopKMagnitude(nn.Module):
    """Magnitude pruning: keep the ``keep`` fraction of largest-magnitude entries of each
    row, recomputed from the current weight at every read (the correct twin of
    :class:`MemoizedTopK`; sparse training such as RigL or TopKAST prunes this way).

    Ties are broken by position (a stable sort), so a batch and its items keep the same
    entries. ``right_inverse`` is the identity, exact on the image (rows with at most
    ``k`` nonzero entries, whose top ``k`` hold them all). The mask is piecewise
    constant: its gradient is zero, and ``X ⊙ M`` passes the gradient through ``M``.
    """

    spec = Spec(
        constraint=None,
        inputs="matrix",
        inverse_exact_on="tensors with at most k nonzero entries per row (the image)",
    )

    def __init__(self, keep: float = 0.5) -> None:
        super().__init__()
        self.keep = keep

    def mask(self, X: Tensor) -> Tensor:
        k = max(1, int(self.keep * X.shape[-1]))
        order = X.detach().abs().argsort(dim=-1, descending=True, stable=True)
        return torch.zeros_like(X, dtype=torch.bool).scatter_(-1, order[..., :k], True)

    def forward(self, X: Tensor) -> Tensor:
        return torch.where(self.mask(X), X, 0.0)

    def right_inverse(self, A: Tensor) -> Tensor:
        return A


class MemoizedTopK(TopKMagnitude):
    """Top-k pruning that reuses its mask while the weight is the same tensor. Breaks ``cache``.

    "Sorting every row at every forward is slow, and the weight is the same tensor
    between calls", so forward keeps ``(X, mask)`` and recomputes only for another
    tensor. But an optimizer step updates the parameter *in place*: the same tensor
    object with new values, so after the first step the mask is the first weight's and
    the pruning never follows training. Every law on one evaluation holds (a batch's
    items, a right inverse's output and gradcheck's inputs are other tensors, or the
    same values). ``copy.deepcopy`` carries the memo (it maps the stored tensor to the
    copy's own original), so a deep copy of a trained layer is as stale as the layer;
    only a freshly built twin holding the same parameters shows it. The fix keys the
    memo on ``X._version`` too (which every in-place update bumps), or drops it.
    """

    breaks = "cache"

    def __init__(self, keep: float = 0.5) -> None:
        super().__init__(keep)
        self._memo: tuple[Tensor, Tensor] | None = None

    def forward(self, X: Tensor) -> Tensor:
        if self._memo is None or self._memo[0] is not X:  # the bug: identity, not value
            self._memo = (X, self.mask(X))
        return torch.where(self._memo[1], X, 0.0)


class UnsavedBaseOrthogonal(nn.Module):
    """Orthogonal map with a trivialization base kept out of the ``state_dict``. Breaks ``state``.

    ``f(X) = B · exp(U - Uᵀ)``, ``U = triu(X, 1)``; ``right_inverse(Q)`` stores ``Q``
    (orthogonalised by QR) in ``B`` and returns 0, so ``f(g(Q)) = Q`` for any orthogonal
    ``Q``, as torch's ``orthogonal`` does. But ``B`` is registered with
    ``persistent=False`` ("it is derived data"), so a checkpoint loses it: a freshly
    built module that loads the ``state_dict`` has ``B = I`` and another weight.
    ``copy.deepcopy`` and ``.to()`` do carry it, so only a ``state_dict`` round trip
    into a new instance shows it. The fix: a persistent buffer, initialised to ``I``.
    """

    breaks = "state"
    spec = Spec(
        constraint="orthogonal",
        inputs="square",
        inverse_exact_on="every orthogonal matrix (stored in the base)",
        square=True,
        stateful=True,
    )
    base: Tensor | None

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("base", None, persistent=False)

    def forward(self, X: Tensor) -> Tensor:
        upper = X.triu(1)
        Q = torch.matrix_exp(upper - upper.mT)
        return Q if self.base is None else self.base @ Q

    @torch.no_grad()
    def right_inverse(self, Q: Tensor) -> Tensor:
        factor, R = torch.linalg.qr(Q)
        signs = torch.where(R.diagonal(dim1=-2, dim2=-1) < 0, -1.0, 1.0).to(Q.dtype)
        self.base = factor * signs.unsqueeze(-2)
        return torch.zeros_like(Q)


#: Every known bug, in the order of the properties they break.
KNOWN_BUGS: tuple[type[nn.Module], ...] = (
    TutorialCayleyMap,
    NaivePositive,
    ElementwiseLogSPD,
    GradNormalizingSkew,
    MemoizedTopK,
    DetachedNormSphere,
    TransposeSymmetric,
    TransposeInverseSkew,
    UpcastCayleyMap,
    HostBoundCayleyMap,
    UnsavedBaseOrthogonal,
)

#: Bugs that only the opt-in properties (coverage, inplace) see; verify runs them when
#: asked with ``properties=["coverage", "inplace"]``.
OPT_IN_BUGS: tuple[type[nn.Module], ...] = (TypoSkew, DiagonalDroppingSymmetric, InplaceSymmetric)


def instances(n: int = 4) -> dict[str, nn.Module]:
    """A fresh instance of every known bug, built for ``n x n`` weights where that matters."""
    sized = {TutorialCayleyMap, HostBoundCayleyMap}
    return {bug.__name__: bug(n) if bug in sized else bug() for bug in KNOWN_BUGS}
