"""The plumbing laws: gradients flow and are right, outputs keep dtype and device.

Each takes the parametrization and a drawn original ``X``, as the value laws do.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from paramcheck import _directional, _gradcheck
from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.errors import CouldNotJudge, NotApplicable, PropertyFailed
from paramcheck.properties._values import as_target, require_tensor

#: Distance of the second point at which a gradcheck mismatch is confirmed (see gradient).
_JITTER = 1e-3


def _finite_differences(target: tg.Target, X64: Tensor,
                        project: Callable[[Tensor], Tensor] | None) -> str | None:
    """gradcheck's whole Jacobian up to ``GRADCHECK_LIMIT`` input entries; beyond (131072
    entries at 256×256, two forward calls each), finite differences along a few random
    directions (``paramcheck._directional``), a few dozen forward calls at any size."""
    if X64.numel() <= _gradcheck.GRADCHECK_LIMIT:
        return _gradcheck.check_at(target, X64, project)
    spec = target.spec_for_inputs()
    along = _directional.tangent(spec.inputs) if spec is not None else None
    return _directional.check_at(target, X64, project, along or project)


def gradient(parametrization: object, X: Tensor, *, domain: str = "matrix") -> None:
    """Gradients reach every original, are finite, and match finite differences.

    The first two are checked in ``X``'s dtype on ``loss = Σ G·forward(X)`` with a fixed
    irregular ``G``; the third with ``torch.autograd.gradcheck`` in float64 (on a float64
    copy of ``X`` and of the chain), perturbing inside ``domain`` (see ``_gradcheck.tangent``).
    A gradcheck mismatch is confirmed at a second point ``X + δ`` (δ ≈ 1e-3·max|X|)
    before it is reported: where a map has a kink (``|x|`` at 0, ties in a max),
    one-sided derivatives differ and central differences straddle it; hypothesis aims
    at exactly those inputs (zeros, ties), but a kink is not a wrong gradient. Where
    forward *jumps* (a sign that flips where an entry crosses 0), the directional check
    says so (:class:`~paramcheck.errors.CouldNotJudge`, see ``paramcheck._directional``):
    at ``X`` the second point is tried; at the second point too, the law cannot judge
    this input and says so, never a failure (the engine then draws another).
    """
    require_tensor(X)
    target = as_target(parametrization)
    chain = target.fresh(X)
    origs = tuple(o.detach().clone().requires_grad_(True) for o in tg.originals(chain, X))
    Y = tg.forward(chain, origs)
    tg.check_output(Y, X)
    if not Y.requires_grad:
        raise PropertyFailed(
            "forward(X) does not depend on the original through autograd, so no gradient "
            "reaches it: is there a .detach(), .data, torch.no_grad() or a round trip "
            "through Python numbers in forward?")
    G = tg.gradient_pattern(Y)
    grads = torch.autograd.grad((Y * G).sum(), origs, allow_unused=True)
    for i, g in enumerate(grads):
        name = "the original" if len(origs) == 1 else f"original{i}"
        if g is None:
            raise PropertyFailed(f"no gradient reaches {name}: forward does not use it "
                                 f"through autograd")
        bad = num.first_nonfinite(g)
        if bad is not None:
            raise PropertyFailed(
                f"the gradient of Σ G·forward(X) with respect to {name} is not finite: "
                f"entry {list(bad)} is {float(g.detach()[bad])}", law="gradient",
                location=str(list(bad)), tensors={"gradient": g})

    X64 = X.detach().to(torch.float64)
    project = _gradcheck.tangent(domain)
    try:
        problem = _finite_differences(target, X64, project)
    except CouldNotJudge as jump:
        problem = str(jump)  # a jump at X itself: the second point decides
    if problem is None:
        return
    delta = _JITTER * max(num.magnitude(X64), 1.0) * tg.gradient_pattern(X64)
    X_near = X64 + delta
    if project is not None:
        X_near = project(X_near)
    if _finite_differences(target, X_near, project) is None:
        return  # a kink at X, not a wrong gradient
    raise PropertyFailed(
        f"the gradient does not match finite differences (gradcheck in float64, "
        f"confirmed at a second point {_JITTER:g}·max|X| away): {problem}")


def dtype(parametrization: object, X: Tensor) -> None:
    """``forward(X)`` and ``right_inverse(forward(X))`` keep ``X``'s dtype."""
    require_tensor(X)
    chain = as_target(parametrization).fresh(X)
    origs = tg.originals(chain, X)
    Y = tg.forward(chain, origs)
    if Y.dtype != X.dtype:
        raise PropertyFailed(
            f"forward(X) has dtype {Y.dtype}, but X has dtype {X.dtype}: a computation in "
            f"another precision not cast back (X.dtype), or a tensor made without dtype=")
    if tg.has_right_inverse(chain) is None:
        try:
            R = tg.right_inverse(chain, Y.detach())
        except NotApplicable:
            return
        for i, (r, o) in enumerate(zip(R, origs, strict=False)):
            if r.dtype != o.dtype:
                raise PropertyFailed(
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
    require_tensor(X)
    target = as_target(parametrization)
    chain = target.fresh(X)
    origs = tg.originals(chain, X)
    Y = tg.forward(chain, origs)
    if Y.device != X.device:
        raise PropertyFailed(f"forward(X) is on {Y.device}, but X is on {X.device}")
    if tg.has_right_inverse(chain) is None:
        try:
            R = tg.right_inverse(chain, Y.detach())
        except NotApplicable:
            R = ()
        for i, r in enumerate(R):
            if r.device != X.device:
                raise PropertyFailed(f"right_inverse(forward(X)) (output {i}) is on "
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
            raise PropertyFailed(
                f"with its modules moved to another device (meta), the parametrization "
                f"still makes or uses a tensor on the CPU: {exc}. Create tensors with "
                f"device=X.device (or register them as buffers) so they follow .to()."
            ) from exc
        if _COPY_OFF_META in str(exc):
            raise PropertyFailed(
                f"with its modules and input on another device (meta), the parametrization "
                f"moves a tensor to a fixed device (.to(...), .cpu()): {exc}. On a GPU it "
                f"would return a CPU tensor or mix devices."
            ) from exc
        return  # no meta kernel, data-dependent control flow...: inconclusive
    for what, t in (("forward(X)", Ym), *((f"right_inverse output {i}", r)
                                          for i, r in enumerate(Rm))):
        if t.device.type != "meta":
            raise PropertyFailed(
                f"with its modules and input on the meta device, {what} is on {t.device}: "
                f"the parametrization moves its result to a fixed device")

