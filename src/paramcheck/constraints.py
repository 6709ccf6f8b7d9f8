"""Named membership checks: is this tensor symmetric, orthogonal, SPD...?

Each check takes a tensor (a matrix, or a batch of them in the leading dimensions) and
returns a :class:`Check`: the verdict, the measured violation, the tolerance it was held
to, and a message saying how far off the worst matrix is. Checks never raise on bad
numbers: NaN or infinite entries are a failed check.

The measurement is done in float64, so its own rounding (≈ 1e-16) is negligible next to
the tolerance, which is set by the precision of the tensor's dtype (see
:mod:`paramcheck._numerics` for the ``slack · n · eps · scale`` form).

>>> import torch
>>> from paramcheck import constraints
>>> constraints.orthogonal(torch.eye(3)).ok
True
>>> result = constraints.check("skew", torch.ones(2, 2))
>>> result.ok, result.violation
(False, 2.0)
>>> print(result.message)  # doctest: +ELLIPSIS
skew: max|A + Aᵀ| = 2 at [0, 0], above the tolerance 4.77e-07 (= 2·n·eps·max|A|, ...)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from paramcheck._numerics import eps, first_nonfinite
from paramcheck.errors import UsageError

__all__ = [
    "CONSTRAINTS",
    "Check",
    "check",
    "get",
    "names",
    "orthogonal",
    "positive",
    "psd",
    "skew",
    "spd",
    "special_orthogonal",
    "symmetric",
    "unit_norm",
]

#: Slack for symmetry and skew-symmetry. A map that builds A = X + Xᵀ (or X - Xᵀ, or
#: triu/tril copies) is exactly (skew-)symmetric in floating point. One that builds it as
#: a product Q·D·Qᵀ or from eigh/matrix_exp is not: each entry of a product of length n
#: carries an error ≤ n·eps·|Q||D||Qᵀ| ≤ n·eps·max|A| for orthogonal Q, and a_ij, a_ji
#: err independently: 2·n·eps·max|A|.
SYMMETRY_SLACK = 2.0

#: Slack for orthogonality, |QᵀQ - I|_max ≤ c·n·eps. Computing QᵀQ adds ≤ n·eps (the
#: columns have unit norm, so |q_i|ᵀ|q_j| ≤ 1). The tensor itself comes out of a backward
#: stable algorithm (QR, matrix_exp, a solve with condition number κ): it is within
#: κ·n·eps of an orthogonal matrix, which moves QᵀQ by twice that. With κ ≤ 16 on the
#: bounded domains the strategies draw from: (1 + 2·16)·n·eps ≈ 33·n·eps; rounded up: 40.
ORTHOGONALITY_SLACK = 40.0

#: Slack for positive (semi)definiteness. eigvalsh is backward stable: the computed
#: eigenvalues are exact for A + E with ‖E‖₂ ≤ n·eps·‖A‖₂ (Weyl), and the tensor itself
#: was produced with an error of the same order (a product Q·Λ·Qᵀ). Twice: 2·n·eps·‖A‖₂,
#: the band around 0 where a computed eigenvalue's sign means nothing. Doubled for the
#: symmetrization of a nearly symmetric input: 4.
EIGENVALUE_SLACK = 4.0

#: Slack for unit norm, |‖x‖ - 1| ≤ c·k·eps for a length-k vector: the sum of k squares
#: errs by ≤ k·eps relative, the square root halves it, and normalizing x / ‖x‖ adds the
#: same again: ≤ 2·k·eps; 4 for a margin.
NORM_SLACK = 4.0


@dataclass(frozen=True)
class Check:
    """The outcome of a membership check.

    Attributes:
        name: the constraint checked.
        ok: the verdict.
        violation: the measured distance from the set for the worst matrix (what the
            message calls, for example, ``max|QᵀQ - I|``); ``inf`` for non-finite input.
        tolerance: the largest violation accepted, derived from the dtype, size and scale.
        message: one line saying what was measured, where, and against what tolerance.
        where: the batch index of the worst matrix (empty for a single matrix).
    """

    name: str
    ok: bool
    violation: float
    tolerance: float
    message: str
    where: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return self.ok


# ----------------------------------------------------------------------------- helpers


def _as_matrices(A: object, name: str) -> Tensor | Check:
    """Validate ``A`` and return it in float64; or a failed Check saying why not."""
    if not isinstance(A, Tensor):
        return Check(name, False, float("inf"), 0.0, f"{name}: got a {type(A).__name__}, "
                     "not a tensor")
    if A.ndim < 2:
        return Check(name, False, float("inf"), 0.0,
                     f"{name}: needs a matrix or a batch of matrices, got shape {tuple(A.shape)}")
    if not (A.is_floating_point() or A.is_complex()):
        return Check(name, False, float("inf"), 0.0,
                     f"{name}: needs a floating tensor, got {A.dtype}")
    bad = first_nonfinite(A)
    if bad is not None:
        return Check(name, False, float("inf"), 0.0,
                     f"{name}: entry {list(bad)} is {float(A.detach()[bad])} (not finite)")
    return A.detach().to("cpu", torch.float64)


def _worst(per_matrix: Tensor) -> tuple[float, tuple[int, ...]]:
    """Largest value of a batch of per-matrix measurements, and its batch index."""
    if per_matrix.ndim == 0:
        return float(per_matrix), ()
    flat = int(torch.argmax(per_matrix))
    idx = torch.unravel_index(torch.tensor(flat), per_matrix.shape)
    return float(per_matrix.reshape(-1)[flat]), tuple(int(i) for i in idx)


def _at(where: tuple[int, ...]) -> str:
    return f" in matrix {list(where)} of the batch" if where else ""


def _entry(A: Tensor) -> str:
    """Index of the largest entry of a matrix as text."""
    flat = int(torch.argmax(A))
    i, j = divmod(flat, A.shape[-1])
    return f"[{i}, {j}]"


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def _max_abs(A: Tensor) -> Tensor:
    """Per-matrix max |a_ij|, floored so that a zero matrix gets a positive scale."""
    return A.abs().amax(dim=(-2, -1)).clamp_min(1e-30)


# ------------------------------------------------------------------------------ checks


def _symmetry(A: Tensor, name: str, sign: float, law: str, slack: float) -> Check:
    M = _as_matrices(A, name)
    if isinstance(M, Check):
        return M
    if M.shape[-1] != M.shape[-2]:
        return Check(name, False, float("inf"), 0.0,
                     f"{name}: needs square matrices, got shape {tuple(A.shape)}")
    n = M.shape[-1]
    e = eps(A.dtype)
    # Per matrix: violation relative to its own scale, so a batch mixing large and small
    # matrices is judged fairly; the message reports the absolute numbers.
    D = (M + sign * M.mT).abs()
    scale = _max_abs(M)
    relative, where = _worst(D.amax(dim=(-2, -1)) / scale)
    worst = D[where] if where else D
    violation = float(worst.max())
    tolerance = slack * n * e * float(scale[where] if where else scale)
    ok = relative <= slack * n * e
    verdict = "within" if ok else "above"
    return Check(
        name, ok, violation, tolerance,
        f"{name}: max|{law}| = {_fmt(violation)} at {_entry(worst)}{_at(where)}, {verdict} "
        f"the tolerance {_fmt(tolerance)} (= {slack:g}·n·eps·max|A|, n = {n}, "
        f"eps = {_fmt(e)} for {_dtype_name(A.dtype)})",
        where,
    )


def symmetric(A: Tensor, *, slack: float = SYMMETRY_SLACK) -> Check:
    """``A = Aᵀ``: max|A - Aᵀ| ≤ slack·n·eps·max|A| for each matrix of the batch."""
    return _symmetry(A, "symmetric", -1.0, "A - Aᵀ", slack)


def skew(A: Tensor, *, slack: float = SYMMETRY_SLACK) -> Check:
    """``A = -Aᵀ``: max|A + Aᵀ| ≤ slack·n·eps·max|A| for each matrix of the batch."""
    return _symmetry(A, "skew", 1.0, "A + Aᵀ", slack)


def orthogonal(A: Tensor, *, slack: float = ORTHOGONALITY_SLACK) -> Check:
    """Orthonormal columns (tall or square: ``QᵀQ = I``) or rows (wide: ``QQᵀ = I``).

    Measured as max|QᵀQ - I| (or max|QQᵀ - I|) ≤ slack·m·eps, where m is the length of
    the dot products (the number of rows for QᵀQ).
    """
    return _orthogonal(A, "orthogonal", slack)


def _orthogonal(A: Tensor, name: str, slack: float) -> Check:
    M = _as_matrices(A, name)
    if isinstance(M, Check):
        return M
    rows, cols = M.shape[-2], M.shape[-1]
    if rows >= cols:
        gram, law, inner = M.mT @ M, "QᵀQ - I", rows
    else:
        gram, law, inner = M @ M.mT, "QQᵀ - I", cols
    eye = torch.eye(gram.shape[-1], dtype=torch.float64)
    D = (gram - eye).abs()
    violation, where = _worst(D.amax(dim=(-2, -1)))
    e = eps(A.dtype)
    tolerance = slack * inner * e
    ok = violation <= tolerance
    worst = D[where] if where else D
    verdict = "within" if ok else "above"
    return Check(
        name, ok, violation, tolerance,
        f"{name}: max|{law}| = {_fmt(violation)} at {_entry(worst)}{_at(where)}, {verdict} "
        f"the tolerance {_fmt(tolerance)} (= {slack:g}·n·eps, n = {inner}, eps = {_fmt(e)} "
        f"for {_dtype_name(A.dtype)})",
        where,
    )


def special_orthogonal(A: Tensor, *, slack: float = ORTHOGONALITY_SLACK) -> Check:
    """Square, orthogonal and ``det Q = +1`` (a rotation).

    Once Q is orthogonal within tolerance its determinant is ±1 up to the same error,
    so the sign decides; the violation reported is |det Q - 1| (≈ 2 for a reflection).
    """
    name = "special_orthogonal"
    M = _as_matrices(A, name)
    if isinstance(M, Check):
        return M
    if M.shape[-1] != M.shape[-2]:
        return Check(name, False, float("inf"), 0.0,
                     f"{name}: needs square matrices, got shape {tuple(A.shape)}")
    ortho = _orthogonal(A, name, slack)
    if not ortho.ok:
        return ortho
    det = torch.linalg.det(M)
    violation, where = _worst((det - 1.0).abs())
    ok = bool((det > 0).all())
    message = (
        f"{name}: orthogonal, with det Q = {_fmt(float(det[where] if where else det))}"
        f"{_at(where)}; "
        + ("positive as required" if ok else "a reflection, not a rotation (det Q must be +1)")
    )
    return Check(name, ok, violation, ortho.tolerance, message, where)


def _definite(A: Tensor, name: str, strict: bool, slack: float) -> Check:
    M = _as_matrices(A, name)
    if isinstance(M, Check):
        return M
    sym = symmetric(A)
    if not sym.ok:
        return Check(name, False, sym.violation, sym.tolerance,
                     f"{name}: not symmetric; " + sym.message.removeprefix("symmetric: "),
                     sym.where)
    n = M.shape[-1]
    e = eps(A.dtype)
    lam = torch.linalg.eigvalsh((M + M.mT) / 2)  # ascending
    lam_min = lam[..., 0]
    norm = lam.abs().amax(dim=-1).clamp_min(1e-30)  # ‖A‖₂ for symmetric A
    margin = slack * n * e * norm
    # violation: how far the smallest eigenvalue lies below the band [-margin, margin]
    # (PSD) or below +margin (SPD: it must be distinguishable from 0).
    shortfall = (margin - lam_min) if strict else (-lam_min - margin)
    worst_short, where = _worst(shortfall)
    lmin = float(lam_min[where] if where else lam_min)
    tol = float(margin[where] if where else margin)
    ok = worst_short < 0 if strict else worst_short <= 0
    if strict:
        law = f"must exceed {_fmt(tol)} to be distinguishable from 0"
    else:
        law = f"must be at least -{_fmt(tol)}"
    message = (
        f"{name}: smallest eigenvalue {_fmt(lmin)}{_at(where)} "
        f"{'satisfies' if ok else 'fails'}: it {law} "
        f"(= {slack:g}·n·eps·‖A‖₂, n = {n}, eps = {_fmt(e)} for {_dtype_name(A.dtype)})"
    )
    return Check(name, ok, max(-lmin, 0.0), tol, message, where)


def spd(A: Tensor, *, slack: float = EIGENVALUE_SLACK) -> Check:
    """Symmetric positive definite: symmetric, and λ_min > slack·n·eps·‖A‖₂."""
    return _definite(A, "spd", True, slack)


def psd(A: Tensor, *, slack: float = EIGENVALUE_SLACK) -> Check:
    """Symmetric positive semidefinite: symmetric, and λ_min ≥ -slack·n·eps·‖A‖₂."""
    return _definite(A, "psd", False, slack)


def unit_norm(A: Tensor, *, dim: int | tuple[int, ...] | None = None,
              slack: float = NORM_SLACK) -> Check:
    """``‖A‖ = 1`` (Frobenius norm over ``dim``; over the last two dims by default).

    With ``dim=-1`` each row is a unit vector; with the default each matrix of the batch
    has unit Frobenius norm. Tolerance: |‖x‖ - 1| ≤ slack·k·eps for k summed entries.
    """
    name = "unit_norm"
    if not isinstance(A, Tensor) or A.ndim == 0:
        return Check(name, False, float("inf"), 0.0,
                     f"{name}: needs a tensor with at least one dimension")
    bad = first_nonfinite(A)
    if bad is not None:
        return Check(name, False, float("inf"), 0.0,
                     f"{name}: entry {list(bad)} is {float(A.detach()[bad])} (not finite)")
    dims = (-2, -1) if dim is None and A.ndim >= 2 else (-1,) if dim is None else dim
    dims_t = (dims,) if isinstance(dims, int) else tuple(dims)
    M = A.detach().to("cpu", torch.float64)
    norms = torch.linalg.vector_norm(M, dim=dims_t)
    k = 1
    for d in dims_t:
        k *= A.shape[d]
    e = eps(A.dtype)
    tolerance = slack * k * e
    violation, where = _worst((norms - 1.0).abs())
    ok = violation <= tolerance
    value = float(norms[where] if where else norms)
    return Check(
        name, ok, violation, tolerance,
        f"{name}: norm over dims {list(dims_t)} is {value!r}{_at(where)}, |‖A‖ - 1| = "
        f"{_fmt(violation)} {'within' if ok else 'above'} the tolerance {_fmt(tolerance)} "
        f"(= {slack:g}·k·eps, k = {k}, eps = {_fmt(e)} for {_dtype_name(A.dtype)})",
        where,
    )


def positive(A: Tensor) -> Check:
    """Every entry strictly positive. Violation: -min(A) (≥ 0 when failing); tolerance 0."""
    name = "positive"
    if not isinstance(A, Tensor) or not A.is_floating_point():
        return Check(name, False, float("inf"), 0.0, f"{name}: needs a floating tensor")
    bad = first_nonfinite(A)
    if bad is not None:
        return Check(name, False, float("inf"), 0.0,
                     f"{name}: entry {list(bad)} is {float(A.detach()[bad])} (not finite)")
    M = A.detach().to("cpu", torch.float64)
    flat = int(torch.argmin(M))
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), M.shape))
    smallest = float(M[index])
    ok = smallest > 0
    return Check(
        name, ok, -smallest, 0.0,
        f"{name}: smallest entry {smallest!r} at {list(index)} "
        f"{'is' if ok else 'is not'} strictly positive",
    )


# ---------------------------------------------------------------------------- registry

#: Every named constraint: name -> check.
CONSTRAINTS: dict[str, Callable[[Tensor], Check]] = {
    "symmetric": symmetric,
    "skew": skew,
    "orthogonal": orthogonal,
    "special_orthogonal": special_orthogonal,
    "spd": spd,
    "psd": psd,
    "unit_norm": unit_norm,
    "positive": positive,
}


def names() -> tuple[str, ...]:
    """The known constraint names, sorted."""
    return tuple(sorted(CONSTRAINTS))


def get(name: str) -> Callable[[Tensor], Check]:
    """The check called ``name``; UsageError listing the known names otherwise."""
    try:
        return CONSTRAINTS[name]
    except (KeyError, TypeError):
        raise UsageError(
            f"unknown constraint {name!r}; known constraints: {', '.join(names())}. "
            f"Or pass a callable that takes the output tensor and returns a bool."
        ) from None


def check(name: str, A: Tensor) -> Check:
    """Run the constraint called ``name`` on ``A``."""
    return get(name)(A)


def from_callable(fn: Callable[[Tensor], object], name: str | None = None
                  ) -> Callable[[Tensor], Check]:
    """Wrap a user predicate (tensor -> bool or bool tensor) as a check returning a Check."""
    label = name or getattr(fn, "__name__", None) or type(fn).__name__

    def run(A: Tensor) -> Check:
        try:
            verdict = fn(A)
        except Exception as exc:
            return Check(label, False, float("inf"), 0.0,
                         f"{label}: the constraint raised {type(exc).__name__}: {exc}")
        if isinstance(verdict, Check):
            return verdict
        if isinstance(verdict, Tensor):
            if verdict.dtype != torch.bool:
                return Check(label, False, float("inf"), 0.0,
                             f"{label}: the constraint returned a {verdict.dtype} tensor; "
                             f"return a bool or a bool tensor")
            # A 0-dim verdict ((A == 0).all()) has no index: view it as one entry.
            failing = (~verdict).reshape(verdict.shape or (1,)).nonzero()
            ok = failing.numel() == 0
            where = ("" if ok or verdict.ndim == 0
                     else f" (first false entry: {failing[0].tolist()})")
            return Check(label, ok, 0.0 if ok else 1.0, 0.0,
                         f"{label}: returned {'True' if ok else 'False'}{where}")
        if isinstance(verdict, bool):
            return Check(label, verdict, 0.0 if verdict else 1.0, 0.0,
                         f"{label}: returned {verdict}")
        return Check(label, False, float("inf"), 0.0,
                     f"{label}: the constraint returned a {type(verdict).__name__}; "
                     f"return a bool or a bool tensor")

    run.__name__ = label
    return run
