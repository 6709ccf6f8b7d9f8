"""The laws a parametrization should obey, one function each.

Every function takes the parametrization (an ``nn.Module``, a sequence of modules applied
in order as stacked registrations would be, or a zero-argument callable returning either)
and a drawn input tensor ``X`` (the original tensor the first parametrization is applied
to), returns None when the law holds, and raises ``AssertionError`` saying what failed,
where, by how much and against which tolerance when it does not. Use them in your own
Hypothesis tests::

    from hypothesis import given
    from paramcheck import properties, strategies

    @given(strategies.matrices((4, 4)))
    def test_my_map(X):
        properties.round_trip([Skew(), MyCayley(4)], X)

Each call works on fresh copies of the modules, converted to ``X``'s dtype and device,
so one call never sees state left by another. A property that does not apply (round_trip
on a chain without ``right_inverse``) raises :class:`NotApplicable`; :func:`paramcheck.verify`
reports it as skipped.

The laws:

- :func:`constraint`: ``forward(X)`` satisfies the constraint;
- :func:`round_trip`: ``forward(right_inverse(A)) = A`` for ``A = forward(X)`` in the image;
- :func:`cache`: inside ``cached()`` the value and gradients equal the uncached ones, the
  parametrization runs once per block, and values are recomputed after the block;
- :func:`gradient`: gradients reach the originals, are finite, and match finite
  differences (``torch.autograd.gradcheck``) in float64;
- :func:`batch`: on a batch, ``forward`` equals ``forward`` of each matrix, stacked;
- :func:`dtype`, :func:`device`: outputs keep the input's dtype and device;
- :func:`state`: a ``state_dict`` round trip into a freshly registered twin, and
  ``copy.deepcopy``, give the same weight;
- :func:`differential`: ``paramcheck.parametrize`` and ``torch.nn.utils.parametrize`` give
  the same weights, gradients and state_dict for the same chain.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from paramcheck import _differential, _gradcheck
from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck import constraints as cons
from paramcheck._target import NotApplicable
from paramcheck.transforms._spec import Spec

__all__ = [
    "PROPERTIES",
    "NotApplicable",
    "batch",
    "cache",
    "constraint",
    "device",
    "differential",
    "dtype",
    "gradient",
    "round_trip",
    "state",
]

#: Property names, in the order verify runs them (the constraint's row takes the
#: constraint's own name in a report).
PROPERTIES: tuple[str, ...] = (
    "constraint",
    "round_trip",
    "cache",
    "gradient",
    "batch",
    "dtype",
    "device",
    "state",
    "differential",
)

#: How many times cache reads the weight inside one cached() block.
CACHE_READS = 3

#: Distance of the second point at which a gradcheck mismatch is confirmed (see gradient).
_JITTER = 1e-3


def _target(parametrization: object) -> tg.Target:
    return parametrization if isinstance(parametrization, tg.Target) else tg.Target(
        parametrization)


def _require_tensor(X: object, name: str = "X") -> Tensor:
    if not isinstance(X, Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(X).__name__}")
    return X


def _evaluate(chain: Sequence[nn.Module], X: Tensor) -> tuple[tuple[Tensor, ...], Tensor]:
    """The originals for ``X`` and ``forward(X)``, checked for shape and finiteness."""
    origs = tg.originals(chain, X)
    Y = tg.forward(chain, origs)
    tg.check_output(Y, X)
    return origs, Y


# ---------------------------------------------------------------------------- constraint


def resolve_constraint(check: object, spec: Spec | None = None
                       ) -> tuple[str, Callable[[Tensor], cons.Check]]:
    """``(label, check function)`` for a constraint name or a user predicate.

    ``unit_norm`` measures the norm over ``spec.norm_dims`` when the transform's Spec
    says which dimensions it normalizes.
    """
    if isinstance(check, str):
        fn = cons.get(check)
        if check == "unit_norm" and spec is not None:
            dims = spec.norm_dims
            return check, lambda A: cons.unit_norm(A, dim=dims)
        return check, fn
    if callable(check):
        wrapped = cons.from_callable(check)
        return wrapped.__name__, wrapped
    raise TypeError(
        f"a constraint is a name from paramcheck.constraints ({', '.join(cons.names())}) "
        f"or a callable taking the output tensor and returning a bool; got "
        f"{type(check).__name__}"
    )


def constraint(parametrization: object, X: Tensor, check: object) -> None:
    """``forward(X)`` satisfies ``check`` (a constraint name or a predicate)."""
    _require_tensor(X)
    target = _target(parametrization)
    label, fn = resolve_constraint(check, target.spec_for_constraint())
    chain = target.fresh(X)
    _, Y = _evaluate(chain, X)
    result = fn(Y)
    if not result.ok:
        raise AssertionError(
            f"forward(X) is not {label}: {result.message}\n{num.show('forward(X)', Y)}")


# ---------------------------------------------------------------------------- round trip


def round_trip(parametrization: object, X: Tensor) -> None:
    """For ``A = forward(X)``, ``forward(right_inverse(A))`` equals ``A``.

    This is the law of a right inverse on the image of ``forward``, and the right law for
    projections too (for Pruning, ``right_inverse`` may be the identity: ``forward`` of a
    pruned matrix is itself).

    Tolerance ``MAP_SLACK·n·eps·scale`` (see :mod:`paramcheck._numerics`): both maps are
    computed with errors of order n·eps, each amplified by the other's condition number,
    which the input domains keep small; ``scale`` is the largest entry of ``A`` and of
    ``right_inverse(A)``, since the errors of products scale with their operands.
    """
    _require_tensor(X)
    chain = _target(parametrization).fresh(X)
    missing = tg.has_right_inverse(chain)
    if missing is not None:
        raise NotApplicable(f"round_trip needs right_inverse, and {missing} has none")
    _, A = _evaluate(chain, X)
    A = A.detach()
    R = tg.right_inverse(chain, A)
    for i, r in enumerate(R):
        bad = num.first_nonfinite(r)
        if bad is not None:
            raise AssertionError(
                f"right_inverse(A) is not finite: entry {list(bad)} of output {i} is "
                f"{float(r[bad])}, for A = forward(X)\n{num.show('A', A)}")
    with torch.no_grad():
        B = tg.forward(chain, R)
    tg.check_output(B, X, what="forward(right_inverse(A))")
    n = num.inner_dim(X.shape)
    e = num.eps(num.coarsest(X.dtype, A.dtype, B.dtype))
    scale = num.magnitude(A, *R)
    tol = num.MAP_SLACK * n * e * scale
    gap = num.largest_gap(B, A)
    if not gap.value <= tol:
        raise AssertionError(
            f"forward(right_inverse(A)) differs from A = forward(X) by {gap.value:.3g} at "
            f"{gap.where()} (A has {gap.right!r}, forward(right_inverse(A)) has "
            f"{gap.left!r}); {num.tolerance_text(num.MAP_SLACK, n, e, scale, tol)}\n"
            f"{num.show('A', A)}\n{num.show('right_inverse(A)', R[0])}\n"
            f"{num.show('forward(right_inverse(A))', B)}")


# -------------------------------------------------------------------------------- cache


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
    _require_tensor(X)
    impl = tg.implementation(implementation)
    chain = _target(parametrization).fresh(X)
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
                raise AssertionError(
                    f"inside cached(), {CACHE_READS} reads of the weight ran "
                    f"{type(module).__name__}.forward {calls_k} times; a cached block runs "
                    f"each parametrization once")
        num.assert_close("the weight inside cached()", "the uncached weight",
                         cached_reads[0].detach(), plain, n, e)
        for i, (gc, gp) in enumerate(zip(cached_grads, plain_grads, strict=True)):
            if (gc is None) != (gp is None):
                raise AssertionError(
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
            raise AssertionError(
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
                moved = tg.read_weight(h, X2, what="weight after updating the original")
                num.assert_close("the weight after an in-place update of the original to X2",
                                 "an uncached read", moved.detach(), expected, n, e)
    finally:
        remove()


# ----------------------------------------------------------------------------- gradient


def gradient(parametrization: object, X: Tensor, *, domain: str = "matrix") -> None:
    """Gradients reach every original, are finite, and match finite differences.

    The first two are checked in ``X``'s dtype on ``loss = Σ G·forward(X)`` with a fixed
    irregular ``G``; the third with ``torch.autograd.gradcheck`` in float64 (on a float64
    copy of ``X`` and of the chain), perturbing inside ``domain`` (see ``_gradcheck.tangent``).
    A gradcheck mismatch is confirmed at a second point ``X + δ`` (δ ≈ 1e-3·max|X|)
    before it is reported: where a map has a kink (``|x|`` at 0, ties in a max),
    one-sided derivatives differ and central differences straddle it; hypothesis aims
    at exactly those inputs (zeros, ties), but a kink is not a wrong gradient.
    """
    _require_tensor(X)
    target = _target(parametrization)
    chain = target.fresh(X)
    origs = tuple(o.detach().clone().requires_grad_(True) for o in tg.originals(chain, X))
    Y = tg.forward(chain, origs)
    tg.check_output(Y, X)
    if not Y.requires_grad:
        raise AssertionError(
            "forward(X) does not depend on the original through autograd, so no gradient "
            "reaches it: is there a .detach(), .data, torch.no_grad() or a round trip "
            "through Python numbers in forward?")
    G = tg.gradient_pattern(Y)
    grads = torch.autograd.grad((Y * G).sum(), origs, allow_unused=True)
    for i, g in enumerate(grads):
        name = "the original" if len(origs) == 1 else f"original{i}"
        if g is None:
            raise AssertionError(f"no gradient reaches {name}: forward does not use it "
                                 f"through autograd")
        bad = num.first_nonfinite(g)
        if bad is not None:
            raise AssertionError(
                f"the gradient of Σ G·forward(X) with respect to {name} is not finite: "
                f"entry {list(bad)} is {float(g[bad])}\n{num.show('gradient', g)}")

    X64 = X.detach().to(torch.float64)
    project = _gradcheck.tangent(domain)
    problem = _gradcheck.check_at(target, X64, project)
    if problem is None:
        return
    delta = _JITTER * max(num.magnitude(X64), 1.0) * tg.gradient_pattern(X64)
    X_near = X64 + delta
    if project is not None:
        X_near = project(X_near)
    if _gradcheck.check_at(target, X_near, project) is None:
        return  # a kink at X, not a wrong gradient
    raise AssertionError(
        f"the gradient does not match finite differences (gradcheck in float64, "
        f"confirmed at a second point {_JITTER:g}·max|X| away): {problem}")


# -------------------------------------------------------------------------------- batch


def batch(parametrization: object, X: Tensor) -> None:
    """``forward`` of a batch equals ``forward`` of each of its items, stacked.

    ``X``'s first dimension is the batch. The originals are set up once for the whole
    batch (as one registration on a batched weight would), then forward runs on the
    batch and on each slice with the same modules. Tolerance ``MAP_SLACK·n·eps·scale``:
    batched kernels may block the work differently, within the map's rounding.
    """
    _require_tensor(X)
    if X.ndim < 1 or X.shape[0] < 1:
        raise NotApplicable(f"batch needs an input whose first dimension is a batch, got "
                            f"shape {tuple(X.shape)}")
    chain = _target(parametrization).fresh(X)
    origs, Y = _evaluate(chain, X)
    n = num.inner_dim(X.shape)
    e = num.eps(num.coarsest(X.dtype, Y.dtype))
    with torch.no_grad():
        for i in range(X.shape[0]):
            Yi = tg.forward(chain, tuple(o[i] for o in origs))
            tg.check_output(Yi, X[i], what=f"forward(X[{i}])")
            scale = num.magnitude(Y[i], Yi)
            tol = num.MAP_SLACK * n * e * scale
            gap = num.largest_gap(Y[i], Yi)
            if not gap.value <= tol:
                raise AssertionError(
                    f"forward(X)[{i}] on the batch differs from forward(X[{i}]) alone by "
                    f"{gap.value:.3g} at {gap.where()} ({gap.left!r} vs {gap.right!r}); "
                    f"{num.tolerance_text(num.MAP_SLACK, n, e, scale, tol)}: does forward mix "
                    f"the items of a batch (X.T instead of X.mT, a norm over the whole "
                    f"tensor)?\n{num.show(f'forward(X)[{i}]', Y[i])}\n"
                    f"{num.show(f'forward(X[{i}])', Yi)}")


# ------------------------------------------------------------------------- dtype, device


def dtype(parametrization: object, X: Tensor) -> None:
    """``forward(X)`` and ``right_inverse(forward(X))`` keep ``X``'s dtype."""
    _require_tensor(X)
    chain = _target(parametrization).fresh(X)
    origs = tg.originals(chain, X)
    Y = tg.forward(chain, origs)
    if Y.dtype != X.dtype:
        raise AssertionError(
            f"forward(X) has dtype {Y.dtype}, but X has dtype {X.dtype}: a computation in "
            f"another precision not cast back (X.dtype), or a tensor made without dtype=")
    if tg.has_right_inverse(chain) is None:
        try:
            R = tg.right_inverse(chain, Y.detach())
        except NotApplicable:
            return
        for i, (r, o) in enumerate(zip(R, origs, strict=False)):
            if r.dtype != o.dtype:
                raise AssertionError(
                    f"right_inverse(forward(X)) (output {i}) has dtype {r.dtype}, but the "
                    f"original has dtype {o.dtype}")


_DEVICE_MISMATCH = ("expected device", "same device", "on the expected device")
#: What torch says when data is copied off the meta device: ``.to("cpu")``, ``.cpu()``.
#: Data-dependent code (``.item()``, ``bool(tensor)``) raises something else, which the
#: probe treats as inconclusive.
_COPY_OFF_META = "copy out of meta tensor"


def device(parametrization: object, X: Tensor) -> None:
    """``forward(X)`` (and ``right_inverse``) stay on ``X``'s device.

    Also probes the ``meta`` device, which every machine has: the modules are moved
    there (``.to("meta")``) and run on a meta copy of ``X``. A tensor made in forward
    without ``device=`` lands on the CPU and torch refuses to mix it with meta tensors,
    which reveals, on a CPU-only machine, what would break on a GPU. Errors that only
    mean "this op has no meta kernel" or "data-dependent" are inconclusive, not failures.
    The probe sees what torch's meta kernels check: elementwise ops and solves refuse a
    CPU operand, but matmul lets one through, so a CPU tensor that only enters through
    ``@`` goes unnoticed without a GPU.
    """
    _require_tensor(X)
    target = _target(parametrization)
    chain = target.fresh(X)
    origs = tg.originals(chain, X)
    Y = tg.forward(chain, origs)
    if Y.device != X.device:
        raise AssertionError(f"forward(X) is on {Y.device}, but X is on {X.device}")
    if tg.has_right_inverse(chain) is None:
        try:
            R = tg.right_inverse(chain, Y.detach())
        except NotApplicable:
            R = ()
        for i, r in enumerate(R):
            if r.device != X.device:
                raise AssertionError(f"right_inverse(forward(X)) (output {i}) is on "
                                     f"{r.device}, but X is on {X.device}")
    if X.device.type != "meta":
        _meta_probe(target, X)


def _meta_probe(target: tg.Target, X: Tensor) -> None:
    Xm = X.detach().to("meta")
    try:
        chain = target.fresh(Xm)
    except Exception:
        return  # a module that cannot move to meta: inconclusive
    try:
        Ym = tg.forward(chain, tg.originals(chain, Xm))
        Rm: tuple[Tensor, ...] = ()
        if tg.has_right_inverse(chain) is None:
            Rm = tg.right_inverse(chain, Ym)
    except NotApplicable:
        return
    except AssertionError as exc:
        if any(s in str(exc) for s in _DEVICE_MISMATCH):
            raise AssertionError(
                f"with its modules moved to another device (meta), the parametrization "
                f"still makes or uses a tensor on the CPU: {exc}. Create tensors with "
                f"device=X.device (or register them as buffers) so they follow .to()."
            ) from exc
        if _COPY_OFF_META in str(exc):
            raise AssertionError(
                f"with its modules and input on another device (meta), the parametrization "
                f"moves a tensor to a fixed device (.to(...), .cpu()): {exc}. On a GPU it "
                f"would return a CPU tensor or mix devices."
            ) from exc
        return  # no meta kernel, data-dependent control flow...: inconclusive
    for what, t in (("forward(X)", Ym), *((f"right_inverse output {i}", r)
                                          for i, r in enumerate(Rm))):
        if t.device.type != "meta":
            raise AssertionError(
                f"with its modules and input on the meta device, {what} is on {t.device}: "
                f"the parametrization moves its result to a fixed device")


# -------------------------------------------------------------------------------- state


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
    _require_tensor(X)
    impl = tg.implementation(implementation)
    target = _target(parametrization)
    src = tg.host(target.fresh(X), X, impl, unsafe=True, set_original=True)
    # Copy and save before the first read: a forward that updates state (spectral norm's
    # power iteration) would otherwise leave the source one step ahead of its copies.
    try:
        clone = copy.deepcopy(src)
    except Exception as exc:
        raise AssertionError(f"copy.deepcopy of the parametrized host raised "
                             f"{type(exc).__name__}: {exc}") from exc
    sd = {k: v.detach().clone() for k, v in src.state_dict().items()}

    other = X if X2 is None else X2
    twin = tg.host(target.fresh(other), other, impl, unsafe=True, set_original=True)
    twin_keys, src_keys = list(twin.state_dict().keys()), list(sd.keys())
    if twin_keys != src_keys:
        raise AssertionError(
            f"a freshly registered twin has state_dict keys {twin_keys}, the source has "
            f"{src_keys}")
    try:
        twin.load_state_dict(sd)
    except Exception as exc:
        raise AssertionError(f"twin.load_state_dict(host.state_dict()) raised "
                             f"{type(exc).__name__}: {exc}") from exc

    W = tg.read_weight(src, X).detach()
    n = num.inner_dim(X.shape)
    e = num.eps(num.coarsest(X.dtype, W.dtype))
    copied = tg.read_weight(clone, X, what="copy.deepcopy(host).weight").detach()
    num.assert_close("the weight of copy.deepcopy(host)", "the weight", copied, W, n, e)
    loaded = tg.read_weight(twin, X, what="twin.weight").detach()
    num.assert_close("the weight of a twin loaded from the state_dict", "the source's weight",
                     loaded, W, n, e)


# ------------------------------------------------------------------------- differential


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
    _require_tensor(X)
    target = _target(parametrization)
    ref_impl, base_impl = tg.implementation(reference), tg.implementation(baseline)
    ref = _differential.seeded(lambda: _differential.exercise(ref_impl, target.fresh(X), X))
    base = _differential.seeded(lambda: _differential.exercise(base_impl, target.fresh(X), X))
    n = num.inner_dim(X.shape)
    e = num.eps(X.dtype) if X.is_floating_point() else num.eps(torch.float64)
    _differential.compare(ref, base, ref_impl.__name__, base_impl.__name__, n, e)
