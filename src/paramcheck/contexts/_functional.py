"""``torch.func``: ``functional_call`` with a dict of originals is the module, and ``vmap``
over a stack of originals is a Python loop.

``torch.func.functional_call(net, {name: tensor}, (x,))`` runs ``net`` with the given
tensors in place of its parameters and buffers. For a parametrized weight the names to
pass are the originals' (``layer.parametrizations.weight.original``); the weight is then
computed from them (pull pytorch#186565 discusses the plain name). The law checks that
this gives the output and gradients of a network whose originals hold the same values,
and that ``torch.func.vmap`` over the originals of ``X`` and ``X2``, stacked, gives, item
by item, what a loop over them gives. Buffers (spectral norm's ``_u``, ``_v``) are passed
as fresh copies to every call, so a forward that updates them in place starts each
evaluation from the same state.

Tolerances: ``functional_call`` runs the very same computation: ``SAME_COMPUTATION_SLACK``.
``vmap`` batches the kernels (a batched solve, a batched matmul), the same map with
other blocking: ``MAP_SLACK``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.contexts import _model as M


def functional(parametrization: object, X: Tensor, X2: Tensor, *,
               implementation: object = "torch") -> None:
    """``functional_call`` with the originals of ``X2`` equals a network built at ``X2``;
    ``vmap`` over originals equals a loop."""
    impl = tg.implementation(implementation)
    target = M.target_of(parametrization)
    x = M.probe(X)
    n = num.inner_dim(X.shape)
    e = num.eps(X.dtype)
    net = M.build(target, X, impl)
    twin = M.build(target, X2, impl)
    buffers = _buffers(twin)
    want, want_grads = M.forward_backward(twin, x)
    names = [name for name, _ in M.originals(net)]
    given = {name: p.detach().clone().requires_grad_(True)
             for name, p in M.originals(twin)}
    try:
        out = torch.func.functional_call(net, {**buffers, **given}, (x,))
    except Exception as exc:
        raise AssertionError(f"torch.func.functional_call(net, originals, (x,)) raised "
                             f"{type(exc).__name__}: {exc}") from exc
    num.assert_close("functional_call(net, originals of X2)", "a network built at X2: net(x)",
                     out.detach(), want, n, e)
    got_grads = torch.autograd.grad(M.loss(out), list(given.values()), allow_unused=True)
    M.compare("through functional_call", "in the module", list(got_grads), want_grads, names,
              n, e, num.SAME_COMPUTATION_SLACK)
    stacked = {name: torch.stack([a.detach(), b.detach()]) for (name, a), (_, b)
               in zip(M.originals(net), M.originals(twin), strict=True)}
    _vmap(net, stacked, buffers, x, n, e)


def _buffers(net: torch.nn.Module) -> dict[str, Tensor]:
    return {k: b.detach().clone() for k, b in net.named_buffers()}


def _vmap(net: torch.nn.Module, stacked: dict[str, Tensor], buffers: dict[str, Tensor],
          x: Tensor, n: int, e: float) -> None:
    def one(originals: dict[str, Tensor]) -> Tensor:
        fresh = {k: b.clone() for k, b in buffers.items()}
        out: Tensor = torch.func.functional_call(net, {**fresh, **originals}, (x,))
        return out

    count = next(iter(stacked.values())).shape[0]
    with torch.no_grad():
        loop = [one({k: v[i] for k, v in stacked.items()}) for i in range(count)]
        try:
            batched = torch.func.vmap(one)(stacked)
        except Exception as exc:
            raise AssertionError(
                f"torch.func.vmap over stacked originals raised {type(exc).__name__}: "
                f"{' '.join(str(exc).split())[:400]}") from exc
    for i, item in enumerate(loop):
        num.assert_close(f"vmap over stacked originals, item {i}",
                         f"functional_call with original {i} alone", batched[i], item, n, e,
                         slack=num.MAP_SLACK)
