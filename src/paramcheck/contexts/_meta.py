"""Meta-device initialisation: build on ``meta``, ``to_empty``, re-initialise through
``right_inverse``.

Large models are built without memory (``with torch.device("meta"): model = ...``), then
materialised with ``model.to_empty(device=...)``, whose tensors hold whatever the
allocator returns, and initialised afresh. For a parametrized weight the way to
initialise is assignment, ``layer.weight = A``, which runs ``right_inverse`` and writes
every original (and whatever state ``right_inverse`` sets, as torch's orthogonal sets
``base``). The law:

1. builds the network on the meta device while a ``TorchDispatchMode`` watches every
   operation: none may read or make a tensor outside ``meta`` (nothing touches real
   memory before ``to_empty``);
2. ``to_empty(device=X.device)``, then fills every parameter and buffer with a poison
   (NaN; False for masks; -1 for integers): what uninitialised memory may hold, made
   deterministic, so that state ``right_inverse`` does not reset shows up at once rather
   than by luck;
3. assigns ``A = forward(X)`` (computed by a network built normally) to the weight;
4. requires the weight to be finite, to satisfy ``check``, and to equal ``A`` within
   ``MAP_SLACK·n·eps·scale`` when ``right_inverse`` is exact (``exact=True``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck.contexts import _model as M
from paramcheck.contexts._checks import check_weight


class _RealMemory(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Records the first operation that reads or makes a tensor outside ``meta``."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.first: str | None = None

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        if self.first is None:
            for t in tree_leaves((args, kwargs, out)):
                if isinstance(t, Tensor) and t.device.type != "meta":
                    self.first = f"{func} on a {t.device.type} tensor of shape {tuple(t.shape)}"
                    break
        return out


def _poison(t: Tensor) -> float | bool | int:
    """What uninitialised memory is taken to hold: NaN, False, or -1 by dtype."""
    if t.is_floating_point() or t.is_complex():
        return float("nan")
    return False if t.dtype == torch.bool else -1


def _poisoned(t: Tensor) -> bool:
    if not t.numel():
        return False
    if t.is_floating_point() or t.is_complex():
        return bool(t.isnan().any())
    return bool((t == _poison(t)).all())


def meta_init(parametrization: object, X: Tensor, check: Callable[[Tensor], object] | None
              = None, *, implementation: object = "torch", exact: bool = True) -> None:
    """Meta build, ``to_empty``, re-initialisation through ``right_inverse`` (see module)."""
    impl = tg.implementation(implementation)
    target = M.target_of(parametrization)
    chain = target.fresh(X)
    missing = tg.has_right_inverse(chain)
    if missing is not None:
        raise tg.NotApplicable(f"re-initialising after to_empty assigns the weight through "
                               f"right_inverse, and {missing} has none")
    reference = M.build(target, X, impl)
    with torch.no_grad():
        A = M.weight(reference).detach().clone()
    meta_X = X.detach().to("meta")
    modules = target.fresh(meta_X)
    watch = _RealMemory()
    try:
        with torch.device("meta"), watch:
            net = M.Net(tg.Host(meta_X))
            for m in modules:
                impl.register_parametrization(net.layer, "weight", m, unsafe=True)
    except Exception as exc:
        raise AssertionError(f"building the network on the meta device raised "
                             f"{type(exc).__name__}: {exc}") from exc
    if watch.first is not None:
        raise AssertionError(f"building the network on the meta device touched real memory: "
                             f"{watch.first}")
    net.to_empty(device=X.device)
    with torch.no_grad():
        for t in [*net.parameters(), *net.buffers()]:
            t.fill_(_poison(t))
        try:
            net.layer.weight = A
        except NotImplementedError as exc:
            raise tg.NotApplicable(f"right_inverse raised NotImplementedError: {exc}") from exc
        except Exception as exc:
            raise AssertionError(
                f"after to_empty (every tensor poisoned, as uninitialised memory may hold), "
                f"assigning the weight through right_inverse raised {type(exc).__name__}: "
                f"{exc}. Does right_inverse read state (a buffer set in __init__) that it "
                f"should set itself?") from exc
        W = M.weight(net)
    stale = [name for name, t in net.state_dict().items() if _poisoned(t)]
    if stale:
        raise AssertionError(
            f"after to_empty and re-initialisation through right_inverse, {', '.join(stale)} "
            f"still hold(s) uninitialised memory (poisoned here: NaN, False or -1): "
            f"right_inverse does not reset it, so a meta-initialised model starts from "
            f"garbage and needs load_state_dict")
    tg.check_output(W, X, what="the weight after meta init")
    if exact:
        num.assert_close("the weight after meta init and assignment of A", "A", W, A,
                         num.inner_dim(X.shape), num.eps(X.dtype), slack=num.MAP_SLACK)
    if check is not None:
        check_weight(check, W, "the weight after meta init")
