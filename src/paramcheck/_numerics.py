"""Floating-point yardsticks shared by the constraints and the properties.

Every tolerance in paramcheck has the form ``slack · n · eps · scale``:

- ``eps`` is the unit roundoff of the dtype the tensor was computed in
  (``torch.finfo(dtype).eps``: 1.2e-7 for float32, 2.2e-16 for float64);
- ``n`` is the inner dimension of the matrix products involved: a dot product of length
  ``n`` computed in floating point has error at most ``γ_n ≈ n·eps`` times the
  magnitudes of its terms (Higham, *Accuracy and Stability of Numerical Algorithms*,
  §3.1); solve, QR, eigh and matrix_exp are backward stable with the same ``n·eps``
  backward error;
- ``scale`` is the magnitude of the numbers compared (the largest entry), so the test
  is relative;
- ``slack`` covers what the two bounds above leave out: how the condition numbers of
  the maps amplify those errors on the bounded domains the strategies draw from, and a
  margin so that correct code never fails. Each constant states its own derivation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from paramcheck.errors import PropertyFailed

#: Slack of a comparison between two evaluations of a composite map, such as
#: ``forward(right_inverse(A))`` against ``A``, or a batched against a per-matrix call.
#: Each of the two evaluations chains backward-stable steps (≲ n·eps each); an error made
#: early is amplified by the condition number κ of the steps after it. On the domains the
#: strategies draw (spectral norms and condition numbers bounded by a transform's
#: ``Spec.bound``), κ ≲ 4 for each of forward and right_inverse (for the Cayley map,
#: κ(I - X) = sqrt(1 + ‖X‖²) ≤ 3.2 for a 4×4 skew matrix with entries in [-1, 1]). So one
#: evaluation errs by ≲ κ_f·κ_g·n·eps = 16·n·eps, two of them by 32·n·eps; doubled for a
#: margin: 64. A wrong map errs by O(1), five to twelve orders of magnitude above it.
MAP_SLACK = 64.0

#: Slack of a comparison between two evaluations of *the same* computation on the same
#: numbers (cached against uncached, a state_dict twin, two parametrize implementations).
#: These are usually bitwise equal; summation order may differ (gradients accumulated
#: from several reads, a different kernel for a different memory layout), which changes
#: a length-n sum by ≲ n·eps·scale. Twice that: 2.
SAME_COMPUTATION_SLACK = 2.0


def eps(dtype: torch.dtype) -> float:
    """Unit roundoff of a floating dtype."""
    return float(torch.finfo(dtype).eps)


def coarsest(*dtypes: torch.dtype) -> torch.dtype:
    """The floating dtype with the largest eps among ``dtypes`` (non-floats ignored)."""
    floats = [d for d in dtypes if d.is_floating_point]
    if not floats:
        return torch.float64
    return max(floats, key=eps)


def inner_dim(shape: Sequence[int]) -> int:
    """The ``n`` of the error bounds: the larger of the two trailing dimensions."""
    if len(shape) >= 2:
        return max(int(shape[-1]), int(shape[-2]), 1)
    if len(shape) == 1:
        return max(int(shape[0]), 1)
    return 1


def magnitude(*tensors: Tensor) -> float:
    """Largest absolute entry over ``tensors`` (finite entries only), at least 1e-30.

    The floor keeps ``tolerance = ... · scale`` positive when every entry is zero.
    """
    best = 0.0
    for t in tensors:
        if t.numel() == 0 or t.is_meta or not (t.is_floating_point() or t.is_complex()):
            continue
        finite = t.detach().abs()
        finite = finite[torch.isfinite(finite)]
        if finite.numel():
            best = max(best, float(finite.max()))
    return max(best, 1e-30)


@dataclass(frozen=True)
class Gap:
    """Largest entrywise difference between two tensors, and where it is."""

    value: float
    index: tuple[int, ...]
    left: float
    right: float

    def where(self) -> str:
        return f"[{', '.join(map(str, self.index))}]"


def largest_gap(a: Tensor, b: Tensor) -> Gap:
    """``max |a - b|`` computed in float64, with the index of the worst entry.

    NaN or inf in one tensor where the other differs counts as an infinite gap.
    """
    if not (a.is_floating_point() or a.is_complex()) or not (
            b.is_floating_point() or b.is_complex()):
        # Masks, counters: exact comparison. Infinite gap at the first differing entry.
        a, b = a.detach().to("cpu"), b.detach().to("cpu")
        if a.shape != b.shape or a.dtype != b.dtype:
            return Gap(float("inf"), (), float("nan"), float("nan"))
        differ = (a != b).nonzero()
        if differ.numel() == 0:
            return Gap(0.0, (), 0.0, 0.0)
        index = tuple(int(i) for i in differ[0])
        return Gap(float("inf"), index, float(a[index]), float(b[index]))
    a64 = a.detach().to("cpu", torch.float64)
    b64 = b.detach().to("cpu", torch.float64)
    diff = (a64 - b64).abs()
    # Equal entries, equal infinities, and NaN against NaN all count as agreement:
    # whether a NaN is acceptable at all is for the caller to decide (check_output).
    same = (a64 == b64) | (torch.isnan(a64) & torch.isnan(b64))
    diff = torch.where(same, torch.zeros_like(diff), diff)
    diff = torch.where(torch.isnan(diff), torch.full_like(diff, float("inf")), diff)
    if diff.numel() == 0:
        return Gap(0.0, (), 0.0, 0.0)
    flat = int(torch.argmax(diff))
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), diff.shape))
    return Gap(float(diff.reshape(-1)[flat]), index, float(a64[index]), float(b64[index]))


def first_nonfinite(t: Tensor) -> tuple[int, ...] | None:
    """Index of the first NaN or infinite entry, or None when all are finite."""
    if t.is_meta or not t.is_floating_point():
        return None
    bad = ~torch.isfinite(t.detach())
    if not bool(bad.any()):
        return None
    return tuple(int(i) for i in bad.nonzero()[0])


def format_tensor(t: Tensor, indent: int = 0) -> str:
    """A Python expression that rebuilds ``t`` exactly (every entry at full precision)."""
    dtype = str(t.dtype).replace("torch.", "")
    if t.is_meta:
        return f"<meta tensor of shape {tuple(t.shape)}, dtype torch.{dtype}>"
    values = t.detach().to("cpu").tolist()
    prefix = "torch.tensor("
    body = _format_nested(values, len(prefix) + indent)
    device = "" if t.device.type == "cpu" else f", device={str(t.device)!r}"
    return f"{prefix}{body}, dtype=torch.{dtype}{device})"


def _format_nested(values: object, column: int) -> str:
    if not isinstance(values, list):
        return repr(values)
    if not values or not isinstance(values[0], list):
        return "[" + ", ".join(repr(v) for v in values) + "]"
    rows = [_format_nested(v, column + 1) for v in values]
    return "[" + (",\n" + " " * (column + 1)).join(rows) + "]"


#: Tensors with at most this many entries are printed in full inside messages.
PRINT_LIMIT = 64


def show(name: str, t: Tensor) -> str:
    if t.numel() > PRINT_LIMIT:
        return f"{name}: shape {tuple(t.shape)}, dtype {t.dtype} (too large to print)"
    return f"{name} = {format_tensor(t, indent=len(name) + 3)}"


def tolerance_text(slack: float, n: int, e: float, scale: float, tol: float) -> str:
    return f"tolerance {tol:.3g} = {formula(slack, n, e, scale)}"


def formula(slack: float, n: int, e: float, scale: float) -> str:
    """How a ``slack·n·eps·scale`` tolerance was derived, with the numbers."""
    return f"{slack:g}·n·eps·scale with n = {n}, eps = {e:.3g}, scale = {scale:.3g}"


def fail_unless_close(summary: str, a: Tensor, b: Tensor, n: int, e: float, *,
                      slack: float = SAME_COMPUTATION_SLACK, law: str = "",
                      tensors: dict[str, Tensor] | None = None) -> None:
    """Raise :class:`PropertyFailed` unless ``a`` ≈ ``b`` up to ``slack·n·eps·scale``.

    ``summary`` says what differs from what; the failure carries the gap, where it is,
    the two entries, the tolerance and its formula, and ``tensors`` (default none).
    """
    scale = magnitude(a, b)
    tol = slack * n * e * scale
    gap = largest_gap(a, b)
    if not gap.value <= tol:
        raise PropertyFailed(
            f"{summary} by {gap.value:.3g} at {gap.where()} ({gap.left!r} vs {gap.right!r})",
            law=law, gap=gap.value, tolerance=tol, formula=formula(slack, n, e, scale),
            location=gap.where(), tensors=tensors)


def assert_close(what: str, reference: str, a: Tensor, b: Tensor, n: int, e: float,
                 slack: float = SAME_COMPUTATION_SLACK, law: str = "") -> None:
    """Fail unless ``a`` ≈ ``b`` up to ``slack·n·eps·scale``; the failure shows both."""
    if a.shape != b.shape:
        raise PropertyFailed(f"{what} has shape {tuple(a.shape)}, {reference} has "
                             f"{tuple(b.shape)}", law=law)
    fail_unless_close(f"{what} differs from {reference}", a, b, n, e, slack=slack, law=law,
                      tensors={what: a, reference: b})
