"""A gradient check that scales: finite differences along a few random directions.

``torch.autograd.gradcheck`` builds the whole Jacobian, one column per input entry: two
forward calls per entry, 2·n² of them for an n×n weight (two million at 1024×1024). What
training uses is the vector-Jacobian product that backward computes, and a wrong one is
wrong along almost every direction. So, for a fixed irregular cotangent ``G`` and
``DIRECTIONS`` random directions ``V`` (a seeded ``torch.Generator``, projected into the
input domain's tangent space), compare

    g = ⟨∇ₓ φ, V⟩   (backward, once)   with   φ'(0)   where   φ(t) = ⟨G, forward(X + tV)⟩,

the latter by central differences ``d(h) = (φ(h) - φ(-h)) / 2h`` on a ladder of steps
``h = H·4⁻ᵏ``. Cost: at most 2·STEPS·DIRECTIONS forward calls and one backward, at any n.

Tolerance, derived per step (all in float64):

- *Rounding*: each entry of ``forward`` is computed with an error of at most
  ``MAP_SLACK·n·eps·max|F|`` (the yardstick of :mod:`paramcheck._numerics`), so φ errs by
  ``R = MAP_SLACK·n·eps·max|F|·Σ|G|`` and ``d(h)`` by ``R/h``.
- *Truncation*: ``d(h) - φ'(0) = h²·φ'''/6 + O(h⁴)``. Between consecutive steps (ratio 4)
  ``d(4h) - d(h) = 15·h²·φ'''/6``, so ``|d(4h) - d(h)|`` bounds the truncation error of
  ``d(h)`` with a factor 15 to spare.

The check is made at the most accurate step, the one with the smallest tolerance
``tol(h) = |d(4h) - d(h)| + R/h`` (where truncation and rounding balance, ≈ 1e-8 relative
for a well-scaled map): it passes when ``|d(h) - g| ≤ tol(h)`` there. A wrong backward
misses by a fixed ``|δ|``, the size of its error, at every step: a 1% error is caught.

*A jump inside the step* is told apart from a wrong gradient by how the differences scale.
Where forward jumps by ``J`` between ``X - hV`` and ``X + hV`` (Stiefel's column sign
flips where a diagonal entry crosses 0), ``Δ(h) = φ(h) - φ(-h) ≈ J`` whatever ``h``, so
``d(h) = J/2h`` grows fourfold per step; for a smooth map ``Δ(h) ≈ 2h·φ'(0)`` shrinks
fourfold, wrong backward or not. A pair of steps with ``|Δ(h) - Δ(4h)| ≤ |Δ(h)|/2`` and
``|Δ(h)|`` above the rounding ``R`` is a *jump pair*. The ladder goes on past jump pairs
(smaller steps leave a jump at any distance above ``H·4⁻⁹``), and when even its most
accurate step is a jump pair, ``X`` is not a point of differentiability: no verdict,
:class:`~paramcheck.errors.CouldNotJudge`, never a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from paramcheck import _gradcheck
from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.errors import CouldNotJudge

#: Random directions tried. One suffices for a wrong vector-Jacobian product (a wrong
#: backward is wrong along almost every direction); a second guards against an unlucky
#: one nearly orthogonal to the error.
DIRECTIONS = 2

#: The step ladder: h = FIRST_STEP·max|X|·4⁻ᵏ for k = 0 .. STEPS-1 (directions have
#: max|V| = 1), relative to the input because maps such as x/‖x‖ vary on the scale of
#: ‖x‖. From 1e-2 down to 1e-2·4⁻⁹ ≈ 4e-8: truncation ~h² and rounding ~eps/h balance
#: near h ≈ eps^(1/3) ≈ 6e-6 for well-scaled maps, inside the ladder. The ladder stops
#: two steps after the smallest tolerance, once rounding dominates.
FIRST_STEP = 1e-2
STEPS = 10

#: Seed of the generator that draws the directions: the same input, the same check.
SEED = 0


def tangent(domain: str) -> Callable[[Tensor], Tensor] | None:
    """Projection of a *direction* onto the input domain: symmetric or skew part for the
    linear domains, and for ``sign_diagonal`` a zero diagonal (the diagonal is a sign,
    read with ``.int()``: moving it is leaving the domain, not differentiating)."""
    if domain == "sign_diagonal":
        return lambda V: V - torch.diag_embed(V.diagonal(dim1=-2, dim2=-1))
    return _gradcheck.tangent(domain)


def directions(origs: Sequence[Tensor], count: int,
               project: Callable[[Tensor], Tensor] | None) -> list[tuple[Tensor, ...]]:
    """``count`` random directions for ``origs`` (one tensor each), max|entry| 1."""
    g = torch.Generator().manual_seed(SEED)
    out = []
    for _ in range(count):
        vs = []
        for o in origs:
            v = torch.randn(o.shape, generator=g, dtype=torch.float64)
            if project is not None and len(origs) == 1:
                v = project(v)
            vs.append(v / max(float(v.abs().max()), 1e-300))
        out.append(tuple(vs))
    return out


def check(chain: Sequence[nn.Module], inputs: tuple[Tensor, ...],
          project: Callable[[Tensor], Tensor] | None,
          along: Callable[[Tensor], Tensor] | None = None) -> str | None:
    """None when backward agrees with central differences along every direction, else one
    sentence saying along which direction, by how much, against which tolerance.
    Raises :class:`~paramcheck.errors.CouldNotJudge` where forward jumps within the
    smallest useful step (see the module docstring): no verdict either way.

    ``project`` is applied to the input before forward, as in ``_gradcheck.check``;
    ``along`` to the directions (by default ``project``).
    """

    def F(args: Sequence[Tensor]) -> Tensor:
        if project is not None and len(args) == 1:
            args = (project(args[0]),)
        return tg.forward(chain, args)

    leaves = tuple(t.detach().to(torch.float64).clone().requires_grad_(True) for t in inputs)
    Y = F(leaves)
    G = tg.gradient_pattern(Y).to(torch.float64)
    grads = torch.autograd.grad((Y * G).sum(), leaves, allow_unused=True)
    grads = tuple(torch.zeros_like(x) if gr is None else gr for x, gr in zip(
        leaves, grads, strict=True))
    base = tuple(x.detach() for x in leaves)
    n = num.inner_dim(base[0].shape)
    e = num.eps(torch.float64)
    weight = float(G.abs().sum())
    first = FIRST_STEP * num.magnitude(*base)

    def phi(t: float, vs: tuple[Tensor, ...]) -> tuple[float, float]:
        """φ(t) and max|forward(X + tV)| (the scale of its rounding error)."""
        with torch.no_grad():
            out = F(tuple(x + t * v for x, v in zip(base, vs, strict=True)))
        return float((out * G).sum()), num.magnitude(out)

    for k, vs in enumerate(directions(base, DIRECTIONS, along or project)):
        g = sum(float((gr * v).sum()) for gr, v in zip(grads, vs, strict=True))
        # (tol, h, d, jump pair?) at the most accurate step
        best: tuple[float, float, float, bool] | None = None
        best_i = 0
        previous: float | None = None
        for i in range(STEPS):
            h = first * 4.0 ** -i
            (up, up_size), (down, down_size) = phi(h, vs), phi(-h, vs)
            d = (up - down) / (2 * h)
            if previous is not None:
                rounding = num.MAP_SLACK * n * e * max(up_size, down_size) * weight
                tol = abs(previous - d) + rounding / h
                jump = _jump_pair(2 * h * d, 8 * h * previous, rounding)
                if best is None or tol < best[0]:
                    best, best_i = (tol, h, d, jump), i
                elif i - best_i >= 2 and not jump and abs(previous - d) <= rounding / h:
                    break  # rounding dominates from here on: smaller steps only get worse
            previous = d
        assert best is not None
        tol, h, d, jump = best
        if jump:
            last = first * 4.0 ** -i
            raise CouldNotJudge(
                f"forward is not differentiable at this input: along random direction {k} "
                f"(torch.Generator seed {SEED}), φ(h) - φ(-h) = ⟨G, forward(X + hV) - "
                f"forward(X - hV)⟩ stays about {2 * h * d:.3g} from h = {first:.3g} down "
                f"to h = {last:.3g} instead of shrinking with h: a jump of forward within "
                f"{last:.3g}·max|V| of X (such as a sign that flips where an entry crosses "
                f"0), where finite differences cannot check the gradient")
        if not abs(d - g) <= tol:
            return (
                f"along random direction {k} (torch.Generator seed {SEED}), backward gives "
                f"the directional derivative {g:.10g} but central differences give {d:.10g} "
                f"at the most accurate step h = {h:.3g}; |difference| {abs(d - g):.3g} "
                f"exceeds the tolerance {tol:.3g} = |d(4h) - d(h)| (truncation) + R/h "
                f"(rounding: R = {num.MAP_SLACK:g}·n·eps·max|F|·Σ|G|, n = {n})")
    return None


def _jump_pair(delta: float, delta_4h: float, rounding: float) -> bool:
    """Whether ``Δ(h) = delta`` and ``Δ(4h) = delta_4h`` look like a jump inside the step:
    nearly equal (a smooth map gives ``Δ(4h) ≈ 4·Δ(h)``, three times ``|Δ(h)|`` apart; a
    jump ``Δ(4h) ≈ Δ(h)``, so the midpoint ``|Δ(h)|/2`` separates them) and above the
    rounding ``R`` of φ (below it, both are noise)."""
    return abs(delta) > rounding and abs(delta - delta_4h) <= abs(delta) / 2


def check_at(target: tg.Target, X64: Tensor,
             project: Callable[[Tensor], Tensor] | None,
             along: Callable[[Tensor], Tensor] | None = None) -> str | None:
    """:func:`check` on a float64 copy of the chain at ``X64``, its modules in eval mode
    (as ``paramcheck._gradcheck.check_at``: the same input must give the same output)."""
    chain = target.fresh(X64)
    for m in chain:
        m.eval()
    return check(chain, tg.originals(chain, X64), project, along)
