"""``torch.compile``: the compiled network gives the eager value and gradients, compiles
as one graph, and does not recompile as it trains.

Three laws, because they fail for different reasons and are fixed by different people:

- :func:`compiled`: ``torch.compile(net, backend=...)`` runs, and its output and the
  gradients reaching the originals equal eager's within ``MAP_SLACK·n·eps·scale``.
  Compiled code is the same map evaluated with other rounding (aot_autograd's
  decompositions, inductor's fused kernels and reordered reductions), so the tolerance
  is that of two evaluations of a composite map (``paramcheck._numerics.MAP_SLACK``),
  not of the same computation.
- :func:`fullgraph`: ``torch.compile(..., fullgraph=True)`` traces the parametrization
  without a graph break; when it cannot, the failure carries dynamo's own reason (a
  data-dependent branch, ``.item()``, a call into numpy...).
- :func:`recompiles`: ``INSTANCES`` freshly built networks, ``STEPS`` optimizer steps each,
  through one compiled function. A network that recompiles at every step (a Python
  number in the parametrization that changes as it trains) hits dynamo's recompile limit
  (8) and silently falls back to eager; one that recompiles for every fresh instance
  pays a full compile per layer of a model.

Compilation is the expensive part (≈ 4 s with ``aot_eager``, ≈ 20 s with ``inductor``
for a tiny module on two cores), so :func:`compiled` can share its artefact across
examples: pass the same dict as ``artefacts`` and the network is compiled once per
(implementation, backend, shape, dtype, device), with shapes static; each example then
loads its own state (originals and buffers) into it. Every law compiles a new code
object, so one law's cache entries never count toward another's recompile limit, and
the recompile limit is raised inside the laws so that a fallback to eager can never
pass for a compiled run.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch._dynamo
from torch import Tensor, nn
from torch._dynamo.testing import CompileCounterWithBackend

from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.contexts import _model as M

#: Fresh networks and optimizer steps of :func:`recompiles` (the issue's 8 and 3).
INSTANCES = 8
STEPS = 3
#: Learning rate of the SGD steps in :func:`recompiles`: small, the steps only need to
#: change the originals' values.
LR = 1e-2
#: Backends checked on the CPU (gcc is needed for inductor).
BACKENDS = ("aot_eager", "inductor")


def _run(net: nn.Module, x: Tensor) -> Tensor:
    out: Tensor = net(x)
    return out


def fresh_code(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of ``fn`` with its own code object, hence its own dynamo cache."""
    return types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__)


def _check_backend(backend: str) -> None:
    if backend not in torch._dynamo.list_backends(exclude_tags=()):
        raise ValueError(f"unknown torch.compile backend {backend!r}; use one of "
                         f"{', '.join(BACKENDS)}")


@dataclass
class _Artefact:
    net: M.Net
    step: Callable[..., Tensor]
    layout: list[tuple[str, tuple[int, ...], torch.dtype]]


def _layout(net: nn.Module) -> list[tuple[str, tuple[int, ...], torch.dtype]]:
    return [(k, tuple(v.shape), v.dtype) for k, v in net.state_dict().items()]


def _compile_error(backend: str, exc: Exception) -> AssertionError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return AssertionError(
        f"torch.compile(backend={backend!r}) raised {type(exc).__name__} on a network that "
        f"runs in eager mode: {first}")


def compiled(parametrization: object, X: Tensor, *, implementation: object = "torch",
             backend: str = "aot_eager", artefacts: dict[Any, Any] | None = None) -> None:
    """The compiled network's output and gradients equal eager's.

    ``artefacts``: a dict kept by the caller across examples *of one parametrization*;
    the compiled network is stored there and reused (its state is overwritten by each
    example's). Without it, every call compiles afresh.
    """
    _check_backend(backend)
    impl = tg.implementation(implementation)
    target = M.target_of(parametrization)
    eager = M.build(target, X, impl)
    x = M.probe(X)
    key = (impl.__name__, backend, tuple(X.shape), X.dtype, str(X.device))
    art = None if artefacts is None else artefacts.get(key)
    if art is None or art.layout != _layout(eager):
        net = M.build(target, X, impl)
        step = torch.compile(fresh_code(_run), backend=backend, dynamic=False)
        art = _Artefact(net, step, _layout(net))
        if artefacts is not None:
            artefacts[key] = art
    state = M.state_of(eager)
    art.net.load_state_dict(state)

    want, want_grads = M.forward_backward(eager, x)
    art.net.zero_grad(set_to_none=True)
    with torch._dynamo.config.patch(recompile_limit=64, fail_on_recompile_limit_hit=True):
        try:
            out = art.step(art.net, x)
        except Exception as exc:
            raise _compile_error(backend, exc) from exc
    torch.autograd.backward(M.loss(out))
    got_grads = [None if g is None else g.detach() for g in M.grads(art.net)]
    n = num.inner_dim(X.shape)
    e = num.eps(num.coarsest(X.dtype))
    what = f"compiled ({backend})"
    num.assert_close(f"net(x) {what}", "net(x) in eager mode", out.detach(), want, n, e,
                     slack=num.MAP_SLACK)
    names = [name for name, _ in M.originals(eager)]
    M.compare(f"the gradient {what}", "the gradient in eager mode", got_grads, want_grads,
              names, n, e, num.MAP_SLACK)


def fullgraph(parametrization: object, X: Tensor, *, implementation: object = "torch") -> None:
    """``torch.compile(fullgraph=True)`` traces the network as one graph.

    Dynamo's tracing does not depend on the backend; the ``eager`` backend runs the
    captured graph as is, so this law costs one trace.
    """
    impl = tg.implementation(implementation)
    net = M.build(M.target_of(parametrization), X, impl)
    step = torch.compile(fresh_code(_run), backend="eager", fullgraph=True, dynamic=False)
    try:
        step(net, M.probe(X))
    except torch._dynamo.exc.Unsupported as exc:
        reason = " ".join(str(exc).split())[:600]
        raise AssertionError(
            f"torch.compile(fullgraph=True) cannot trace the parametrization as one graph; "
            f"dynamo says: {reason}") from exc


@dataclass
class Recompiles:
    """What :func:`recompile_counts` measured."""

    frames: int
    across_instances: int
    across_steps: int
    graph_breaks: int
    break_reasons: list[str] = field(default_factory=list)


def recompile_counts(parametrization: object, X: Tensor, *, implementation: object = "torch",
                     backend: str = "eager", instances: int = INSTANCES,
                     steps: int = STEPS) -> Recompiles:
    """Frames compiled over ``instances`` fresh networks × ``steps`` SGD steps each.

    Whether to recompile is dynamo's decision (its guards), whatever the backend, so the
    default backend is ``eager`` (dynamo's graph run as is), which costs a trace per frame
    instead of a compile. Counted with dynamo's ``CompileCounterWithBackend`` (one count per
    compiled frame);
    a frame compiled at the first step of instance ``i > 0`` is an across-instance
    recompile, one compiled at a later step an across-step recompile. Graph breaks come
    from ``torch._dynamo.explain`` on the first instance.
    """
    _check_backend(backend)
    impl = tg.implementation(implementation)
    target = M.target_of(parametrization)
    counter = CompileCounterWithBackend(backend)
    step = torch.compile(fresh_code(_run), backend=counter, dynamic=False)
    x = M.probe(X)
    across_instances = across_steps = 0
    first_frames = 0
    limit = instances * (steps + 1) + 8
    with torch._dynamo.config.patch(recompile_limit=limit, fail_on_recompile_limit_hit=True):
        for i in range(instances):
            net = M.build(target, X, impl)
            opt = torch.optim.SGD([p for _, p in M.originals(net)], lr=LR)
            for s in range(steps):
                before = counter.frame_count
                try:
                    out = step(net, x)
                except Exception as exc:
                    raise _compile_error(backend, exc) from exc
                opt.zero_grad(set_to_none=True)
                torch.autograd.backward(M.loss(out))
                opt.step()
                new = counter.frame_count - before
                if i == 0 and s == 0:
                    first_frames = new
                elif s == 0:
                    across_instances += new
                else:
                    across_steps += new
    explained = torch._dynamo.explain(fresh_code(_run))(M.build(target, X, impl), x)
    reasons = [" ".join(str(r.reason).split())[:200] for r in explained.break_reasons]
    return Recompiles(first_frames + across_instances + across_steps, across_instances,
                      across_steps, int(explained.graph_break_count), reasons)


def recompiles(parametrization: object, X: Tensor, *, implementation: object = "torch",
               backend: str = "eager", across_instances: bool = True) -> None:
    """Training a compiled network does not recompile; nor does a fresh instance of it.

    With ``across_instances=False`` only recompiles between steps of one network count.
    """
    counts = recompile_counts(parametrization, X, implementation=implementation,
                              backend=backend)
    if counts.across_steps:
        raise AssertionError(
            f"the compiled network recompiled {counts.across_steps} times over "
            f"{INSTANCES}×{STEPS} optimizer steps: something the parametrization reads "
            f"changes as it trains and dynamo guards on it (a Python number or attribute "
            f"updated in forward?); past torch._dynamo.config.recompile_limit (8) dynamo "
            f"silently runs it in eager mode")
    if across_instances and counts.across_instances:
        raise AssertionError(
            f"each freshly built network recompiled: {counts.across_instances} recompiles "
            f"for {INSTANCES - 1} new instances of the same parametrization, shapes and "
            f"dtype (dynamo's guards tell the instances apart: with torch's parametrize, "
            f"each parametrized module gets its own class, and dynamo guards on the type)")
