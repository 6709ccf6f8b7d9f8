"""Conversions: ``net.to(torch.float64)``, ``net.to(device)`` and ``net.half()`` keep the
parametrization working, with ``torch.__future__.set_swap_module_params_on_conversion``
off and on.

After a conversion the weight must have the new dtype (device), equal the weight before
it (converted), satisfy the constraint at the new dtype's tolerance, and take
gradients into the converted originals. With swapping on, ``module._apply`` swaps the
tensors' contents in place (``torch.utils.swap_tensors``), so an optimizer made before
the conversion still holds the module's parameters; the law checks that too. The other
device is CUDA when present, else ``meta`` (every machine has it: the weight must
follow the module there as well).

Tolerances: float32 → float64 evaluates the map on the same (exactly converted) originals
in a finer precision: the results differ by the float32 evaluation's error,
``MAP_SLACK·n·eps32·scale``. float32 → float16 likewise at ``eps16``. torch lacks
float16 kernels on the CPU for several linear-algebra ops (solve, matrix_exp, eigh):
``half()`` is checked only from float32, when the transform's Spec lists float16 (or it
has no Spec), and skipped when torch says it has no float16 kernel for an op.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import Tensor

from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.contexts import _model as M
from paramcheck.contexts._checks import check_weight

#: What torch says when a kernel has no float16 version on this device.
_NO_HALF_KERNEL = ("not implemented for 'Half'",)


def _other_device() -> str:
    return "cuda" if torch.cuda.is_available() else "meta"


def conversion(parametrization: object, X: Tensor, check: Callable[[Tensor], object] | None
               = None, *, implementation: object = "torch") -> None:
    """``.to(float64)``, ``.to(device)``, ``.half()``, each with swapping off and on."""
    impl = tg.implementation(implementation)
    target = M.target_of(parametrization)
    # .half() is checked where every module of the chain declares float16 (a Spec
    # without it refuses float16 with a clear error, as CayleyMap's linear algebra must).
    half = X.dtype == torch.float32 and all(torch.float16 in s.dtypes for s in target.specs())
    base = M.build(target, X, impl)
    with torch.no_grad():  # read from a copy: a read may update state (spectral norm)
        before = M.weight(copy.deepcopy(base)).detach().clone()
    n = num.inner_dim(X.shape)
    swap_was = torch.__future__.get_swap_module_params_on_conversion()
    results: dict[tuple[str, bool], Tensor] = {}
    try:
        for swap in (False, True):
            torch.__future__.set_swap_module_params_on_conversion(swap)
            for label, convert, dtype in (
                ("to(torch.float64)", lambda m: m.to(torch.float64), torch.float64),
                ("half()", lambda m: m.half(), torch.float16),
                (f"to({_other_device()!r})", lambda m: m.to(_other_device()), X.dtype),
            ):
                if dtype == torch.float16 and not half:
                    continue  # float32 only, and the spec declares no float16 support
                W = _converted(base, label, convert, dtype, swap, X)
                if W is None:
                    continue
                results[(label, swap)] = W
                if W.is_meta:
                    continue
                e = num.eps(num.coarsest(X.dtype, dtype))
                num.assert_close(f"the weight after net.{label} (swap={swap})",
                                 "the weight before, converted", W, before.to(dtype), n, e,
                                 slack=num.MAP_SLACK)
                if check is not None:
                    # Judged at the coarser of the two precisions: state converted up from
                    # float32 (torch's orthogonal keeps an orthogonal ``base``) carries
                    # float32's rounding, which float64 cannot undo.
                    coarse = num.coarsest(X.dtype, dtype)
                    check_weight(check, W.to(coarse),
                                 f"the weight after net.{label} (swap={swap}), in {coarse}")
    finally:
        torch.__future__.set_swap_module_params_on_conversion(swap_was)
    for (label, swap), W in results.items():
        other = results.get((label, not swap))
        if swap and other is not None and not W.is_meta:
            num.assert_close(f"the weight after net.{label} with swapping on",
                             "the same with swapping off", W, other, n, num.eps(W.dtype))


def _converted(base: M.Net, label: str, convert: Callable[[M.Net], object],
               dtype: torch.dtype, swap: bool, X: Tensor) -> Tensor | None:
    net = copy.deepcopy(base)
    params = [p for _, p in M.originals(net)]
    opt = torch.optim.SGD(params, lr=0.0)
    try:
        convert(net)
        W = M.weight(net)
        out = net(M.probe(X).to(device=W.device, dtype=dtype))
    except Exception as exc:
        text = str(exc)
        if dtype == torch.float16 and any(s in text for s in _NO_HALF_KERNEL):
            return None  # torch has no float16 kernel for an op of the map on this device
        raise AssertionError(f"after net.{label} (swap={swap}), reading the weight or a "
                             f"forward raised {type(exc).__name__}: {exc}") from exc
    if W.dtype != dtype:
        raise AssertionError(f"after net.{label} (swap={swap}) the weight is {W.dtype}, not "
                             f"{dtype}: the parametrization keeps state in another dtype")
    if W.is_meta:
        return W
    torch.autograd.backward(M.loss(out))
    for name, p in M.originals(net):
        if p.grad is None:
            raise AssertionError(f"after net.{label} (swap={swap}) no gradient reaches {name}")
    if swap:
        held = opt.param_groups[0]["params"]
        now = [p for _, p in M.originals(net)]
        if any(a is not b for a, b in zip(held, now, strict=True)):
            raise AssertionError(
                f"with swapping on, net.{label} replaced the original tensors instead of "
                f"swapping them in place: an optimizer made before the conversion no "
                f"longer holds the module's parameters")
    return W.detach()
