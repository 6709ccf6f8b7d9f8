"""Known defects of torch itself, so that a failure they cause is not blamed on the user.

Each entry of :data:`KNOWN_DEFECTS` names the op, the torch releases it affects, the
upstream issue and fix, and a workaround, and carries two functions: ``reproduces``
decides, from the arguments of a recorded call, whether that call meets the defect (so an
unrelated failure at the same op is never excused), and ``route`` makes the same call
the way the workaround does. When blame (:mod:`paramcheck._blame`) names a known op as
the place a failing computation departs, and the call reproduces the defect in the
running torch, verify reports the *upstream* verdict: it searches again with every known
defect routed around (:func:`routed_around`), and the property passes there, so the
failure is torch's. ``Report.ok`` ignores upstream findings unless ``strict=True``.

The table is dated: an entry says what was known on ``recorded``. A release that fixes a
defect gets ``fixed_in``; until one does, every release from ``first_affected`` on counts
as affected.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor
from torch.overrides import TorchFunctionMode, resolve_name
from torch.torch_version import TorchVersion

from paramcheck import _numerics as num
from paramcheck.errors import PropertyFailed
from paramcheck.transforms._exponential import matrix_exp as _paired_matrix_exp

__all__ = ["KNOWN_DEFECTS", "UpstreamDefect", "UpstreamFailure", "affecting", "find",
           "routed_around"]


@dataclass(frozen=True)
class UpstreamDefect:
    """One known torch defect.

    Attributes:
        ops: the op as blame names it (``torch.overrides.resolve_name``), with aliases.
        summary: what goes wrong, in one sentence.
        issue: the upstream issue, ``owner/repo#number``; ``url`` its address.
        fix: the upstream change that fixes it (``owner/repo#number``), if any.
        first_affected: the first torch release with the defect.
        fixed_in: the first torch release without it; None while no release has the fix.
        workaround: what to do instead, as a sentence a user can act on.
        recorded: when this entry was last checked against upstream.
        reproduces: ``(args, kwargs) -> bool``: does this call meet the defect?
        route: ``(func, args, kwargs) -> result``: the call made the workaround's way.
    """

    ops: tuple[str, ...]
    summary: str
    issue: str
    url: str
    fix: str
    first_affected: str
    fixed_in: str | None
    workaround: str
    recorded: datetime.date
    reproduces: Callable[[tuple[Any, ...], dict[str, Any]], bool] = field(repr=False)
    route: Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any] = field(
        repr=False)

    def affects(self, version: str | None = None) -> bool:
        """Whether torch ``version`` (the running one by default) has the defect."""
        v = TorchVersion(version or torch.__version__)
        if v < TorchVersion(self.first_affected):
            return False
        return self.fixed_in is None or v < TorchVersion(self.fixed_in)

    @property
    def versions(self) -> str:
        """The affected releases, as a range."""
        end = f"< {self.fixed_in}" if self.fixed_in else "(no fixed release yet)"
        return f">= {self.first_affected}, {end}"

    def __str__(self) -> str:
        return (f"{self.issue} ({self.summary}; torch {self.versions}, fix {self.fix}); "
                f"workaround: {self.workaround}")


# ------------------------------------------------------------------- pytorch#196592


def _lone(A: object) -> bool:
    """A floating square matrix, or a batch holding exactly one (torch's T8 path)."""
    return (isinstance(A, Tensor) and A.is_floating_point() and A.ndim >= 2
            and A.shape[-1] == A.shape[-2] and A.numel() == A.shape[-1] ** 2 > 0)


def _matrix_exp_reproduces(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """The lone-matrix result is off the exponential (computed in float64 by the batched
    path, exact to a few eps) by more than a reordering of the same sums would be
    (``SAME_COMPUTATION_SLACK·n·eps``: off the T8 path torch is within 1-2 eps; on it the
    defect's error grows with the norm from there to 1e2-1e5 eps), and by more than four
    times the error of the workaround at the same dtype (so that what is left is the
    defect, not the conditioning of the matrix)."""
    A = args[0] if args else kwargs.get("input")
    if not _lone(A):
        return False
    assert isinstance(A, Tensor)
    with torch.no_grad():
        exact = _paired_matrix_exp(A.detach().to(torch.float64))
        lone_error = num.largest_gap(torch.linalg.matrix_exp(A.detach()), exact).value
        paired_error = num.largest_gap(_paired_matrix_exp(A.detach()), exact).value
    n = A.shape[-1]
    tol = num.SAME_COMPUTATION_SLACK * n * num.eps(A.dtype) * num.magnitude(exact)
    return lone_error > tol and lone_error > 4 * paired_error


def _matrix_exp_route(func: Callable[..., Any], args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Any:
    A = args[0] if args else kwargs.get("input")
    if _lone(A) and len(args) <= 1 and set(kwargs) <= {"input"}:
        assert isinstance(A, Tensor)
        return _paired_matrix_exp(A)
    return func(*args, **kwargs)


MATRIX_EXP_T8 = UpstreamDefect(
    ops=("torch.linalg.matrix_exp", "torch.matrix_exp", "torch.Tensor.matrix_exp"),
    summary=("matrix_exp of a lone matrix (or a batch of one) with a small norm takes a "
             "degree-8 Taylor path with a wrong coefficient: errors of 1e2-1e5 eps"),
    issue="pytorch/pytorch#196592",
    url="https://github.com/pytorch/pytorch/issues/196592",
    fix="pytorch/pytorch#196658",
    # matrix_exp arrived in 1.7 (pytorch/pytorch#40161) with compute_T8 as it is; the
    # issue was reported on 2.14.0 and reproduces here on 2.13.0.
    first_affected="1.7.0",
    fixed_in=None,
    workaround=("compute a lone matrix inside a batch of two, beside a zero matrix: "
                "torch.linalg.matrix_exp(torch.stack([A, torch.zeros_like(A)]))[0] "
                "(paramcheck.transforms.matrix_exp does this)"),
    recorded=datetime.date(2026, 12, 3),
    reproduces=_matrix_exp_reproduces,
    route=_matrix_exp_route,
)

#: Every known defect, oldest first.
KNOWN_DEFECTS: tuple[UpstreamDefect, ...] = (MATRIX_EXP_T8,)


def affecting(version: str | None = None) -> tuple[UpstreamDefect, ...]:
    """The known defects present in torch ``version`` (the running one by default)."""
    return tuple(d for d in KNOWN_DEFECTS if d.affects(version))


def find(op: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> UpstreamDefect | None:
    """The known defect of the running torch that this call of ``op`` meets, if any."""
    for defect in affecting():
        if op in defect.ops:
            try:
                if defect.reproduces(args, kwargs):
                    return defect
            except Exception:  # arguments the check cannot use: not this defect
                continue
    return None


class _RouteAround(TorchFunctionMode):
    def __init__(self, defects: tuple[UpstreamDefect, ...]) -> None:
        super().__init__()
        self.by_op = {op: d for d in defects for op in d.ops}
        self.names: dict[Any, str] = {}

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        name = self.names.get(func)
        if name is None:
            name = self.names[func] = resolve_name(func) or ""
        defect = self.by_op.get(name)
        if defect is None:
            return func(*args, **kwargs)
        return defect.route(func, args, kwargs)


@contextmanager
def routed_around(defects: tuple[UpstreamDefect, ...] | None = None) -> Iterator[None]:
    """Run the block with every call of an affected op made the workaround's way.

    ``defects`` defaults to those affecting the running torch.
    """
    chosen = affecting() if defects is None else defects
    if not chosen:
        yield
        return
    with _RouteAround(chosen):
        yield


class UpstreamFailure(PropertyFailed):
    """A law failed, and blame traced the failure to a known torch defect (``defect``).

    The engine then searches again with the defect routed around: if the law holds
    there, the verdict is *upstream*, not the user's failure.
    """

    def __init__(self, summary: str, *, defect: UpstreamDefect, **fields: Any) -> None:
        self.defect = defect
        super().__init__(summary, **fields)
