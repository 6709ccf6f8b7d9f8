"""The ``inplace`` law: ``forward`` and ``right_inverse`` leave their inputs untouched.

``right_inverse`` receives the very tensor a user assigns (``layer.weight = A``), under
``torch.no_grad()``, so an in-place operation there (``A.triu_()``, ``A.clamp_(...)``,
``A[..., i, i] = ...``, ``A /= n``) silently changes the user's tensor; nothing raises.
``forward`` receives the original parameter: in training an in-place write raises
(a leaf that requires grad), and under ``no_grad`` (evaluation, export) it corrupts the
parameter. Other laws then fail in confusing ways (a round trip whose printed ``A`` is
already modified), so this law looks at the inputs themselves.

Each module of the chain is called on a private copy of its input; the law compares
the copy afterwards with its values before (NaN equal to NaN) and reads its version
counter, which any in-place write increments even when the values come back equal
(a clamp of values already in range: other inputs would change).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from paramcheck import _numerics as num
from paramcheck import _target as tg

__all__ = ["inplace"]

_FIX = ("use the out-of-place form (A.triu() for A.triu_(), A.clamp(...) for A.clamp_(...), "
        "A = A / n for A /= n, torch.where or a clone before item assignment)")


def _handed(values: Sequence[Tensor]) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...], list[int]]:
    """Private copies to hand to a module, their values before the call, their versions."""
    given = tuple(v.detach().clone() for v in values)
    before = tuple(g.clone() for g in given)
    return given, before, [g._version for g in given]


def _assert_untouched(module: nn.Module, method: str, given: Sequence[Tensor],
                      before: Sequence[Tensor], versions: Sequence[int]) -> None:
    name = f"{type(module).__name__}.{method}"
    for i, (g, b, v) in enumerate(zip(given, before, versions, strict=True)):
        which = "its input" if len(given) == 1 else f"its input {i}"
        gap = num.largest_gap(g, b)
        if gap.value > 0:
            raise AssertionError(
                f"{name} modified {which} in place: entry {gap.where()} was {gap.right!r} "
                f"before the call and is {gap.left!r} after it. "
                + ("right_inverse receives the tensor the user assigns (layer.weight = A), "
                   "which it changes without a word; " if method == "right_inverse" else
                   "forward receives the original parameter, which it corrupts; ")
                + f"{_FIX}.\n{num.show('the input before the call', b)}\n"
                f"{num.show('the input after the call', g)}")
        if g._version != v:
            raise AssertionError(
                f"{name} wrote to {which} in place (its version counter went from {v} to "
                f"{g._version}) although the values came back equal for this input: an "
                f"in-place operation that changed nothing here (a clamp of values already "
                f"in range) changes other inputs; {_FIX}.\n"
                f"{num.show('the input', b)}")


def inplace(parametrization: object, X: Tensor) -> None:
    """``forward`` and ``right_inverse`` of every module leave their inputs untouched.

    Forward runs module by module on ``X`` (its originals), then, when every module has
    a ``right_inverse``, right_inverse runs back from ``A = forward(X)`` under
    ``torch.no_grad()``, as assignment does. Each call gets its own copy of its input;
    the failure names the module and method and shows the input before the call and
    after it.
    """
    if not isinstance(X, Tensor):
        raise TypeError(f"X must be a tensor, got {type(X).__name__}")
    target = parametrization if isinstance(parametrization, tg.Target) else tg.Target(
        parametrization)
    chain = target.fresh(X)
    values: tuple[Tensor, ...] = tg.originals(chain, X.detach().clone())
    for module in chain:
        given, before, versions = _handed(values)
        with torch.no_grad():
            out = tg.forward([module], given)
        _assert_untouched(module, "forward", given, before, versions)
        values = (out,)
    if tg.has_right_inverse(chain) is not None:
        return
    value: object = values[0]
    for module in reversed(chain):
        if not isinstance(value, Tensor):
            return  # several originals before the first module: tg.right_inverse reports it
        given, before, versions = _handed((value,))
        try:
            result = tg.right_inverse([module], given[0])
        except tg.NotApplicable:
            return  # right_inverse raised NotImplementedError: there is none to check
        value = result[0] if len(result) == 1 else result
        _assert_untouched(module, "right_inverse", given, before, versions)
