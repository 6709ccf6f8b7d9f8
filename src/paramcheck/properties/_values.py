"""The value laws: the constraint holds, right_inverse inverts forward, batches are batches.

Each takes the parametrization (a module, a chain, or a factory) and a drawn original
``X``; returns None when the law holds and raises
:class:`~paramcheck.errors.PropertyFailed` saying what failed, where, by how much and
against which tolerance when it does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from paramcheck import _blame, upstream
from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.engine._property import resolve_constraint
from paramcheck.errors import NotApplicable, PropertyFailed


def as_target(parametrization: object) -> tg.Target:
    return parametrization if isinstance(parametrization, tg.Target) else tg.Target(
        parametrization)


def require_tensor(X: object, name: str = "X") -> Tensor:
    if not isinstance(X, Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(X).__name__}")
    return X


def _evaluate(chain: Sequence[nn.Module], X: Tensor) -> tuple[tuple[Tensor, ...], Tensor]:
    """The originals for ``X`` and ``forward(X)``, checked for shape and finiteness."""
    origs = tg.originals(chain, X)
    Y = tg.forward(chain, origs)
    tg.check_output(Y, X)
    return origs, Y


def blamed(failure: PropertyFailed, target: tg.Target, X: Tensor, law: str, *,
           item: int | None = None) -> PropertyFailed:
    """``failure`` with blame's measurement added: the first torch op where the failing
    computation departs (:mod:`paramcheck._blame`). When that op is a known torch defect
    in the running torch, an :class:`~paramcheck.upstream.UpstreamFailure` naming it."""
    text, defect = _blame.for_law(target, X, law, item=item)
    if not text:
        return failure
    fields: dict[str, Any] = {
        "law": failure.law or law, "gap": failure.gap, "tolerance": failure.tolerance,
        "formula": failure.formula, "location": failure.location,
        "tensors": failure.tensors}
    summary = f"{failure.summary}\n{text}"
    if defect is not None:
        return upstream.UpstreamFailure(summary, defect=defect, **fields)
    return PropertyFailed(summary, **fields)


def constraint(parametrization: object, X: Tensor, check: object) -> None:
    """``forward(X)`` satisfies ``check`` (a constraint name or a predicate)."""
    require_tensor(X)
    target = as_target(parametrization)
    label, fn = resolve_constraint(check, target.spec_for_constraint())
    chain = target.fresh(X)
    _, Y = _evaluate(chain, X)
    result = fn(Y)
    if not result.ok:
        raise blamed(PropertyFailed(
            f"forward(X) is not {label}: {result.message}", law="constraint",
            gap=result.violation, tolerance=result.tolerance,
            location=list(result.where).__repr__() if result.where else "",
            tensors={"forward(X)": Y.detach()}), target, X, "constraint")


def round_trip(parametrization: object, X: Tensor) -> None:
    """For ``A = forward(X)``, ``forward(right_inverse(A))`` equals ``A``.

    This is the law of a right inverse on the image of ``forward``, and the right law for
    projections too (for Pruning, ``right_inverse`` may be the identity: ``forward`` of a
    pruned matrix is itself).

    Tolerance ``MAP_SLACK·n·eps·scale`` (see :mod:`paramcheck._numerics`): both maps are
    computed with errors of order n·eps, each amplified by the other's condition number,
    which the input domains keep small; ``scale`` is the largest entry of ``A`` and of
    ``right_inverse(A)``, since the errors of products scale with their operands.
    """
    require_tensor(X)
    target = as_target(parametrization)
    chain = target.fresh(X)
    missing = tg.has_right_inverse(chain)
    if missing is not None:
        raise NotApplicable(f"round_trip needs right_inverse, and {missing} has none")
    _, A = _evaluate(chain, X)
    A = A.detach()
    # A copy: an in-place right_inverse must not change the A this message prints (the
    # inplace property reports that bug by name).
    R = tg.right_inverse(chain, A.clone())
    for i, r in enumerate(R):
        bad = num.first_nonfinite(r)
        if bad is not None:
            raise PropertyFailed(
                f"right_inverse(A) is not finite: entry {list(bad)} of output {i} is "
                f"{float(r.detach()[bad])}, for A = forward(X)", law="round_trip",
                location=str(list(bad)), tensors={"A": A})
    with torch.no_grad():
        B = tg.forward(chain, R)
    tg.check_output(B, X, what="forward(right_inverse(A))")
    n = num.inner_dim(X.shape)
    e = num.eps(num.coarsest(X.dtype, A.dtype, B.dtype))
    scale = num.magnitude(A, *R)
    tol = num.MAP_SLACK * n * e * scale
    gap = num.largest_gap(B, A)
    if not gap.value <= tol:
        raise blamed(PropertyFailed(
            f"forward(right_inverse(A)) differs from A = forward(X) by {gap.value:.3g} at "
            f"{gap.where()} (A has {gap.right!r}, forward(right_inverse(A)) has "
            f"{gap.left!r})", law="round_trip", gap=gap.value, tolerance=tol,
            formula=num.formula(num.MAP_SLACK, n, e, scale), location=gap.where(),
            tensors={"A": A, "right_inverse(A)": R[0], "forward(right_inverse(A))": B}),
            target, X, "round_trip")


def batch(parametrization: object, X: Tensor) -> None:
    """``forward`` of a batch equals ``forward`` of each of its items, stacked.

    ``X``'s first dimension is the batch. The originals are set up once for the whole
    batch (as one registration on a batched weight would), then forward runs on the
    batch and on each slice with the same modules. Tolerance ``MAP_SLACK·n·eps·scale``:
    batched kernels may block the work differently, within the map's rounding.
    """
    require_tensor(X)
    if X.ndim < 1 or X.shape[0] < 1:
        raise NotApplicable(f"batch needs an input whose first dimension is a batch, got "
                            f"shape {tuple(X.shape)}")
    target = as_target(parametrization)
    chain = target.fresh(X)
    try:
        origs, Y = _evaluate(chain, X)
    except AssertionError as exc:
        _refuses_batches(target, X, exc)
        if isinstance(exc, PropertyFailed):
            raise blamed(exc, target, X, "batch", item=0) from exc
        raise blamed(PropertyFailed(str(exc), law="batch"), target, X, "batch",
                     item=0) from exc
    n = num.inner_dim(X.shape)
    e = num.eps(num.coarsest(X.dtype, Y.dtype))
    with torch.no_grad():
        for i in range(X.shape[0]):
            Yi = tg.forward(chain, tuple(o[i] for o in origs))
            tg.check_output(Yi, X[i], what=f"forward(X[{i}])")
            try:
                num.fail_unless_close(
                    f"forward(X)[{i}] on the batch differs from forward(X[{i}]) alone",
                    Y[i].detach(), Yi, n, e, slack=num.MAP_SLACK, law="batch",
                    tensors={f"forward(X)[{i}]": Y[i].detach(), f"forward(X[{i}])": Yi})
            except PropertyFailed as failure:
                raise blamed(failure, target, X, "batch", item=i) from None

    if tg.has_right_inverse(chain) is None:
        _batch_right_inverse(target, Y.detach(), n, e)


def _refuses_batches(target: tg.Target, X: Tensor, exc: AssertionError) -> None:
    """Raise NotApplicable when a parametrization without a Spec fails on the batch but
    not on its first item: nothing said its leading dimensions are a batch (geotorch
    builds each manifold for one size), so refusing a batch breaks no promise. With a
    Spec (``batched=True``, the default) it is a failure."""
    if target.specs():
        return
    try:
        _evaluate(target.fresh(X[0]), X[0])
    except AssertionError:
        return  # fails alone too: not about batches
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    raise NotApplicable(
        f"{target.name} takes one weight of shape {tuple(X.shape[1:])} but not a batch of "
        f"them ({first}); give it a Spec (batched=True) if leading dimensions should be a "
        f"batch") from exc


def _batch_right_inverse(target: tg.Target, A: Tensor, n: int, e: float) -> None:
    """``forward(right_inverse(A))`` of the batch ``A`` equals, item by item, that of each
    ``A[i]`` alone, each with fresh modules (a right inverse may store state, as a
    trivialization's base). The weights are compared, not the originals: a right inverse
    need not be unique (a scale fitted to the batch or to one item)."""
    items = []
    for i in range(A.shape[0]):
        alone = target.fresh(A)
        try:
            items.append(tg.forward(alone, tg.right_inverse(alone, A[i].clone())))
        except (NotApplicable, AssertionError):
            return  # right_inverse refuses the items too: round_trip's business, not a batch's
        if num.first_nonfinite(items[-1]) is not None:
            return  # not finite alone either (an overflowing inverse): round_trip's business
    together = target.fresh(A)
    try:
        R = tg.right_inverse(together, A.clone())
    except AssertionError as exc:
        if not target.specs():
            # Nothing said its leading dimensions are a batch (see _refuses_batches): a
            # right_inverse that writes into state built for one weight (geotorch's
            # manifolds copy into a base of size (n, n)) may refuse a batch. Forward's
            # batch consistency was checked above; assigning a batch is not promised.
            return
        if isinstance(exc.__cause__, ValueError | TypeError):
            # A deliberate refusal naming the problem (torch's orthogonal: "Expected a
            # matrix or batch of matrices of shape (4, 4)", its base built for one
            # matrix): assigning a batch is not supported, which is no batch bug. Kernels
            # that mix items fail with RuntimeError (shapes) or silently.
            return
        raise PropertyFailed(
            f"right_inverse fails on the batch A = forward(X) but not on its items alone: "
            f"{exc}. Does right_inverse mix the items of a batch (A.T instead of A.mT, "
            f"A.diagonal() instead of A.diagonal(dim1=-2, dim2=-1))?", law="batch",
            tensors={"A": A}) from exc
    with torch.no_grad():
        B = tg.forward(together, R)
    tg.check_output(B, A, what="forward(right_inverse(A)) on the batch")
    for i, Bi in enumerate(items):
        num.fail_unless_close(
            f"forward(right_inverse(A))[{i}] on the batch differs from "
            f"forward(right_inverse(A[{i}])) alone (does right_inverse mix the items of a "
            f"batch: A.T instead of A.mT, A.diagonal() over the batch?)", B[i].detach(), Bi,
            n, e, slack=num.MAP_SLACK, law="batch",
            tensors={f"forward(right_inverse(A))[{i}]": B[i].detach(),
                     f"forward(right_inverse(A[{i}]))": Bi})

