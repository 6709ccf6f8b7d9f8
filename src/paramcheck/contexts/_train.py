"""Training: k optimizer steps on a random loss keep the constraint; two forwards and one
backward work.

The weight at step k is recomputed from the originals θ_k, so rounding does not pile up
from step to step: the constraint's error at step k is the map's error at θ_k. The
named constraints' tolerances (``slack·n·eps·scale``, see :mod:`paramcheck.constraints`)
assume the map's condition number stays under 16 on the domain the inputs are drawn
from; for the maps shipped here it grows at most linearly with the size of its input
(Cayley: κ(I - A) ≤ 1 + ‖A‖₂; the matrix exponential's scaling-and-squaring error grows
with ‖A‖; normalisations are scale-free). Each step moves an entry of θ by at most
δ (SGD: lr·max|∇|; Adam: ≈ lr), so ``max|θ_k| ≤ max|θ_0| + k·δ``, and the tolerance at
step k is the check's own, multiplied by

    growth_k = max(1, max|θ_k| / max|θ_0|)   (≤ 1 + k·δ / max|θ_0|),

measured at every step. State a forward updates (spectral norm's ``_u``, ``_v``) is
normalised at each step and does not grow.

The loss at step k is ``Σ G_k·net(x)`` with ``G_k`` drawn from a generator seeded by
``(seed, k)``: random, and the same in every run with the same seed.

"Two forwards, one backward" (pytorch#72041, #66363: DataParallel and spectral norm used
twice): ``loss(net(x)) + loss(net(2x))``, one ``backward()``, must run (no "modified by an
inplace operation") and give finite gradients to every original.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.contexts import _model as M
from paramcheck.contexts._checks import check_weight

#: Steps of the training law (the issue asks for k ≥ 20).
STEPS = 20
#: Learning rates: small enough that θ stays in a region of the same conditioning for the
#: drawn domains (k·lr = 0.2 for Adam), large enough that every entry moves.
LR = {"sgd": 1e-2, "adam": 1e-2}
OPTIMIZERS = tuple(LR)
#: Input domains (``Spec.inputs``) an optimizer step stays in. A transform meant for
#: another domain (CayleyMap takes skew matrices) is trained inside a chain, after the
#: map onto that domain; alone, a step takes its original off the domain and the
#: constraint rightly fails. ``sign_diagonal`` (torch's Householder map) stays: the
#: diagonal is read with ``.int()`` and gets no gradient, so neither optimizer moves it.
STEP_CLOSED = ("matrix", "square", "nonzero", "sign_diagonal")


def make_optimizer(kind: str, params: list[Tensor]) -> torch.optim.Optimizer:
    if kind == "sgd":
        return torch.optim.SGD(params, lr=LR["sgd"])
    if kind == "adam":
        return torch.optim.Adam(params, lr=LR["adam"])
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {kind!r}")


def random_loss(out: Tensor, seed: int, step: int) -> Tensor:
    """``Σ G·out`` with ``G`` standard normal from a generator seeded by ``(seed, step)``."""
    gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
    G = torch.randn(out.shape, generator=gen, dtype=torch.float64).to(out.dtype)
    return (out * G.to(out.device)).sum()


def run_steps(net: M.Net, opt: torch.optim.Optimizer, x: Tensor, seed: int,
              steps: range) -> None:
    for k in steps:
        opt.zero_grad(set_to_none=True)
        torch.autograd.backward(random_loss(net(x), seed, k))
        opt.step()


def train(parametrization: object, X: Tensor, check: Callable[[Tensor], object] | None
          = None, *, implementation: object = "torch", optimizer: str = "adam",
          steps: int = STEPS, seed: int = 0) -> None:
    """``steps`` optimizer steps keep the weight finite and satisfying ``check``."""
    impl = tg.implementation(implementation)
    target = M.target_of(parametrization)
    spec = target.spec_for_inputs()
    if spec is not None and spec.inputs not in STEP_CLOSED:
        raise tg.NotApplicable(
            f"its originals live in the {spec.inputs!r} domain, which an optimizer step "
            f"leaves (train it after a map onto that domain, as in a chain)")
    net = M.build(target, X, impl)
    x = M.probe(X)
    params = [p for _, p in M.originals(net)]
    opt = make_optimizer(optimizer, params)
    start = num.magnitude(*params)
    for k in range(steps):
        try:
            run_steps(net, opt, x, seed, range(k, k + 1))
            with torch.no_grad():
                W = M.weight(net)
        except Exception as exc:
            raise AssertionError(f"step {k + 1} of {optimizer} raised "
                                 f"{type(exc).__name__}: {exc}") from exc
        tg.check_output(W, X, what=f"the weight after {k + 1} {optimizer} steps")
        if check is not None:
            growth = max(1.0, num.magnitude(*params) / start)
            check_weight(check, W, f"the weight after {k + 1} {optimizer} steps", growth)
    two_forwards(parametrization, X, implementation=impl)


def two_forwards(parametrization: object, X: Tensor, *,
                 implementation: object = "torch") -> None:
    """Two forwards, one backward: runs, and every original gets a finite gradient."""
    impl = tg.implementation(implementation)
    net = M.build(M.target_of(parametrization), X, impl)
    x = M.probe(X)
    try:
        total = M.loss(net(x)) + M.loss(net(2 * x))
        torch.autograd.backward(total)
    except Exception as exc:
        raise AssertionError(
            f"two forwards then one backward raised {type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:400]}") from exc
    for name, p in M.originals(net):
        if p.grad is None or num.first_nonfinite(p.grad) is not None:
            raise AssertionError(f"after two forwards and one backward, {name} has "
                                 f"{'no' if p.grad is None else 'a non-finite'} gradient")
