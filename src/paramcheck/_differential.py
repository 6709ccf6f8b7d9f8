"""The ``differential`` property's machinery: run one chain through two implementations.

:func:`exercise` registers, reads, differentiates, caches, assigns and removes with one
parametrize implementation and records every outcome; :func:`compare` walks two such
records side by side and fails at the first difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import torch
from torch import Tensor, nn

from paramcheck import _numerics as num
from paramcheck import _target as tg


def exercise(impl: Any, chain: Sequence[nn.Module], X: Tensor) -> dict[str, object]:
    """Register, read, differentiate, cache, assign and remove with one implementation.

    Each step's outcome is a tensor, a list of keys, or ``("raised", ExceptionType)``;
    after the first exception, later steps are not run.
    """
    out: dict[str, object] = {}
    try:
        h = tg.Host(tg.first_image(chain, X))
    except AssertionError as exc:
        return {"first parametrization": ("raised", "AssertionError", str(exc)[:200])}

    def step(name: str, fn: Callable[[], object]) -> bool:
        try:
            out[name] = fn()
            return True
        except Exception as exc:
            out[name] = ("raised", type(exc).__name__, str(exc).splitlines()[0][:200])
            return False

    def register() -> None:
        for m in chain:
            impl.register_parametrization(h, "weight", m)

    if not step("register_parametrization", register):
        return out
    if not step("weight", lambda: h.weight.detach().clone()):
        return out
    step("state_dict keys", lambda: list(h.state_dict().keys()))
    step("state_dict values", lambda: [v.detach().clone() for v in h.state_dict().values()])

    def grads() -> list[object]:
        params = [p for p in h.parameters() if p.requires_grad]
        loss = (h.weight * tg.gradient_pattern(X)).sum()
        gs = torch.autograd.grad(loss, params, allow_unused=True) if loss.requires_grad else []
        return [None if g is None else g.detach() for g in gs]

    step("gradients", grads)

    def cached_weight() -> Tensor:
        with impl.cached():
            return h.weight.detach().clone()

    step("weight inside cached()", cached_weight)
    if tg.has_right_inverse(chain) is None:

        def assign() -> Tensor:
            cast(Any, h).weight = out["weight"]
            return h.weight.detach().clone()

        step("weight after assigning it to itself", assign)
    step("is_parametrized", lambda: impl.is_parametrized(h, "weight"))

    def remove() -> Tensor:
        impl.remove_parametrizations(h, "weight", leave_parametrized=True)
        return h.weight.detach().clone()

    step("weight after remove_parametrizations", remove)
    return out


def seeded(run: Callable[[], dict[str, object]]) -> dict[str, object]:
    """Run with torch's global generator at a fixed seed, restored afterwards.

    Parametrizations may draw from it (spectral norm's initial vectors, torch's
    orthogonal completing a non-square basis with random columns); both implementations
    must see the same draws for their results to be comparable.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return run()


def compare(ref: dict[str, object], base: dict[str, object], ref_name: str, base_name: str,
            n: int, e: float) -> None:
    """Fail at the first step where the two records differ (values to
    ``SAME_COMPUTATION_SLACK·n·eps·scale``; exceptions by type)."""
    for key in [*base, *(k for k in ref if k not in base)]:
        a, b = ref.get(key, ("not run",)), base.get(key, ("not run",))
        if isinstance(a, tuple) or isinstance(b, tuple):
            if _kind(a) != _kind(b):
                raise AssertionError(
                    f"{key}: {ref_name} {_outcome(a)}, but {base_name} {_outcome(b)}")
            continue
        _compare_values(key, ref_name, base_name, a, b, n, e)


def _kind(value: object) -> tuple[object, ...]:
    """("raised", ExceptionName), ("not run",), or ("returned",)."""
    if isinstance(value, tuple):
        return value[:2]
    return ("returned",)


def _outcome(value: object) -> str:
    if isinstance(value, tuple) and value and value[0] == "raised":
        return f"raised {value[1]}: {value[2]}"
    if isinstance(value, tuple):
        return "did not get that far"
    return "returned normally"


def _compare_values(key: str, ref_name: str, base_name: str, a: object, b: object,
                    n: int, e: float) -> None:
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise AssertionError(
                f"{key}: {ref_name} gives shape {tuple(a.shape)} {a.dtype}, {base_name} "
                f"gives {tuple(b.shape)} {b.dtype}")
        num.assert_close(f"{key} under {ref_name}", f"{key} under {base_name}", a, b, n, e)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _compare_values(f"{key}[{i}]", ref_name, base_name, x, y, n, e)
    elif isinstance(a, Tensor) or isinstance(b, Tensor) or a != b:
        raise AssertionError(f"{key}: {ref_name} gives {_brief(a)}, {base_name} gives "
                             f"{_brief(b)}")


def _brief(value: object) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, list) and any(isinstance(v, Tensor) for v in value):
        return f"{len(value)} tensors"
    return repr(value)
