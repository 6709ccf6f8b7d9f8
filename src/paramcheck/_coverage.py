"""The ``coverage`` law: ``forward`` reaches the whole constraint set, not a corner of it.

Every other law can hold for a map that reaches too little. A ``Skew`` whose forward
returns the zero matrix satisfies the constraint (zero is skew), round-trips exactly on
its own image and has zero, correct, gradients. Two checks close that gap:

(a) **the image-side round trip**: for ``A`` drawn from the constraint set itself (not
    from forward's image), ``forward(right_inverse(A)) = A``. This is how manifold
    libraries are used: ``layer.weight = Q``, then train.
(b) **the rank of the Jacobian**: at a drawn input ``X``, the Jacobian of forward
    (restricted to the input domain's tangent space) has rank equal to the dimension of
    the constraint set: n(n-1)/2 for skew and special orthogonal n x n matrices,
    n(n+1)/2 for symmetric and SPD ones, mk - k(k+1)/2 for m x k orthonormal columns,
    d - 1 for unit vectors of length d, d for positive tensors of d entries (or what
    ``Spec.dimension`` declares). A map of lower rank reaches a set of lower dimension:
    a constant map, one that drops the diagonal, ... This needs no right inverse.

The rank is measured at a small shape when the drawn one is large: the Jacobian of an
n x n map is n² x n², and the dimension formulas hold at every size, so a map generic in
its size that is degenerate at 256 x 256 is degenerate at 5 x 5 too.

Numerical rank (see :func:`numerical_rank`): the Jacobian is computed in float64 with
``torch.func.jacrev``; its columns are scaled to unit norm (a scaling changes no rank,
and a map whose derivative is 1e-44 in one entry, as softplus at -100, is not
degenerate); singular values below ``MAP_SLACK · N · eps₆₄ · σ_max`` count as zero.
Where the rank is short at the drawn ``X`` it is measured again at a point nearby:
every smooth map loses rank somewhere (the Sphere at zero), a degenerate one everywhere.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.errors import NotApplicable
from paramcheck.transforms._spec import Spec

__all__ = ["coverage", "jacobian", "numerical_rank", "set_dimension"]

#: The largest number of input entries at which the Jacobian is formed (12 x 12). Above
#: it, the rank is measured on a leading block of RANK_SIZE (see _small).
JACOBIAN_LIMIT = 144
#: Trailing size of the block the rank is measured on when the input is larger.
RANK_SIZE = 5

#: Distance of the second point at which a short rank is confirmed, relative to
#: max(1, max|X|): far enough to leave a singular point (zero, ties), close enough to
#: stay in the domain (an SPD input keeps its eigenvalues ≥ 1/bound - n·JITTER·bound).
JITTER = 1e-3

Dimension = Callable[[tuple[int, ...]], int]


def set_dimension(constraint: str, shape: Sequence[int],
                  norm_dims: Sequence[int] = (-2, -1)) -> int | None:
    """The dimension of the named constraint set for tensors of ``shape`` (batch included).

    ``None`` for a name whose set's dimension is not known here.
    """
    dims = tuple(int(d) for d in shape)
    if constraint == "positive":
        return math.prod(dims)
    if constraint == "unit_norm":
        k = math.prod(dims[d] for d in norm_dims)
        return (math.prod(dims) // max(k, 1)) * (k - 1)
    if len(dims) < 2:
        return None
    batch, (m, n) = math.prod(dims[:-2]), dims[-2:]
    if constraint in ("symmetric", "spd", "psd") and m == n:
        return batch * n * (n + 1) // 2
    if constraint in ("skew", "special_orthogonal") and m == n:
        return batch * n * (n - 1) // 2
    if constraint == "orthogonal":
        tall, k = max(m, n), min(m, n)  # the Stiefel manifold of k orthonormal vectors
        return batch * (tall * k - k * (k + 1) // 2)
    return None


def _declared(target: tg.Target, constraint: object, dimension: int | Dimension | None,
              shape: tuple[int, ...]) -> tuple[int, str]:
    """The dimension the rank must reach at ``shape``, and where it comes from."""
    if dimension is not None:
        value = dimension(shape) if callable(dimension) else dimension
        return int(value), "the dimension given"
    spec = target.spec_for_constraint()
    if spec is not None and spec.dimension is not None:
        return int(spec.dimension(shape)), f"{type(target.modules[-1]).__name__}.spec.dimension"
    name = constraint if isinstance(constraint, str) else (
        spec.constraint if spec is not None else None)
    if isinstance(name, str):
        norm_dims = spec.norm_dims if spec is not None else (-2, -1)
        found = set_dimension(name, shape, norm_dims)
        if found is not None:
            return found, f"the dimension of the {name} set"
    raise NotApplicable(
        "the dimension of forward's image is unknown: declare Spec.dimension, pass "
        "dimension= (an int, or a function of the shape), or name a constraint whose "
        "set has a known dimension (" + "symmetric, skew, orthogonal, special_orthogonal, "
        "spd, psd, unit_norm, positive)")


# ------------------------------------------------------------------------ the Jacobian


def _tangent_basis(domain: str, shape: tuple[int, ...]) -> Tensor | None:
    """Columns spanning the tangent space of the input domain at any of its points (float64),
    or None when it is the whole space.

    Symmetric and SPD inputs move along symmetric directions, skew ones along skew ones: a
    CayleyMap defined on skew matrices has full rank n² on all matrices, n(n-1)/2 on its
    domain.
    """
    if domain not in ("symmetric", "spd", "psd", "skew") or len(shape) != 2:
        return None
    n = shape[-1]
    sign = -1.0 if domain == "skew" else 1.0
    columns = []
    for i in range(n):
        for j in range(i if domain != "skew" else i + 1, n):
            E = torch.zeros(n, n, dtype=torch.float64)
            E[i, j] = 1.0
            E[j, i] = 1.0 if i == j else sign
            columns.append(E.reshape(-1))
    return torch.stack(columns, dim=1)


def jacobian(chain: Sequence[nn.Module], inputs: tuple[Tensor, ...]) -> Tensor:
    """``∂ vec forward / ∂ vec inputs`` as one float64 matrix (outputs x all input entries).

    ``torch.func.jacrev``; where an operation has no batching rule for its backward,
    one ``torch.autograd.grad`` per output entry instead.
    """

    def flat(*args: Tensor) -> Tensor:
        return tg.forward(chain, args).reshape(-1)

    try:
        with warnings.catch_warnings():
            # "not yet implemented the batching rule for ...": a slower path, same values.
            warnings.filterwarnings("ignore", message=".*batching rule", category=UserWarning)
            parts = torch.func.jacrev(flat, argnums=tuple(range(len(inputs))))(*inputs)
            J = torch.cat([p.reshape(p.shape[0], -1) for p in parts], dim=1)
    except (RuntimeError, NotImplementedError):
        leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
        out = flat(*leaves)
        rows = []
        for i in range(out.numel()):
            grads = torch.autograd.grad(out[i], leaves, retain_graph=True, allow_unused=True)
            rows.append(torch.cat([torch.zeros(t.numel(), dtype=out.dtype) if g is None
                                   else g.reshape(-1) for g, t in zip(grads, leaves,
                                                                      strict=True)]))
        J = torch.stack(rows)
    return J.detach().to(torch.float64)


def numerical_rank(J: Tensor) -> tuple[int, Tensor, float]:
    """``(rank, singular values, threshold)`` of ``J`` after scaling its columns to unit norm.

    Scaling columns by nonzero factors changes no rank; it keeps an input whose
    derivative is tiny but exact (softplus at -100: 3.7e-44) from counting as lost. The
    threshold: ``J`` is computed in float64 by backward-stable steps, so each column
    carries a relative error ≲ κ·n·eps₆₄ (κ ≤ 16 on the strategies' bounded domains, as
    for MAP_SLACK); the scaled error matrix then has spectral norm ≲ √N·16·n·eps₆₄, and
    the SVD adds N·eps₆₄·σ_max (backward stable). Both are below
    ``MAP_SLACK·N·eps₆₄·σ_max``, N the larger side of ``J``, while σ_max ≥ 1 (unit
    columns): a singular value under that is zero to working precision.
    """
    norms = torch.linalg.vector_norm(J, dim=0)
    scaled = J[:, norms > 0] / norms[norms > 0]
    if scaled.numel() == 0:
        return 0, torch.zeros(0, dtype=torch.float64), 0.0
    sigma = torch.linalg.svdvals(scaled)
    threshold = num.MAP_SLACK * max(scaled.shape) * num.eps(torch.float64) * float(sigma[0])
    return int((sigma > threshold).sum()), sigma, threshold


def _small(X: Tensor, spec: Spec | None) -> Tensor:
    """The first item of a batch ``X``; when that is too large for a Jacobian, its
    leading block (the batch is the ``batch`` property's business)."""
    if (spec is None or spec.batched) and X.ndim > 2:
        X = X[(0,) * (X.ndim - 2)]
    if X.numel() <= JACOBIAN_LIMIT:
        return X
    if spec is not None and spec.shape is not None:
        raise NotApplicable(
            f"could not test: the input has {X.numel()} entries (Jacobian {X.numel()}² "
            f"entries, over the limit {JACOBIAN_LIMIT}), and the transform was built for "
            f"this shape (Spec.shape), so the rank cannot be measured at a smaller one")
    return X[tuple(slice(0, RANK_SIZE) for _ in range(X.ndim))].contiguous()


def unscaled_rank(J: Tensor) -> int:
    """The textbook numerical rank: singular values of ``J`` itself above
    ``MAP_SLACK·N·eps₆₄·σ_max``.

    Column scaling (:func:`numerical_rank`) keeps an exact but tiny derivative, yet it
    also magnifies rounding: a column that should be ``1e-5`` of its neighbours (the
    Sphere's ``(I - uuᵀ)/‖r‖`` at ``u`` within 1e-5 of an axis) carries an absolute error
    of ``eps·‖J‖``, which scaling turns into a relative one of ``1e5·eps``, above the
    threshold: a rank one too high. Unscaled, that error stays below the threshold. The
    two err in opposite directions (scaled: too high near an axis; unscaled: too low
    for a derivative of 1e-44), so :func:`_check_rank` accepts the declared dimension
    when either measure gives it.
    """
    sigma = torch.linalg.svdvals(J)
    if sigma.numel() == 0 or float(sigma[0]) == 0.0:
        return 0
    threshold = num.MAP_SLACK * max(J.shape) * num.eps(torch.float64) * float(sigma[0])
    return int((sigma > threshold).sum())


def _rank_at(target: tg.Target, X64: Tensor, basis: Tensor | None
             ) -> tuple[int, Tensor, float, int]:
    """:func:`numerical_rank` of forward's Jacobian at ``X64``, and :func:`unscaled_rank`."""
    chain = target.fresh(X64)
    for m in chain:
        m.eval()  # a function of its input: no power-iteration updates while differentiating
    inputs = tg.originals(chain, X64)
    J = jacobian(chain, inputs)
    if basis is not None and len(inputs) == 1:
        J = J @ basis
    return (*numerical_rank(J), unscaled_rank(J))


def _jittered(X64: Tensor, domain: str) -> Tensor:
    from paramcheck import _gradcheck

    delta = JITTER * max(num.magnitude(X64), 1.0) * tg.gradient_pattern(X64)
    moved = X64 + delta
    project = _gradcheck.tangent(domain)
    return moved if project is None else project(moved)


def _check_rank(target: tg.Target, X: Tensor, constraint: object,
                dimension: int | Dimension | None, domain: str) -> None:
    spec = target.spec_for_inputs()
    small = _small(X.detach(), spec)
    X64 = small.to(torch.float64)
    want, source = _declared(target, constraint, dimension, tuple(X64.shape))
    basis = _tangent_basis(domain, tuple(X64.shape))
    rank, sigma, threshold, plain = _rank_at(target, X64, basis)
    if want in (rank, plain):
        return
    near = _jittered(X64, domain)
    rank_near, _, _, plain_near = _rank_at(target, near, basis)
    if want in (rank_near, plain_near):
        return  # a singular point of a map of full rank elsewhere (the Sphere at zero)
    where = ("" if small.shape == X.shape else
             f" (measured on the leading {tuple(small.shape)} block of the input: the "
             f"dimension formula holds at every size)")
    lost = "reaches only" if rank < want else "reaches more than"
    shown = ", ".join(f"{float(s):.3g}" for s in sigma[: want + 1])
    raise AssertionError(
        f"forward {lost} a set of dimension {rank}: its Jacobian has rank {rank} at X{where} "
        f"(and {rank_near} at a point {JITTER:g}·max|X| away), but {source} is {want}. "
        + ("A map of lower rank cannot reach every point of the constraint set: a "
           "constant map, an entry or triangle dropped, a factor detached. "
           if rank < want else
           "The image cannot be larger than the set: the declared dimension is wrong, "
           "or forward leaves the set. ")
        + f"Singular values of the column-scaled Jacobian: {shown}, ... (zero below "
        f"{threshold:.3g} = {num.MAP_SLACK:g}·N·eps₆₄·σ_max)\n{num.show('X', small)}")


# ------------------------------------------------------------------- image round trip


def _round_trip_gap(chain: Sequence[nn.Module], A: Tensor) -> tuple[Tensor, float, float] | None:
    """``(forward(right_inverse(A)), gap to A, tolerance)``; None when right_inverse
    raises or gives a non-finite result. Tolerance ``MAP_SLACK·n·eps·scale``, round_trip's,
    whose reasoning holds point for point."""
    try:
        R = tg.right_inverse(chain, A.detach().clone())
        if any(num.first_nonfinite(r) is not None for r in R):
            return None
        with torch.no_grad():
            B = tg.forward(chain, R)
        tg.check_output(B, A, what="forward(right_inverse(A))")
    except AssertionError:
        return None
    n = num.inner_dim(A.shape)
    e = num.eps(num.coarsest(A.dtype, B.dtype))
    return B.detach(), num.largest_gap(B, A).value, num.MAP_SLACK * n * e * num.magnitude(A, *R)


def _check_image(target: tg.Target, A: Tensor, X: Tensor) -> None:
    """(a), attributed to coverage only where right_inverse is right on forward's image.

    A right inverse that is wrong on forward's own outputs (the tutorial's Cayley map)
    fails at points of the set too: that is round_trip's finding, not a gap in the
    image. So a failure at ``A`` counts here only when the round trip holds at a point of
    the image: at ``B = forward(right_inverse(A))`` (then ``B ≠ A`` means ``A`` is not
    reached), or, where right_inverse refuses ``A``, at ``forward(X)``.
    """
    chain = target.fresh(A)
    if tg.has_right_inverse(chain) is not None:
        return
    if any(not s.inverse_exact for s in target.specs()):
        return
    at_A = _round_trip_gap(chain, A)
    if at_A is None:
        try:
            tg.right_inverse(target.fresh(A), A.detach().clone())
        except AssertionError as exc:
            image = tg.forward(target.fresh(X), tg.originals(target.fresh(X), X)).detach()
            at_image = _round_trip_gap(target.fresh(X), image)
            if at_image is not None and at_image[1] <= at_image[2]:
                raise AssertionError(
                    f"A, a point of the constraint set, is not reached: {exc}, while "
                    f"right_inverse round-trips forward's own outputs: forward's image is "
                    f"smaller than the set\n{num.show('A', A)}") from exc
        return  # non-finite or refused on the image too: round_trip reports it
    B, gap, tol = at_A
    if gap <= tol:
        return
    at_B = _round_trip_gap(target.fresh(A), B)
    if at_B is None or not at_B[1] <= at_B[2]:
        return  # right_inverse is wrong on forward's image: round_trip's finding
    where = num.largest_gap(B, A)
    raise AssertionError(
        f"forward(right_inverse(A)) differs from A, a point of the constraint set, by "
        f"{gap:.3g} at {where.where()} (A has {where.right!r}, forward(right_inverse(A)) "
        f"has {where.left!r}; tolerance {tol:.3g}, round_trip's), while it round-trips "
        f"exactly on forward's outputs: forward does not reach A, its image is smaller "
        f"than the set\n{num.show('A', A)}\n{num.show('forward(right_inverse(A))', B)}")


# ------------------------------------------------------------------------------ the law


def coverage(parametrization: object, X: Tensor, A: Tensor | None = None, *,
             constraint: object = None, dimension: int | Dimension | None = None,
             domain: str | None = None) -> None:
    """``forward`` reaches the whole constraint set.

    (b) The Jacobian of forward at ``X`` (an input from the domain) has the rank of the
    set's dimension: ``dimension`` when given (an int, or a function of the input shape),
    else the transform's ``Spec.dimension``, else the dimension of the ``constraint``
    set (default: the Spec's). (a) When ``A`` (a point of the constraint set, see
    :func:`paramcheck.strategies.constraint_set`) is given and every module has an
    exact right inverse: ``forward(right_inverse(A)) = A`` to ``MAP_SLACK·n·eps·scale``
    (the tolerance of round_trip, whose reasoning holds point for point).

    ``domain`` is the input domain's name (``Spec.inputs`` by default): on symmetric or
    skew inputs the Jacobian is taken along the domain only.
    """
    if not isinstance(X, Tensor):
        raise TypeError(f"X must be a tensor, got {type(X).__name__}")
    target = parametrization if isinstance(parametrization, tg.Target) else tg.Target(
        parametrization)
    spec_in = target.spec_for_inputs()
    where = domain if domain is not None else (spec_in.inputs if spec_in else "matrix")
    if A is not None:
        _check_image(target, A, X)  # first: a point not reached is the most concrete evidence
    _check_rank(target, X, constraint, dimension, where)
