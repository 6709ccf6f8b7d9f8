"""What the engine checks: a chain of parametrizations, and how it is run.

A *parametrization* handed to paramcheck is one ``nn.Module``, a sequence of modules
(a chain, applied in order as stacked ``register_parametrization`` calls would), or a
zero-argument callable returning either. :class:`Target` normalises the three and hands
out fresh instances for each example, converted to the dtype and device of the input,
so that state left by one example (or by the user) never leaks into the next.

Two ways to run a chain ``[f1, ..., fk]`` on a drawn tensor ``X``:

- *functionally*, by calling the modules: ``forward(X) = fk(...f1(X))`` and
  ``right_inverse(A) = f1.right_inverse(...fk.right_inverse(A))``. The input ``X`` is the
  original tensor. When ``f1.forward`` takes several tensors (a parametrization of
  several originals, as ``weight_norm``), ``X`` is the weight they are computed from by
  ``f1.right_inverse``, exactly as ``register_parametrization`` does.
- *hosted*, registered on a minimal module holding a Parameter of ``X``'s shape, through
  a parametrize implementation (``torch.nn.utils.parametrize`` or
  ``paramcheck.parametrize``): what cache, state and differential need.
"""

from __future__ import annotations

import copy
import importlib
import inspect
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, TypeAlias, cast

import torch
from torch import Tensor, nn

from paramcheck.errors import NotApplicable, UsageError
from paramcheck.transforms._spec import Spec

#: What every entry point accepts as "the parametrization".
Parametrization: TypeAlias = nn.Module | Sequence[nn.Module] | Callable[[], Any]

__all__ = ["NotApplicable", "Parametrization", "Target"]

_TYPE_HINT = (
    "a parametrization is an nn.Module, a sequence of modules (a chain), or a "
    "zero-argument callable returning either"
)


def as_chain(value: object, *, what: str = "parametrization") -> list[nn.Module]:
    """Validate a module or a sequence of modules and return it as a list."""
    if _is_chain(value):
        assert isinstance(value, Sequence | nn.ModuleList | nn.Sequential)
        modules = list(value)
        if not modules:
            raise UsageError(f"the {what} is an empty sequence; give at least one module.")
        for i, m in enumerate(modules):
            if not isinstance(m, nn.Module):
                raise UsageError(
                    f"element {i} of the {what} is a {type(m).__name__}, not an nn.Module; "
                    f"{_TYPE_HINT}."
                )
        return modules
    if isinstance(value, nn.Module):
        return [value]
    raise UsageError(f"got a {type(value).__name__}; {_TYPE_HINT}.")


def _is_chain(value: object) -> bool:
    """The target rule: is ``value`` a chain of parametrizations, or one parametrization?

    A chain is a plain sequence of modules (list, tuple, ``transforms.Chain``), an
    ``nn.Sequential``, or an ``nn.ModuleList``, applied in order as stacked registrations
    would be. A module with its own ``forward`` is ONE parametrization, whatever it
    inherits from: geotorch's manifolds (``PSD``, ``LowRank``...) subclass
    ``nn.ModuleList`` through ``ProductManifold`` and combine their parts in ``forward``.
    """
    if isinstance(value, nn.Sequential):
        return type(value).forward is nn.Sequential.forward
    if isinstance(value, nn.ModuleList):
        return type(value).forward is nn.ModuleList.forward
    if isinstance(value, nn.Module):
        return False
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def describe(modules: Sequence[nn.Module]) -> str:
    """A short readable name: ``Skew`` or ``[Skew, CayleyMap]``."""
    names = [type(m).__name__ for m in modules]
    return names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"


class Target:
    """A parametrization under test, able to produce fresh copies of its chain."""

    def __init__(self, parametrization: object) -> None:
        self._factory: Callable[[], object] | None = None
        if callable(parametrization) and not isinstance(parametrization, nn.Module):
            self._factory = parametrization
            try:
                made = parametrization()
            except Exception as exc:
                raise UsageError(
                    f"calling the parametrization factory {_name_of(parametrization)} raised "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            self._container = made
            self._pristine = as_chain(made, what="factory's result")
        else:
            self._container = parametrization
            self._pristine = as_chain(parametrization)
            try:
                copy.deepcopy(self._pristine)
            except Exception as exc:
                raise UsageError(
                    f"paramcheck copies the parametrization for every example, and "
                    f"copy.deepcopy raised {type(exc).__name__}: {exc}. Pass a zero-argument "
                    f"factory (for example `lambda: {describe(self._pristine)}(...)`) instead."
                ) from exc
        self.name = describe(self._pristine)

    @property
    def modules(self) -> list[nn.Module]:
        """The pristine chain (never run by the engine: only copies are)."""
        return list(self._pristine)

    def _own_spec(self) -> Spec | None:
        if _is_chain(self._container):
            own = getattr(self._container, "spec", None)
            if isinstance(own, Spec):
                return own
        return None

    def specs(self) -> list[Spec]:
        """Every Spec in sight: the chain's own, then each module's."""
        found = [self._own_spec(), *(getattr(m, "spec", None) for m in self._pristine)]
        return [s for s in found if isinstance(s, Spec)]

    def spec_for_inputs(self) -> Spec | None:
        """The Spec saying which inputs to draw: a chain's own, else its first module's."""
        first = getattr(self._pristine[0], "spec", None)
        return self._own_spec() or (first if isinstance(first, Spec) else None)

    def spec_for_constraint(self) -> Spec | None:
        """The Spec naming the constraint: a chain's own, else its last module's."""
        last = getattr(self._pristine[-1], "spec", None)
        return self._own_spec() or (last if isinstance(last, Spec) else None)

    def fresh(self, like: Tensor) -> list[nn.Module]:
        """New instances of the chain, converted to ``like``'s dtype and device.

        The conversion is what ``layer.to(dtype, device)`` does to parametrizations
        registered on a layer: floating parameters and buffers follow.
        """
        if self._factory is not None:
            modules = as_chain(self._factory(), what="factory's result")
        else:
            modules = copy.deepcopy(self._pristine)
        kwargs: dict[str, Any] = {"device": like.device}
        if like.is_floating_point():
            kwargs["dtype"] = like.dtype
        return [m.to(**kwargs) for m in modules]


def _name_of(obj: object) -> str:
    return getattr(obj, "__qualname__", None) or type(obj).__name__


# --------------------------------------------------------------------------- functional


def _call(module: nn.Module, method: str, *args: Tensor) -> object:
    """Call ``module.method(*args)``, turning any error into an AssertionError that names it.

    NotImplementedError from ``right_inverse`` means "no right inverse" in torch's
    parametrize, so it becomes :class:`NotApplicable`.
    """
    fn = module if method == "forward" else getattr(module, method)
    try:
        return fn(*args)
    except NotImplementedError as exc:
        if method == "right_inverse":
            raise NotApplicable(
                f"{type(module).__name__}.right_inverse raised NotImplementedError"
            ) from exc
        raise AssertionError(
            f"{type(module).__name__}.{method} raised NotImplementedError: {exc}"
        ) from exc
    except AssertionError:
        raise
    except Exception as exc:
        raise AssertionError(
            f"{type(module).__name__}.{method} raised {type(exc).__name__}: {exc}"
        ) from exc


def _as_tensor_result(module: nn.Module, method: str, value: object) -> Tensor:
    if not isinstance(value, Tensor):
        raise AssertionError(
            f"{type(module).__name__}.{method} returned a {type(value).__name__}, not a tensor"
        )
    return value


def arity(module: nn.Module) -> int:
    """How many original tensors ``module.forward`` takes.

    The Spec says so for shipped transforms (``Spec.originals``); otherwise it is the
    number of required positional parameters of ``forward`` (at least 1).
    """
    spec = getattr(module, "spec", None)
    if isinstance(spec, Spec):
        return spec.originals
    try:
        params = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError):
        return 1
    required = [p for p in params
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                and p.default is p.empty]
    return max(1, len(required))


def originals(chain: Sequence[nn.Module], X: Tensor) -> tuple[Tensor, ...]:
    """The original tensors for a drawn ``X``: ``(X,)`` itself, or, when the first
    parametrization takes several tensors, ``f1.right_inverse(X)`` (as registration on a
    weight ``X`` computes them)."""
    first = chain[0]
    if arity(first) == 1:
        return (X,)
    if not callable(getattr(first, "right_inverse", None)):
        raise AssertionError(
            f"{type(first).__name__}.forward takes {arity(first)} tensors, but there is no "
            f"right_inverse to compute them from a weight")
    with torch.no_grad():
        result = _call(first, "right_inverse", X)
    if isinstance(result, Sequence) and all(isinstance(p, Tensor) for p in result):
        return tuple(p.detach() for p in result)
    raise AssertionError(
        f"{type(first).__name__}.forward takes {arity(first)} tensors, but its "
        f"right_inverse returned a {type(result).__name__}, not a sequence of tensors")


def forward(chain: Sequence[nn.Module], inputs: Sequence[Tensor]) -> Tensor:
    """``fk(...f1(*inputs))``, each output checked to be a tensor."""
    value = _as_tensor_result(chain[0], "forward", _call(chain[0], "forward", *inputs))
    for module in chain[1:]:
        value = _as_tensor_result(module, "forward", _call(module, "forward", value))
    return value


def has_right_inverse(chain: Sequence[nn.Module]) -> str | None:
    """None when every module has a right_inverse, else the name of the first without."""
    for m in chain:
        if not callable(getattr(m, "right_inverse", None)):
            return type(m).__name__
    return None


def right_inverse(chain: Sequence[nn.Module], A: Tensor) -> tuple[Tensor, ...]:
    """``f1.right_inverse(...fk.right_inverse(A))`` as a tuple of originals.

    Raises NotApplicable when a module has no right_inverse (torch's parametrize refuses
    to assign to such a chain).
    """
    missing = has_right_inverse(chain)
    if missing is not None:
        raise NotApplicable(f"{missing} has no right_inverse")
    value: object = A
    with torch.no_grad():
        for i, module in enumerate(reversed(chain)):
            if not isinstance(value, Tensor):
                raise AssertionError(
                    f"{type(chain[len(chain) - i]).__name__}.right_inverse returned a "
                    f"{type(value).__name__}; only the first parametrization may return "
                    f"several tensors"
                )
            value = _call(module, "right_inverse", value)
    if isinstance(value, Tensor):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, Tensor) for v in value):
        return tuple(value)
    raise AssertionError(
        f"{type(chain[0]).__name__}.right_inverse returned a {type(value).__name__}, "
        f"not a tensor or a sequence of tensors"
    )


def check_output(Y: Tensor, X: Tensor, *, what: str = "forward(X)") -> None:
    """Fail unless ``Y`` has ``X``'s shape and finite entries."""
    from paramcheck._numerics import first_nonfinite, format_tensor

    if Y.shape != X.shape:
        raise AssertionError(
            f"{what} has shape {tuple(Y.shape)}, but the input has shape {tuple(X.shape)}"
        )
    bad = first_nonfinite(Y)
    if bad is not None:
        raise AssertionError(
            f"{what} is not finite: entry {list(bad)} is {float(Y.detach()[bad])}\n"
            f"{what} = {format_tensor(Y)}"
        )


# ------------------------------------------------------------------------------ hosted


class Host(nn.Module):
    """The smallest module a parametrization can be registered on: one Parameter."""

    def __init__(self, weight: Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight.detach().clone())


def implementation(which: object) -> ModuleType:
    """Resolve ``"torch"``, ``"paramcheck"`` or a module object to a parametrize module."""
    if isinstance(which, ModuleType):
        module = which
    elif which == "torch":
        module = importlib.import_module("torch.nn.utils.parametrize")
    elif which == "paramcheck":
        module = importlib.import_module("paramcheck.parametrize")
    else:
        raise UsageError(
            f"implementation must be 'torch', 'paramcheck' or a module like "
            f"torch.nn.utils.parametrize; got {which!r}"
        )
    for name in ("register_parametrization", "cached"):
        if not callable(getattr(module, name, None)):
            raise UsageError(
                f"implementation {module.__name__} has no {name}(); it must offer the API of "
                f"torch.nn.utils.parametrize"
            )
    return module


def host(
    chain: Sequence[nn.Module],
    X: Tensor,
    impl: ModuleType,
    *,
    unsafe: bool,
    set_original: bool,
) -> Host:
    """Register ``chain`` on a fresh :class:`Host` holding the weight ``f1(X)``.

    The weight starts in the image of the first parametrization, as a layer's weight
    would after ``f1`` was registered on it once: registration calls
    ``f1.right_inverse`` on it, which a transform may refuse outside its image (the
    logarithm of a matrix that is not SPD). With ``set_original``, a single original is
    then overwritten with ``X`` itself, so that ``host.weight == forward(X)``.
    """
    h = Host(first_image(chain, X))
    for module in chain:
        try:
            impl.register_parametrization(h, "weight", module, unsafe=unsafe)
        except AssertionError:
            raise
        except Exception as exc:
            raise AssertionError(
                f"registering {type(module).__name__} with {impl.__name__}."
                f"register_parametrization raised {type(exc).__name__}: {exc}"
            ) from exc
    if set_original:
        plist = parametrization_list(h)
        original = getattr(plist, "original", None)
        if isinstance(original, Tensor) and original.shape == X.shape:
            with torch.no_grad():
                original.copy_(X)
    return h


def first_image(chain: Sequence[nn.Module], X: Tensor) -> Tensor:
    """``f1(X)`` (``f1(*right_inverse(X))`` for several originals), without gradient."""
    with torch.no_grad():
        value = forward(chain[:1], originals(chain, X))
    if value.shape != X.shape:
        raise AssertionError(
            f"{type(chain[0]).__name__}(X) has shape {tuple(value.shape)}, but X has shape "
            f"{tuple(X.shape)}")
    return value.detach()


def parametrization_list(h: nn.Module) -> Any:
    """``h.parametrizations.weight`` (a ParametrizationList of either implementation)."""
    return cast(nn.ModuleDict, h.parametrizations)["weight"]


def host_originals(h: nn.Module) -> list[Tensor]:
    """The original tensor(s) held by ``h.parametrizations.weight``."""
    plist = parametrization_list(h)
    if isinstance(getattr(plist, "original", None), Tensor):
        return [plist.original]
    found = []
    i = 0
    while isinstance(getattr(plist, f"original{i}", None), Tensor):
        found.append(getattr(plist, f"original{i}"))
        i += 1
    return found


def read_weight(h: nn.Module, X: Tensor, *, what: str = "host.weight") -> Tensor:
    """``h.weight``, with errors and non-tensor results turned into failures."""
    try:
        value = h.weight
    except AssertionError:
        raise
    except Exception as exc:
        raise AssertionError(f"reading {what} raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(value, Tensor):
        raise AssertionError(f"{what} is a {type(value).__name__}, not a tensor")
    check_output(value, X, what=what)
    return value


def gradient_pattern(like: Tensor) -> Tensor:
    """A fixed, irregular weighting ``G`` with entries in [-1, 1] for ``loss = Σ G·W``.

    Irregular so that no symmetry of the map cancels a gradient by accident; fixed so
    that results are reproducible.
    """
    n = like.numel()
    idx = torch.arange(n, dtype=torch.float64)
    values = torch.sin(1.0 + 2.3 * idx) * torch.cos(0.7 * idx * idx)
    return values.reshape(like.shape).to(device=like.device, dtype=like.dtype)
