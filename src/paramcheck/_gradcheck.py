"""gradcheck for the ``gradient`` property: where to perturb, and what a failure means.

torch.autograd.gradcheck compares the Jacobian that backward computes with central
finite differences in float64. Its report prints both Jacobians in full; :func:`check`
returns one sentence instead: the worst entry, both values, and the tolerance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.autograd.gradcheck import GradcheckError

from paramcheck import _target as tg

#: Inputs up to this many entries (16×16) are checked by torch.autograd.gradcheck; larger
#: ones by paramcheck._directional (see check_at).
GRADCHECK_LIMIT = 256

# torch.autograd.gradcheck's defaults, restated to explain a failure.
EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-3


def tangent(domain: str) -> Callable[[Tensor], Tensor] | None:
    """Projection onto the input domain's tangent space, for gradcheck's perturbations.

    gradcheck perturbs one entry at a time; for a map defined on symmetric (or skew)
    matrices that reads one triangle only (eigh does), that perturbation leaves the
    domain and the numerical derivative means nothing. Differentiating
    ``Z ↦ forward(P(Z))`` with P the projection keeps every perturbation in the domain.
    """
    if domain in ("symmetric", "spd", "psd"):
        return lambda Z: (Z + Z.mT) / 2
    if domain == "skew":
        return lambda Z: (Z - Z.mT) / 2
    return None


def check(chain: Sequence[nn.Module], inputs: tuple[Tensor, ...],
               project: Callable[[Tensor], Tensor] | None) -> str | None:
    """None when torch.autograd.gradcheck passes, else a one-paragraph explanation."""

    def fn(*args: Tensor) -> Tensor:
        if project is not None and len(args) == 1:
            args = (project(args[0]),)
        return tg.forward(chain, args)

    leaves = tuple(t.detach().clone().requires_grad_(True) for t in inputs)
    try:
        torch.autograd.gradcheck(fn, leaves, eps=EPS, atol=ATOL,
                                 rtol=RTOL, raise_exception=True)
        return None
    except GradcheckError as exc:
        return explain(fn, leaves) or str(exc).splitlines()[0]


def check_at(target: tg.Target, X64: Tensor,
                  project: Callable[[Tensor], Tensor] | None) -> str | None:
    """gradcheck of a float64 copy of the chain at ``X64``, its modules in eval mode.

    gradcheck needs a function: the same input must give the same output every call.
    In eval mode, parametrizations with training-mode state (spectral norm's power
    iteration) stop updating it. gradcheck builds the whole Jacobian (two forward calls
    per input entry): callers switch to ``paramcheck._directional`` above
    ``GRADCHECK_LIMIT`` entries.
    """
    chain = target.fresh(X64)
    for m in chain:
        m.eval()
    return check(chain, tg.originals(chain, X64), project)


def explain(fn: Callable[..., Tensor], leaves: tuple[Tensor, ...]) -> str | None:
    """The worst entry of |analytical - numerical| Jacobian, found the way gradcheck does."""
    worst: tuple[float, str] | None = None
    mismatch = False
    with torch.no_grad():
        base = fn(*leaves)
        drift = float((fn(*leaves).to(torch.float64) - base.to(torch.float64)).abs().max())
    if drift > 0:
        return _stateful(drift)
    for k, x in enumerate(leaves):
        numerical = torch.zeros(base.numel(), x.numel(), dtype=torch.float64)
        flat = x.detach().reshape(-1)
        for j in range(x.numel()):
            plus, minus = flat.clone(), flat.clone()
            plus[j] += EPS
            minus[j] -= EPS
            args_p = [*leaves[:k], plus.reshape(x.shape), *leaves[k + 1:]]
            args_m = [*leaves[:k], minus.reshape(x.shape), *leaves[k + 1:]]
            with torch.no_grad():
                diff = fn(*args_p).reshape(-1) - fn(*args_m).reshape(-1)
            numerical[:, j] = diff.to(torch.float64) / (2 * EPS)
        analytical = torch.zeros_like(numerical)
        xs = [t.detach().clone().requires_grad_(True) for t in leaves]
        out = fn(*xs).reshape(-1)
        for i in range(out.numel()):
            (g,) = torch.autograd.grad(out[i], [xs[k]], retain_graph=True, allow_unused=True)
            if g is not None:
                analytical[i] = g.reshape(-1).to(torch.float64)
        excess = (analytical - numerical).abs() - RTOL * numerical.abs()
        mismatch = mismatch or bool((excess > ATOL).any())
        idx = int(torch.argmax(excess))
        i, j = divmod(idx, numerical.shape[1])
        gap = float((analytical - numerical).abs().reshape(-1)[idx])
        out_index = list(torch.unravel_index(torch.tensor(i), base.shape))
        in_index = list(torch.unravel_index(torch.tensor(j), x.shape))
        text = (
            f"∂forward[{', '.join(str(int(v)) for v in out_index)}]/∂input{k}"
            f"[{', '.join(str(int(v)) for v in in_index)}]: analytical (backward) = "
            f"{float(analytical[i, j]):.6g}, numerical (central difference, h = "
            f"{EPS:g}) = {float(numerical[i, j]):.6g}, |difference| = {gap:.3g} > "
            f"atol + rtol·|numerical| = {ATOL:g} + {RTOL:g}·"
            f"{abs(float(numerical[i, j])):.3g}")
        if worst is None or gap > worst[0]:
            worst = (gap, text)
    if not mismatch:
        # gradcheck saw a mismatch that computing both Jacobians again does not
        # reproduce: not an entry to print with a difference inside the tolerance.
        return ("gradcheck failed, but computing both Jacobians again reproduces no "
                "mismatch (every entry within atol + rtol·|numerical|): forward depends on "
                "something besides its input that changed between gradcheck's calls")
    return None if worst is None else worst[1]


def _stateful(drift: float) -> str:
    return (f"forward does not return the same output for the same input (two calls on X "
            f"differ by {drift:.3g}): it keeps state between calls (in eval mode too), so "
            f"finite differences of it are not its derivative and its gradient cannot be "
            f"checked")
