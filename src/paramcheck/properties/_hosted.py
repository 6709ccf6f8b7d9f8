"""The laws of a registered chain: cached reads, state_dict and deepcopy, and agreement of
paramcheck.parametrize with torch.nn.utils.parametrize.

Each registers fresh copies of the chain on a minimal host module through a parametrize
implementation (``torch`` or ``paramcheck``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from paramcheck import _differential
from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.errors import PropertyFailed
from paramcheck.properties._values import as_target, require_tensor

#: How many times cache reads the weight inside one cached() block.
CACHE_READS = 3


@dataclass
class _Counter:
    calls: int = 0

    def __call__(self, *args: Any) -> None:
        self.calls += 1


def _count_forwards(chain: Sequence[nn.Module]) -> tuple[list[_Counter], Callable[[], None]]:
    counters = [_Counter() for _ in chain]
    handles = [m.register_forward_hook(c) for m, c in zip(chain, counters, strict=True)]

    def remove() -> None:
        for h in handles:
            h.remove()

    return counters, remove


def _parameters(h: nn.Module) -> list[Tensor]:
    return [p for p in h.parameters() if p.requires_grad]


def _loss(reads: Sequence[Tensor], G: Tensor) -> Tensor:
    """Σ_k (k+1)·Σ G·W_k over the reads W_k of the weight.

    The weights k + 1 make the reads distinguishable, and their sum (6) exceeds 1, so a
    backward that is not linear in its incoming gradient (clipping, normalizing) gives a
    different result for one read of the summed gradient than for the sum of the reads.
    """
    total = (reads[0] * G).sum()
    for k, W in enumerate(reads[1:], start=2):
        total = total + k * (W * G).sum()
    return total


def _grads(loss: Tensor, params: Sequence[Tensor]) -> list[Tensor | None]:
    if not loss.requires_grad or not params:
        return [None] * len(params)
    return list(torch.autograd.grad(loss, list(params), allow_unused=True))


def _fresh_read(h: nn.Module, X: Tensor, what: str) -> Tensor:
    """The weight an uncached read gives from ``h``'s current state, leaving ``h`` as is.

    Read from a deep copy, so that parametrizations whose forward updates state (spectral
    norm's power iteration in training mode) are compared from the same starting point.
    """
    return tg.read_weight(copy.deepcopy(h), X, what=what).detach()


def _twin_read(target: tg.Target, h: nn.Module, X: Tensor, impl: Any, what: str) -> Tensor:
    """The weight of a freshly built twin of ``h`` holding ``h``'s current tensors.

    The twin registers a new copy of the chain on a host whose weight is the one ``h``
    was registered on (``f1(X)``, computed by a throwaway copy, so that the twin's
    modules run ``right_inverse`` at registration as ``h``'s did, and no ``forward``
    before their first read), then takes every parameter and buffer of ``h``
    (persistent or not: what ``state_dict`` leaves out is the state property's
    business). State a forward keeps anywhere else (a plain attribute set by an earlier
    call) is then the twin's own, from its first read: a forward reading stale state
    disagrees with it, where a deep copy of ``h`` carries the same stale state.
    """
    twin = tg.Host(tg.first_image(target.fresh(X), X))
    for module in target.fresh(X):
        impl.register_parametrization(twin, "weight", module, unsafe=True)
    held = {**dict(h.named_parameters()), **dict(h.named_buffers())}
    with torch.no_grad():
        for name, t in [*twin.named_parameters(), *twin.named_buffers()]:
            source = held.get(name)
            if source is not None and source.shape == t.shape:
                t.copy_(source)
    return tg.read_weight(twin, X, what=what).detach()


def cache(
    parametrization: object,
    X: Tensor,
    X2: Tensor | None = None,
    *,
    implementation: object = "torch",
) -> None:
    """Inside ``cached()`` values and gradients equal the uncached ones; one forward per
    block however many reads; after the block, values are computed afresh.

    The uncached reference reads the weight ``CACHE_READS`` times, each read from its own
    copy of the host taken just before, so that state a forward updates does not count
    as a caching error. ``X2`` (another input from the same domain) is written into the
    original after the block, as an optimizer step would, and the weight must follow it.
    The chain is registered on a host with ``unsafe=True``: registration's own
    consistency checks belong to dtype and differential, not here.
    """
    require_tensor(X)
    impl = tg.implementation(implementation)
    target = as_target(parametrization)
    chain = target.fresh(X)
    h = tg.host(chain, X, impl, unsafe=True, set_original=True)
    G = tg.gradient_pattern(X)
    n = num.inner_dim(X.shape)

    copies = [copy.deepcopy(h) for _ in range(CACHE_READS)]
    plain_reads = [tg.read_weight(c, X, what="weight (uncached)") for c in copies]
    # One loss over all copies: the gradient reaching copy k's parameters is read k's.
    all_params = [p for c in copies for p in _parameters(c)]
    flat = _grads(_loss(plain_reads, G), all_params)
    count = len(_parameters(h))
    plain_grads: list[Tensor | None] = []
    for i in range(count):
        parts = [g for g in flat[i::count] if g is not None]
        plain_grads.append(None if not parts else torch.stack(parts).sum(0))
    plain = plain_reads[0].detach()
    e = num.eps(num.coarsest(X.dtype, plain.dtype))

    counters, remove = _count_forwards(chain)
    try:
        with impl.cached():
            cached_reads = [tg.read_weight(h, X, what="weight (inside cached())")
                            for _ in range(CACHE_READS)]
            cached_grads = _grads(_loss(cached_reads, G), _parameters(h))
            calls = [c.calls for c in counters]
        for module, calls_k in zip(chain, calls, strict=True):
            if calls_k != 1:
                raise PropertyFailed(
                    f"inside cached(), {CACHE_READS} reads of the weight ran "
                    f"{type(module).__name__}.forward {calls_k} times; a cached block runs "
                    f"each parametrization once")
        num.assert_close("the weight inside cached()", "the uncached weight",
                         cached_reads[0].detach(), plain, n, e)
        for i, (gc, gp) in enumerate(zip(cached_grads, plain_grads, strict=True)):
            if (gc is None) != (gp is None):
                raise PropertyFailed(
                    f"parameter {i} of the host gets a gradient "
                    f"{'only inside' if gp is None else 'only outside'} cached()")
            if gc is not None and gp is not None:
                # Not the same computation: backward applies Jᵀ once to the summed
                # incoming gradient instead of once per read, so Jᵀ's own rounding counts,
                # as in any comparison of two evaluations of a map: MAP_SLACK.
                num.assert_close(f"the gradient of parameter {i} through cached()",
                                 f"the sum of the gradients of {CACHE_READS} uncached reads",
                                 gc, gp, n, e, slack=num.MAP_SLACK)

        before = [c.calls for c in counters]
        expected = _fresh_read(h, X, "weight (after the cached() block)")
        after = tg.read_weight(h, X, what="weight (after the cached() block)").detach()
        if any(c.calls == b for c, b in zip(counters, before, strict=True)):
            raise PropertyFailed(
                "after the cached() block, reading the weight did not run the "
                "parametrization again: the block's cached value outlived it")
        num.assert_close("the weight after the cached() block", "an uncached read",
                         after, expected, n, e)
        if X2 is not None:
            originals = tg.host_originals(h)
            if len(originals) == 1 and originals[0].shape == X2.shape:
                with torch.no_grad():
                    originals[0].copy_(X2)
                expected = _fresh_read(h, X2, "weight after updating the original")
                rebuilt = _twin_read(target, h, X, impl,
                                     "the weight of a freshly built twin holding X2")
                moved = tg.read_weight(h, X2, what="weight after updating the original")
                num.assert_close("the weight after an in-place update of the original to X2",
                                 "an uncached read", moved.detach(), expected, n, e)
                num.assert_close(
                    "the weight after an in-place update of the original to X2",
                    "the weight of a freshly built twin holding the same parameters and "
                    "buffers (state kept outside them, as a plain attribute set by an "
                    "earlier call, is stale)", moved.detach(), rebuilt, n, e)
    finally:
        remove()


def state(
    parametrization: object,
    X: Tensor,
    X2: Tensor | None = None,
    *,
    implementation: object = "torch",
) -> None:
    """``state_dict`` round trip into a freshly registered twin, and ``copy.deepcopy``,
    reproduce the weight.

    The twin is a new copy of the chain registered on a host whose weight is ``X2`` (a
    different input from the same domain, so that loading has something to overwrite;
    ``X`` when not given), then loaded, strictly, from the source's state_dict. State a
    parametrization keeps outside its parameters and buffers (a plain attribute) does not
    travel, and the twin's weight then differs.
    """
    require_tensor(X)
    impl = tg.implementation(implementation)
    target = as_target(parametrization)
    src = tg.host(target.fresh(X), X, impl, unsafe=True, set_original=True)
    # Copy and save before the first read: a forward that updates state (spectral norm's
    # power iteration) would otherwise leave the source one step ahead of its copies.
    try:
        clone = copy.deepcopy(src)
    except Exception as exc:
        raise PropertyFailed(f"copy.deepcopy of the parametrized host raised "
                             f"{type(exc).__name__}: {exc}") from exc
    sd = {k: v.detach().clone() for k, v in src.state_dict().items()}

    other = X if X2 is None else X2
    twin = tg.host(target.fresh(other), other, impl, unsafe=True, set_original=True)
    twin_keys, src_keys = list(twin.state_dict().keys()), list(sd.keys())
    if twin_keys != src_keys:
        raise PropertyFailed(
            f"a freshly registered twin has state_dict keys {twin_keys}, the source has "
            f"{src_keys}")
    try:
        twin.load_state_dict(sd)
    except Exception as exc:
        raise PropertyFailed(f"twin.load_state_dict(host.state_dict()) raised "
                             f"{type(exc).__name__}: {exc}") from exc

    W = tg.read_weight(src, X).detach()
    n = num.inner_dim(X.shape)
    e = num.eps(num.coarsest(X.dtype, W.dtype))
    copied = tg.read_weight(clone, X, what="copy.deepcopy(host).weight").detach()
    num.assert_close("the weight of copy.deepcopy(host)", "the weight", copied, W, n, e)
    loaded = tg.read_weight(twin, X, what="twin.weight").detach()
    num.assert_close("the weight of a twin loaded from the state_dict", "the source's weight",
                     loaded, W, n, e)


def differential(parametrization: object, X: Tensor, *, reference: object = "paramcheck",
                 baseline: object = "torch") -> None:
    """``paramcheck.parametrize`` behaves as ``torch.nn.utils.parametrize`` on this chain.

    Both register fresh copies of the chain (``unsafe=False``: the checks are part of the
    behaviour) on a host whose weight is ``X``, then compare, step by step: the weight,
    state_dict keys and values, gradients, the weight inside ``cached()``, assignment
    (when every module has right_inverse), and ``remove_parametrizations``. An exception
    must be matched by an exception of the same type. Values agree to
    ``SAME_COMPUTATION_SLACK·n·eps·scale``: the two run the same computation.
    """
    require_tensor(X)
    target = as_target(parametrization)
    ref_impl, base_impl = tg.implementation(reference), tg.implementation(baseline)
    ref = _differential.seeded(lambda: _differential.exercise(ref_impl, target.fresh(X), X))
    base = _differential.seeded(lambda: _differential.exercise(base_impl, target.fresh(X), X))
    n = num.inner_dim(X.shape)
    e = num.eps(X.dtype) if X.is_floating_point() else num.eps(torch.float64)
    _differential.compare(ref, base, ref_impl.__name__, base_impl.__name__, n, e)
