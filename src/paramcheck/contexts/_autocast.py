"""CPU autocast (bfloat16): the network runs, its weight satisfies the constraint at a
bfloat16-scaled tolerance, and its state keeps its dtype.

Under ``torch.autocast("cpu", dtype=torch.bfloat16)`` matmuls and friends run in
bfloat16 (eps = 2⁻⁷ ≈ 7.8e-3, against 1.2e-7 for float32); solves, norms and exponentials
stay in float32. Every tolerance of :mod:`paramcheck.constraints` has the form
``slack·n·eps·scale``; the weight is checked after rounding it to bfloat16, so ``eps`` is
bfloat16's and the rounding itself (≤ eps/2 relative) is inside the tolerance. What
breaks under autocast is mostly not the numbers but the plumbing (pytorch#125544:
spectral norm's ``torch.mv(..., out=u)`` got a bfloat16 result for a float32 buffer), so
the law also checks that a forward and a backward run, that the gradients are finite,
that no parameter or buffer changed dtype (a buffer reassigned to an autocast result
turns bfloat16 and breaks every later float32 forward), and that a float32 forward
still runs after the autocast one.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.contexts import _model as M
from paramcheck.contexts._checks import check_weight

DTYPE = torch.bfloat16


def autocast(parametrization: object, X: Tensor, check: Callable[[Tensor], object] | None
             = None, *, implementation: object = "torch") -> None:
    """Forward and backward under CPU autocast run; the weight satisfies ``check`` in bfloat16."""
    if X.dtype != torch.float32:
        raise tg.NotApplicable(f"CPU autocast lowers float32 operations; a {X.dtype} network "
                               f"is left as it is")
    impl = tg.implementation(implementation)
    net = M.build(M.target_of(parametrization), X, impl)
    x = M.probe(X)
    dtypes = {k: v.dtype for k, v in net.state_dict().items()}
    try:
        with torch.autocast("cpu", dtype=DTYPE):
            W = M.weight(net)
            out = net(x)
        torch.autograd.backward(M.loss(out.float()))
    except Exception as exc:
        raise AssertionError(
            f"under torch.autocast('cpu', dtype=torch.bfloat16) the network raised "
            f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}") from exc
    tg.check_output(W, X, what="the weight under autocast")
    for name, p in M.originals(net):
        if p.grad is not None and num.first_nonfinite(p.grad) is not None:
            raise AssertionError(f"under autocast, the gradient of {name} is not finite\n"
                                 f"{num.show('gradient', p.grad)}")
    changed = {k: (dtypes[k], v.dtype) for k, v in net.state_dict().items()
               if k in dtypes and v.dtype != dtypes[k]}
    if changed:
        k, (before, after) = next(iter(changed.items()))
        raise AssertionError(
            f"after a forward under autocast, {k} is {after} (it was {before}): the "
            f"parametrization assigned an autocast result to its state instead of "
            f"updating it in place")
    try:
        net(x)
    except Exception as exc:
        raise AssertionError(f"after a forward under autocast, a float32 forward raised "
                             f"{type(exc).__name__}: {exc}") from exc
    if check is not None:
        check_weight(check, W.detach().to(DTYPE), "the weight computed under autocast, "
                     "rounded to bfloat16")
