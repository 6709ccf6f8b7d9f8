"""``torch.export``: the exported network runs and matches eager, inside and outside
``cached()``, and keeps following its originals.

``torch.export.export(net, (x,))`` lifts parameters and buffers to inputs of the graph,
so the exported program is a function of the originals. Exporting inside ``cached()``
must not bake the parametrized weight into the graph as a constant (pytorch#113415,
pytorch#167645: export ignores ``cached()``). So the law exports twice (plain and inside
``cached()``), checks each program against eager at the drawn originals ``X``, then loads
the state of a network built at ``X2`` into the program and checks it against eager at
``X2``: a program that froze the weight keeps giving ``forward(X)``.

Tolerance ``MAP_SLACK·n·eps·scale``: export decomposes some ops, the same map with other
rounding (see :mod:`paramcheck._numerics`).
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor

from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.contexts import _model as M


def exported(parametrization: object, X: Tensor, X2: Tensor | None = None, *,
             implementation: object = "torch") -> None:
    """``torch.export`` of the network matches eager at ``X`` and, after loading, at ``X2``."""
    impl = tg.implementation(implementation)
    target = M.target_of(parametrization)
    x = M.probe(X)
    n = num.inner_dim(X.shape)
    e = num.eps(X.dtype)
    later = M.build(target, X if X2 is None else X2, impl)
    # Every reference runs on a copy: a forward may update state (spectral norm's power
    # iteration in training mode), and the program must start from the same state.
    state = M.state_of(later)
    with torch.no_grad():
        want_later = copy.deepcopy(later)(x)
    for where in ("outside cached()", "inside cached()"):
        net = M.build(target, X, impl)
        with torch.no_grad():
            want = copy.deepcopy(net)(x)
        try:
            if where == "inside cached()":
                with impl.cached():
                    program = torch.export.export(net, (x,))
            else:
                program = torch.export.export(net, (x,))
            module = program.module()
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise AssertionError(f"torch.export.export of the network {where} raised "
                                 f"{type(exc).__name__}: {first}") from exc
        with torch.no_grad():
            got = module(x)
        num.assert_close(f"the program exported {where}", "eager net(x)", got, want, n, e,
                         slack=num.MAP_SLACK)
        if X2 is None:
            continue
        missing = [k for k in state if k not in module.state_dict()]
        if missing:
            raise AssertionError(
                f"the program exported {where} has no input for {missing}: the originals "
                f"were folded into the graph as constants")
        module.load_state_dict(state, strict=False)
        with torch.no_grad():
            got_later = module(x)
        num.assert_close(
            f"the program exported {where}, after loading the originals of X2",
            "eager net(x) at X2", got_later, want_later, n, e, slack=num.MAP_SLACK)
