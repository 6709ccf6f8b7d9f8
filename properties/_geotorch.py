"""Every geotorch 0.4.0 constraint that is a parametrization, as a user would verify it.

A :class:`GeoCase` is one geotorch manifold: a factory (geotorch builds a manifold for
one size, so each example gets a fresh one), the shape it was built for, and its
constraint: a name from :mod:`paramcheck.constraints` where one fits, else a check below.
The checks follow :mod:`paramcheck.constraints`: measured in float64, tolerances
``slack·n·eps·scale`` with the slack derived next to it. ``EXPECTED`` lists the failures
verify reports on geotorch, each argued in reports/geotorch.md with a reproducer that
runs without paramcheck; the test asserts that nothing else fails (no false alarm) and
that these still do (the finding is real).

Used by properties/test_geotorch.py and properties/geotorch_report.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geotorch
import torch
from torch import Tensor, nn

from paramcheck import constraints, strategies
from paramcheck._numerics import eps
from paramcheck.constraints import Check

#: Slack for rank and singular-value checks: the SVD is backward stable, so computed
#: singular values are exact for A + E, ‖E‖₂ ≤ n·eps·‖A‖₂ (Weyl), and A itself was formed
#: as a product U·S·Vᵀ with an error of the same order: 2·n·eps·‖A‖₂, doubled for margin.
SINGULAR_SLACK = 4.0


def _svals(A: Tensor) -> Tensor:
    return torch.linalg.svdvals(A.detach().to(torch.float64))


def _tol(A: Tensor, slack: float = SINGULAR_SLACK) -> float:
    n = max(A.shape[-1], A.shape[-2])
    return slack * n * eps(A.dtype) * float(_svals(A).max().clamp_min(1e-30))


def _result(name: str, violation: float, tol: float, what: str) -> Check:
    ok = violation <= tol
    return Check(name, ok, violation, tol,
                 f"{name}: {what} = {violation:.3g}, "
                 f"{'within' if ok else 'above'} the tolerance {tol:.3g} "
                 f"(= {SINGULAR_SLACK:g}·n·eps·‖A‖₂)")


def rank_at_most(r: int) -> Callable[[Tensor], Check]:
    """σ_{r+1} ≤ SINGULAR_SLACK·n·eps·‖A‖₂: A is within rounding of a rank-r matrix."""
    def check(A: Tensor) -> Check:
        s = _svals(A)
        rest = float(s[..., r:].max()) if s.shape[-1] > r else 0.0
        return _result(f"rank_at_most_{r}", rest, _tol(A), f"σ_{r + 1}")
    check.__name__ = f"rank_at_most_{r}"
    return check


def rank_exactly(r: int) -> Callable[[Tensor], Check]:
    """Rank ≤ r as above, and σ_r above the rounding band (rank not lower)."""
    at_most = rank_at_most(r)

    def check(A: Tensor) -> Check:
        found = at_most(A)
        if not found.ok:
            return Check(f"rank_exactly_{r}", False, found.violation, found.tolerance,
                         found.message)
        sr = float(_svals(A)[..., r - 1].min())
        tol = _tol(A)
        return Check(f"rank_exactly_{r}", sr > tol, 0.0 if sr > tol else tol - sr, tol,
                     f"rank_exactly_{r}: σ_{r} = {sr:.3g} against the rounding band {tol:.3g}")
    check.__name__ = f"rank_exactly_{r}"
    return check


def positive_determinant(A: Tensor) -> Check:
    """GL⁺: det A > 0 with the smallest singular value above the rounding band (the
    sign of a determinant within rounding of a singular matrix means nothing)."""
    sign = float(torch.linalg.slogdet(A.detach().to(torch.float64)).sign.min())
    smin = float(_svals(A).min())
    tol = _tol(A)
    ok = sign > 0 and smin > tol
    return Check("positive_determinant", ok, 0.0 if ok else 1.0, tol,
                 f"positive_determinant: sign(det A) = {sign:g}, σ_min = {smin:.3g} "
                 f"(rounding band {tol:.3g})")


def unit_determinant(A: Tensor) -> Check:
    """SL: det A = 1. ``log det A = Σ log σ_i`` with each σ_i computed to a relative
    n·eps·κ (κ = σ_max/σ_min, Weyl), so |log|det A|| ≤ n·n·eps·κ; SINGULAR_SLACK of that."""
    A64 = A.detach().to(torch.float64)
    sign, logabs = torch.linalg.slogdet(A64)
    s = _svals(A)
    n = A.shape[-1]
    kappa = float((s.max(-1).values / s.min(-1).values.clamp_min(1e-300)).max())
    tol = SINGULAR_SLACK * n * n * eps(A.dtype) * kappa
    violation = float(logabs.abs().max()) if bool((sign > 0).all()) else float("inf")
    return Check("unit_determinant", violation <= tol, violation, tol,
                 f"unit_determinant: |log det A| = {violation:.3g}, tolerance {tol:.3g} "
                 f"(= {SINGULAR_SLACK:g}·n²·eps·κ, κ = {kappa:.3g})")


def singular_values_within(low: float, high: float) -> Callable[[Tensor], Check]:
    """Every singular value in [low, high] up to SINGULAR_SLACK·n·eps·‖A‖₂."""
    def check(A: Tensor) -> Check:
        s = _svals(A)
        violation = max(float((low - s).max()), float((s - high).max()), 0.0)
        return _result(f"singular_values_in_{low:g}_{high:g}", violation, _tol(A),
                       f"distance of a singular value from [{low:g}, {high:g}]")
    check.__name__ = f"singular_values_in_{low:g}_{high:g}"
    return check


def both(*checks: Callable[[Tensor], Check], name: str) -> Callable[[Tensor], Check]:
    def check(A: Tensor) -> Check:
        for c in checks:
            found = c(A)
            if not found.ok:
                return found
        return Check(name, True, 0.0, 0.0, f"{name}: holds")
    check.__name__ = name
    return check


def hurwitz(A: Tensor) -> Check:
    """Every eigenvalue has a negative real part. ``eigvals`` is backward stable (an
    error ≤ n·eps·‖A‖₂ in A), which moves an eigenvalue by that much times its condition
    number; Hurwitz's forward gives eigenvalues at a distance O(1) from the axis on the
    drawn inputs, so the band is SINGULAR_SLACK·n·eps·‖A‖₂."""
    real = float(torch.linalg.eigvals(A.detach().to(torch.float64)).real.max())
    tol = _tol(A)
    return Check("hurwitz", real < -tol, max(real + tol, 0.0), tol,
                 f"hurwitz: max Re λ = {real:.3g}, must be below -{tol:.3g}")


@dataclass(frozen=True)
class GeoCase:
    """One geotorch manifold as verify is called on it (``options``: more of verify's
    keyword arguments)."""

    name: str
    factory: Callable[[], nn.Module] = field(repr=False)
    shape: tuple[int, ...]
    constraint: str | Callable[[Tensor], Check]
    options: dict[str, Any] = field(default_factory=dict)


CASES: tuple[GeoCase, ...] = (
    GeoCase("SO", lambda: geotorch.SO((4, 4)), (4, 4), "special_orthogonal"),
    GeoCase("SO(cayley)", lambda: geotorch.SO((4, 4), triv="cayley"), (4, 4),
            "special_orthogonal"),
    GeoCase("Stiefel", lambda: geotorch.Stiefel((5, 3)), (5, 3), "orthogonal"),
    GeoCase("Grassmannian", lambda: geotorch.Grassmannian((5, 3)), (5, 3), "orthogonal"),
    GeoCase("Sphere", lambda: geotorch.Sphere((4,)), (4,), "unit_norm"),
    GeoCase("SphereEmbedded", lambda: geotorch.SphereEmbedded((4,)), (4,), "unit_norm"),
    GeoCase("SphereEmbedded(nonzero)", lambda: geotorch.SphereEmbedded((4,)), (4,),
            "unit_norm", {"inputs": strategies.nonzero((4,))}),
    GeoCase("Skew", lambda: geotorch.Skew((4, 4)), (4, 4), "skew"),
    GeoCase("Symmetric", lambda: geotorch.Symmetric(), (4, 4), "symmetric"),
    GeoCase("PSD", lambda: geotorch.PSD((4, 4)), (4, 4), "spd"),
    GeoCase("PSSD", lambda: geotorch.PSSD((4, 4)), (4, 4), "psd"),
    GeoCase("PSSDLowRank", lambda: geotorch.PSSDLowRank((4, 4), 2), (4, 4),
            both(constraints.psd, rank_at_most(2), name="psd_rank_at_most_2")),
    GeoCase("PSSDFixedRank", lambda: geotorch.PSSDFixedRank((4, 4), 2), (4, 4),
            both(constraints.psd, rank_exactly(2), name="psd_rank_2")),
    GeoCase("LowRank", lambda: geotorch.LowRank((5, 4), 2), (5, 4), rank_at_most(2)),
    GeoCase("FixedRank", lambda: geotorch.FixedRank((5, 4), 2), (5, 4), rank_exactly(2)),
    GeoCase("GLp", lambda: geotorch.GLp((4, 4)), (4, 4), positive_determinant),
    GeoCase("SL", lambda: geotorch.SL((4, 4)), (4, 4), unit_determinant),
    GeoCase("AlmostOrthogonal", lambda: geotorch.AlmostOrthogonal((4, 4), 0.5), (4, 4),
            singular_values_within(0.5, 1.5)),
    GeoCase("Hurwitz", lambda: geotorch.Hurwitz((4, 4)), (4, 4), hurwitz),
)


@dataclass(frozen=True)
class Finding:
    """A failure verify reports on geotorch, argued as true, with a reproducer that
    runs without paramcheck."""

    title: str
    argument: str
    reproducer: str
    explains: frozenset[tuple[str, str, str]]  # (case, property row, dtype)


_FLOAT32_STATE = """\
import torch, geotorch

for make in (lambda: geotorch.SO((4, 4)), lambda: geotorch.Stiefel((5, 3)),
             lambda: geotorch.Sphere((4,)), lambda: geotorch.SL((4, 4))):
    m = make().double()  # built in float32 (torch's default), then converted
    W = m(torch.zeros(m.base.shape if hasattr(m, "base") else (4, 4), dtype=torch.float64))
    if W.ndim == 1:
        error = (torch.linalg.vector_norm(W) - 1).abs().item()
    elif isinstance(m, geotorch.SL):
        error = (torch.linalg.det(W) - 1).abs().item()
    else:
        error = (W.mT @ W - torch.eye(W.shape[-1], dtype=torch.float64)).abs().max().item()
    bases = [b for name, b in m.named_buffers() if name.endswith("base")]
    exact_float32 = all(torch.equal(b, b.float().double()) for b in bases)
    print(f"{type(m).__name__}: float64 constraint error {error:.2e} "
          f"(float64 eps 2.2e-16); its base buffers hold float32 numbers: {exact_float32}")
"""

_SPHERE_EMBEDDED = """\
import torch, geotorch

m = geotorch.SphereEmbedded((4,))
print(m(torch.zeros(4)))                       # x / |x| at x = 0
print(m(torch.tensor([1e-20, 0.0, 0.0, 0.0])))  # fine off it...
print(m(torch.tensor([1e-23, 0.0, 0.0, 0.0])))  # ...until |x|² underflows in float32
"""

FINDINGS: dict[str, Finding] = {
    "float32_state": Finding(
        "A float64 model built in float32 is only float32-accurate (SO, Stiefel, "
        "Grassmannian, Sphere, SL)",
        "geotorch draws the `base` of SO, Stiefel (and Grassmannian, and the Stiefel "
        "factors of SL) and Sphere at construction, in torch's default dtype. "
        "`.double()` converts the buffer but keeps its float32 rounding, so the float64 "
        "weight is orthogonal (unit norm) "
        "only to ~1e-7, nine orders of magnitude above float64 rounding, until the "
        "weight is assigned again (`right_inverse` copies the assigned point into "
        "`base`). True: a user converting a model to float64 for accuracy does not get "
        "it. Blame measures it: no op departs between the lone and batched runs, and "
        "the module's `base` buffer holds float32 numbers. Workaround: build the model "
        "under `torch.set_default_dtype(torch.float64)`, or assign the weight after "
        "`.double()`. For SL the round trip fails too: A = forward(X) is not in SL "
        "to float64 accuracy (det A - 1 ≈ 3e-7), so `right_inverse` maps it to another "
        "point.",
        _FLOAT32_STATE,
        frozenset({(c, "constraint", "float64") for c in
                   ("SO", "SO(cayley)", "Stiefel", "Grassmannian", "Sphere", "SL")}
                  | {("SL", "round_trip", "float64")}),
    ),
    "sphere_embedded_zero": Finding(
        "SphereEmbedded's forward is NaN at the zero vector",
        "`SphereEmbedded` is the projection x / ‖x‖, undefined at 0, and forward has no "
        "guard: forward(0) is NaN (and so is forward(x) for a float32 x small enough that "
        "‖x‖² underflows, |x| ≲ 1e-22). Hypothesis draws the zero vector first, so every law "
        "meets it (round_trip, cache and state then see `right_inverse` refuse the NaN "
        "weight). True, and benign in training (an original reaches exactly 0 only by "
        "an optimizer step landing on it); geotorch's `Sphere` (the exponential map) "
        "is defined everywhere. On nonzero inputs every property passes (the "
        "`SphereEmbedded(nonzero)` row).",
        _SPHERE_EMBEDDED,
        frozenset({("SphereEmbedded", p, d)
                   for p in ("constraint", "round_trip", "cache", "gradient", "batch",
                             "dtype", "device", "state")
                   for d in ("float32", "float64")}),
    ),
}


def finding_for(case: str, prop: str, dtype: str) -> str | None:
    """The key of the finding that explains this failure, or None (a false alarm, or a
    new finding to argue)."""
    for key, finding in FINDINGS.items():
        if (case, prop, dtype) in finding.explains:
            return key
    return None
