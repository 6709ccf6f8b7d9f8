"""A reference implementation of :mod:`torch.nn.utils.parametrize`, readable as a specification.

``paramcheck.parametrize`` is a drop-in for ``torch.nn.utils.parametrize``: the same public names,
behaviour, ``state_dict`` keys and exception types. This docstring states the rules; the code
below implements each of them once and cites it by number.

A *parametrization* ``P`` is an ``nn.Module`` whose ``forward`` maps the stored, unconstrained
tensor(s) to the tensor the module uses. It may define ``right_inverse``, mapping a constrained
tensor back to stored tensor(s), so that ``P(P.right_inverse(X)) == X`` on the image of ``P``.

Registering: ``register_parametrization(module, "weight", P, unsafe=False)``

1. ``"weight"`` must name a parameter or a buffer of ``module`` (or a tensor parametrized
   already); anything else is a ``ValueError``.
2. On a module's first parametrization its class is replaced by a new subclass,
   ``Parametrized<ClassName>``, made for this one module, and ``module.parametrizations``
   becomes an ``nn.ModuleDict``. ``module.weight`` becomes a property of that class. When the
   last parametrization is removed, both go and the class reverts.
3. The first parametrization of ``weight`` moves the tensor into
   ``module.parametrizations.weight``, a :class:`ParametrizationList`, under the name
   ``original``, or ``original0, original1, ...`` when ``right_inverse`` returns a sequence.
   Parameters stay parameters, buffers stay buffers (``requires_grad`` is kept), so the
   ``state_dict`` key of the weight becomes ``parametrizations.weight.original``. An element of
   the sequence may also be one of torch's reference-type opaque objects
   (``torch._library.opaque_object.register_opaque_type(cls, typ="reference")``): it is kept
   as a plain attribute ``originalI``, outside ``state_dict``; a value-type one is a
   ``ValueError``.
4. The stored value is ``right_inverse(weight)``; a parametrization without ``right_inverse``, or
   whose ``right_inverse`` raises ``NotImplementedError``, stores ``weight`` as is. A single
   stored tensor is written into the original tensor object in place, so an optimizer that holds
   it keeps working (``Tensor.set_``, or ``torch.utils.swap_tensors`` where torch would swap: under
   ``torch.__future__.set_swap_module_params_on_conversion(True)`` or for wrapper subclasses);
   it may therefore change neither dtype nor device (``ValueError``). Several stored tensors are
   new tensors, parameters if ``weight`` was one: add them to the optimizer yourself.
   What the swap flag changes is torch's doing, the same under both implementations: with it,
   a live view of a stored tensor makes registering, assigning, removing (rule 12) and
   ``module.to()`` fail (``swap_tensors`` refuses a shared tensor), removing after an unsafe
   dtype change works, and ``load_state_dict(assign=True)`` keeps the stored objects instead of
   replacing them.
5. Registering again on the same name stacks: ``module.weight`` is ``P2(P1(original))``.
6. Unless ``unsafe=True``, registration checks that ``P`` returns a tensor of the dtype and shape
   of ``module.weight`` and, when stacking, that ``P.right_inverse`` does too (``ValueError``).
   With ``unsafe=True`` nothing is checked; once a tensor has an unsafe parametrization, it
   stays unsafe.
7. Registration sets ``P.train(module.training)``; afterwards ``module.train()`` and
   ``module.eval()`` reach ``P`` as they reach any submodule.

Reading and assigning

8. Reading ``module.weight`` calls ``module.parametrizations.weight()``, which calls each
   parametrization through ``__call__`` (so hooks run) in registration order.
9. ``module.weight = X`` calls each ``right_inverse`` in reverse registration order under
   ``torch.no_grad()`` and writes the result into the stored tensor(s) in place, as in rule 4.
   A parametrization without ``right_inverse`` makes this a ``RuntimeError``; a result whose
   form (tensor or sequence of n tensors) or dtype differs from what is stored, a ``ValueError``.

Caching

10. Inside ``with cached():`` each parametrized tensor is computed once, on first read, and the
    same tensor object is returned by every later read. Blocks nest; the cache belongs to the
    outermost block and is emptied when it exits. Tracing with ``torch.jit.trace`` while caching
    is a ``RuntimeError``; ``torch.compile`` of a cached read keeps it in one graph.

Removing: ``remove_parametrizations(module, "weight", leave_parametrized=True)``

11. ``ValueError`` if ``weight`` is not parametrized.
12. ``leave_parametrized=True``: ``weight`` becomes a plain parameter or buffer again holding its
    current parametrized value. With a single stored tensor the value is written into that
    tensor in place (rule 4), so ``weight`` is the very object that was registered; with several,
    it is a new ``Parameter`` if the value requires grad, else a plain tensor.
13. ``leave_parametrized=False``: ``weight`` becomes the stored ``original`` tensor; with several
    stored tensors this is a ``ValueError``.

Copying

14. ``copy.deepcopy`` works (the copy shares the ``Parametrized<ClassName>`` class). Pickling,
    hence ``torch.save(module)``, is a ``RuntimeError`` that points to ``state_dict()``.
15. ``transfer_parametrizations_and_params(from_module, to_module, name=None)`` registers the
    parametrizations of ``from_module`` (all, or those of ``name``) on ``to_module``, sharing the
    parametrization modules and stored tensors. A missing tensor is first created on
    ``to_module`` as a ``Parameter`` holding ``from_module``'s parametrized value.

Errors

16. Every error is raised with torch's exception type and torch's message, word for word and
    with the same values (``tests/test_parametrize_errors.py`` compares the two for every
    ``raise`` in this module). Where torch's message misleads, text is added after it, never
    instead of it.

Not supported: TorchScript (``torch.jit.script``).
"""

from __future__ import annotations

import copyreg
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from copy import deepcopy
from typing import Any, NoReturn, cast

import torch
from torch import Tensor
from torch.__future__ import get_swap_module_params_on_conversion
from torch.nn import Module, ModuleDict, ModuleList, Parameter
from torch.utils._python_dispatch import is_traceable_wrapper_subclass

__all__ = [
    "ParametrizationList",
    "cached",
    "is_parametrized",
    "register_parametrization",
    "remove_parametrizations",
    "transfer_parametrizations_and_params",
    "type_before_parametrizations",
]

# Rule 10. ``_cache_depth`` counts the open ``cached()`` blocks; the cache maps
# (id of the module, tensor name) to the tensor computed in the outermost block.
_cache_depth = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextmanager
def cached() -> Iterator[None]:
    """Compute each parametrized tensor at most once inside the block (rule 10).

    Use it around a forward pass that reads a parametrized weight several times (an RNN's
    recurrent kernel, shared weights)::

        with paramcheck.parametrize.cached():
            output = model(inputs)
    """
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if _cache_depth == 0:
            _cache.clear()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor and the tensor(s) they act on (rules 3-9).

    ``module.parametrizations.weight`` is one: it behaves like ``nn.Sequential`` over the
    registered parametrizations, and holds the stored tensor as ``original`` (or ``original0``,
    ``original1``, ... when the first ``right_inverse`` returns a sequence). Calling it computes
    the parametrized tensor. It is created by :func:`register_parametrization`, not by users.

    Args:
        modules: the parametrizations, in the order they are applied.
        original: the parameter or buffer being parametrized; it is updated in place.
        unsafe: skip the dtype and shape checks of rule 6.
    """

    original: Tensor
    unsafe: bool
    is_tensor: bool
    """Whether ``right_inverse`` returned one tensor (stored as ``original``)."""
    ntensors: int
    """How many tensors are stored."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = original.shape, original.dtype  # torch's order: its error for a non-tensor

        with torch.no_grad():
            stored: object = original
            for parametrization in reversed(self):
                right_inverse = _right_inverse_of(parametrization)
                if right_inverse is not None:
                    with suppress(NotImplementedError):  # rule 4: treated as the identity
                        stored = right_inverse(stored)
        if not isinstance(stored, Tensor | Sequence):
            raise ValueError(
                "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                f"Got {type(stored).__name__}"
            )
        self.is_tensor = isinstance(stored, Tensor)
        self.ntensors = 1 if isinstance(stored, Tensor) else len(stored)

        if isinstance(stored, Tensor):
            for attribute in ("dtype", "device"):
                if getattr(stored, attribute) != getattr(original, attribute):
                    raise ValueError(
                        f"When `right_inverse` outputs one tensor, it may not change the "
                        f"{attribute}.\n"
                        f"original.{attribute}: {getattr(original, attribute)}\n"
                        f"right_inverse(original).{attribute}: {getattr(stored, attribute)}"
                    )
            with torch.no_grad():
                _set_in_place(original, stored)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, element in enumerate(stored):
                opaque = _opaque_kind(element)
                if opaque == "value":
                    raise ValueError(
                        "'right_inverse' must return a Tensor or a reference-type opaque. "
                        f"Got element {i} of the sequence with type {type(element).__name__}."
                    )
                if opaque == "reference":  # rule 3: kept as is
                    setattr(self, f"original{i}", element)
                elif isinstance(element, Tensor):
                    if isinstance(original, Parameter):
                        element = Parameter(element, original.requires_grad)
                    else:
                        element.requires_grad_(original.requires_grad)
                    _register_parameter_or_buffer(self, f"original{i}", element)
                else:
                    raise ValueError(
                        "'right_inverse' must return a Tensor or a Sequence of tensors "
                        f"(list, tuple...). Got element {i} of the sequence with type "
                        f"{type(element).__name__}."
                    )

        if not unsafe:  # rule 6
            value = self()
            if not isinstance(value, Tensor):
                raise ValueError(
                    f"A parametrization must return a tensor. Got {type(value).__name__}."
                )
            for attribute, before, after in (
                ("dtype", dtype, value.dtype),
                ("shape", shape, value.shape),
            ):
                if after != before:
                    raise ValueError(
                        f"Registering a parametrization may not change the {attribute} of the "
                        "tensor, unless `unsafe` flag is enabled.\n"
                        f"unparametrized {attribute}: {before}\n"
                        f"parametrized {attribute}: {after}"
                    )

    def _original_names(self) -> list[str]:
        """The names of the stored tensors (rule 3)."""
        if self.is_tensor:
            return ["original"]
        return [f"original{i}" for i in range(self.ntensors)]

    def right_inverse(self, value: Tensor) -> None:
        """Store ``value``: apply each ``right_inverse`` in reverse order, then write (rule 9)."""
        with torch.no_grad():
            stored: object = value
            for parametrization in reversed(self):
                right_inverse = _right_inverse_of(parametrization)
                if right_inverse is None:
                    raise RuntimeError(
                        f"parametrization {type(parametrization).__name__} does not implement "
                        "right_inverse."
                    )
                stored = right_inverse(stored)

            if self.is_tensor:
                if not isinstance(stored, Tensor):
                    raise ValueError(
                        f"`right_inverse` should return a tensor. Got {type(stored).__name__}"
                    )
                if stored.dtype != self.original.dtype:
                    raise ValueError(
                        f"The tensor returned by `right_inverse` has dtype {stored.dtype} "
                        f"while `original` has dtype {self.original.dtype}"
                    )
                _set_in_place(self.original, stored)
                return

            if not isinstance(stored, Sequence):
                raise ValueError(
                    "'right_inverse' must return a sequence of tensors. "
                    f"Got {type(stored).__name__}."
                )
            if len(stored) != self.ntensors:
                raise ValueError(
                    "'right_inverse' must return a sequence of tensors of length "
                    f"{self.ntensors}. Got a sequence of length {len(stored)}."
                )
            # As in torch, each element is written before the next one is checked.
            for i, element in enumerate(stored):
                opaque = _opaque_kind(element)
                if opaque == "reference":  # rule 3: kept as is
                    setattr(self, f"original{i}", element)
                elif isinstance(element, Tensor) and opaque is None:
                    original = getattr(self, f"original{i}")
                    if element.dtype != original.dtype:
                        raise ValueError(
                            f"Tensor {i} returned by `right_inverse` has dtype {element.dtype} "
                            f"while `original{i}` has dtype {original.dtype}"
                        )
                    _set_in_place(original, element)
                else:
                    raise ValueError(
                        "'right_inverse' must return a sequence of tensors or reference-type "
                        f"opaques. Got element {i} of type {type(element).__name__}."
                    )

    def forward(self) -> Tensor:
        """The parametrized tensor: the parametrizations applied in order (rule 8)."""
        parametrizations = iter(self)
        first = next(parametrizations)
        if self.is_tensor:
            x = first(self.original)
        else:
            x = first(*(getattr(self, name) for name in self._original_names()))
        for parametrization in parametrizations:
            x = parametrization(x)
        return cast(Tensor, x)


def register_parametrization(
    module: Module, tensor_name: str, parametrization: Module, *, unsafe: bool = False
) -> Module:
    """Make ``module.<tensor_name>`` read as ``parametrization(original)`` (rules 1-7).

    Example: a linear layer whose weight is always symmetric, initialised by assignment::

        >>> import torch
        >>> from torch import nn
        >>> from paramcheck import parametrize
        >>> class Symmetric(nn.Module):
        ...     def forward(self, X):
        ...         return X.triu() + X.triu(1).transpose(-1, -2)
        ...     def right_inverse(self, A):
        ...         return A.triu()
        >>> layer = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
        >>> torch.equal(layer.weight, layer.weight.T)
        True
        >>> A = torch.rand(3, 3)
        >>> layer.weight = A + A.T
        >>> torch.allclose(layer.weight, A + A.T)
        True
        >>> sorted(layer.state_dict())
        ['bias', 'parametrizations.weight.original']

    Returns:
        ``module``, parametrized in place.
    """
    parametrization.train(module.training)  # rule 7
    if is_parametrized(module, tensor_name):  # rule 5
        if not unsafe:  # rule 6
            current = getattr(module, tensor_name)
            value = parametrization(current)
            if not isinstance(value, Tensor):
                raise ValueError(
                    f"A parametrization must return a tensor. Got {type(value).__name__}."
                )
            for attribute in ("dtype", "shape"):
                if getattr(value, attribute) != getattr(current, attribute):
                    raise ValueError(
                        f"Registering a parametrization may not change the {attribute} of the "
                        "tensor, unless the `unsafe` flag is enabled.\n"
                        f"module.{tensor_name}.{attribute}: {getattr(current, attribute)}\n"
                        f"parametrization(module.{tensor_name}).{attribute}: "
                        f"{getattr(value, attribute)}"
                    )
            right_inverse = _right_inverse_of(parametrization)
            if right_inverse is not None:
                try:
                    stored = right_inverse(value)
                except NotImplementedError:  # rule 4: treated as the identity
                    pass
                else:
                    if not isinstance(stored, Tensor):
                        raise ValueError(
                            "parametrization.right_inverse must return a tensor. "
                            f"Got: {type(stored).__name__}"
                        )
                    for attribute in ("dtype", "shape"):
                        if getattr(stored, attribute) != getattr(current, attribute):
                            raise ValueError(
                                "The tensor returned by parametrization.right_inverse must have "
                                f"the same {attribute} as module.{tensor_name}, unless the "
                                "`unsafe` flag is enabled.\n"
                                f"module.{tensor_name}.{attribute}: "
                                f"{getattr(current, attribute)}\n"
                                f"returned {attribute}: {getattr(stored, attribute)}"
                            )
        parametrizations = _parametrizations_of(module, tensor_name)
        parametrizations.append(parametrization)
        parametrizations.unsafe |= unsafe
    elif tensor_name in module._parameters or tensor_name in module._buffers:
        parametrizations = ParametrizationList(
            [parametrization], getattr(module, tensor_name), unsafe=unsafe
        )
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        cast(ModuleDict, module.parametrizations)[tensor_name] = parametrizations
    else:
        raise ValueError(
            f"Module '{module}' does not have a parameter, a buffer, or a "
            f"parametrized element with name '{tensor_name}'"
        )
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module.<tensor_name>`` is parametrized, or, without a name, any of its tensors."""
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(
    module: Module, tensor_name: str, leave_parametrized: bool = True
) -> Module:
    """Make ``module.<tensor_name>`` a plain parameter or buffer again (rules 11-13).

    Args:
        leave_parametrized: keep the current parametrized value (True) or go back to the
            stored ``original`` (False; only possible with a single stored tensor).

    Returns:
        ``module``, changed in place.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = _parametrizations_of(module, tensor_name)

    if parametrizations.is_tensor:
        original = parametrizations.original
        if not isinstance(original, Tensor):  # replaced by the user, e.g. with None
            raise AssertionError(
                "Expected original to be a Tensor (is_tensor promised us a Tensor), "
                f"got {type(original).__name__}"
            )
        if leave_parametrized:
            with torch.no_grad():
                value = getattr(module, tensor_name)
                if type(original) is Tensor:
                    _set_in_place(original, value)
                else:
                    try:
                        _set_in_place(original, value)
                    except RuntimeError as error:
                        # torch's text (sic), then what actually failed: it also fails for a
                        # plain Parameter whose unsafe parametrization changed dtype or shape.
                        raise RuntimeError(
                            "Calling remove_parametrizations() with leave_parametrized=True "
                            "for a parameter that is an instance of a tensor subclass requires "
                            "set_() to be implemented correctly for the tensor subclass."
                            "Alternatively, one can opt into the swap_tensors path"
                            "Either set leave_parametrized=False or provide a working "
                            "implementation"
                            "for set_() in the tensor subclass or set "
                            "torch.__future__.set_swap_module_params_on_conversion(True)."
                            f"\nWhat failed: {error}"
                        ) from error
    elif leave_parametrized:
        # Not under no_grad: whether the value requires grad says whether it is a Parameter.
        value = getattr(module, tensor_name)
        original = Parameter(value) if value.requires_grad else value
    else:
        raise ValueError(
            "Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
            "that is parametrized in terms of a sequence of tensors."
        )

    delattr(type(module), tensor_name)
    del cast(ModuleDict, module.parametrizations)[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):  # rule 2: the last one is gone
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type[Module]:
    """The class of ``module`` as it was before it was parametrized (rule 2)."""
    if is_parametrized(module):
        return cast("type[Module]", type(module).__bases__[0])
    return type(module)


def transfer_parametrizations_and_params(
    from_module: Module, to_module: Module, tensor_name: str | None = None
) -> Module:
    """Register ``from_module``'s parametrizations, and their stored tensors, on ``to_module``.

    Transfers those of ``tensor_name``, or of every parametrized tensor when it is ``None``;
    does nothing when ``from_module`` is not parametrized (rule 15).

    Returns:
        ``to_module``.
    """
    if not is_parametrized(from_module):
        return to_module
    source_dict = cast(ModuleDict, from_module.parametrizations)
    for name in list(source_dict) if tensor_name is None else [tensor_name]:
        # As in torch, the missing tensor is created first: a name that ``from_module``
        # does not have is an AttributeError, one it has but does not parametrize a KeyError.
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name)))
        source = cast(ParametrizationList, source_dict[name])
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = _parametrizations_of(to_module, name)
        for original_name in source._original_names():
            setattr(target, original_name, getattr(source, original_name))
    return to_module


# ----------------------------------------------------------------------------- helpers


def _parametrizations_of(module: Module, tensor_name: str) -> ParametrizationList:
    """``module.parametrizations[tensor_name]``."""
    return cast(ParametrizationList, cast(ModuleDict, module.parametrizations)[tensor_name])


def _register_parameter_or_buffer(module: Module, name: str, tensor: Tensor) -> None:
    """Rule 3: a ``Parameter`` is registered as a parameter, any other tensor as a buffer."""
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _set_in_place(original: Tensor, value: Tensor) -> None:
    """Rule 4: give ``original`` the contents of ``value``, keeping the Python object."""
    swap = get_swap_module_params_on_conversion() or is_traceable_wrapper_subclass(original)
    if swap:
        if isinstance(original, Parameter) and not isinstance(value, Parameter):
            value = Parameter(value, requires_grad=original.requires_grad)
        torch.utils.swap_tensors(original, value)  # type: ignore[no-untyped-call]
    else:
        original.set_(value)  # type: ignore[call-overload]


def _right_inverse_of(parametrization: Module) -> Callable[[object], object] | None:
    """``parametrization.right_inverse``, or None when it has none."""
    return cast(
        "Callable[[object], object] | None", getattr(parametrization, "right_inverse", None)
    )


def _opaque_kind(value: object) -> str | None:
    """Rule 3: ``"reference"`` or ``"value"`` for one of torch's opaque objects, else None."""
    try:
        from torch._library.opaque_object import is_opaque_reference_type
        from torch._opaque_base import OpaqueBase
    except ImportError:  # a torch without opaque objects
        return None
    if not isinstance(value, OpaqueBase):
        return None
    return "reference" if is_opaque_reference_type(type(value)) else "value"


def _inject_new_class(module: Module) -> None:
    """Rule 2: give ``module`` a class of its own, ``Parametrized<ClassName>``."""
    cls = type(module)
    namespace: dict[str, Any] = {"__getstate__": _refuse_pickling}
    # copy.deepcopy prefers __deepcopy__ to __getstate__ (rule 14); keep the class's own if any.
    if not hasattr(cls, "__deepcopy__"):
        namespace["__deepcopy__"] = _deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), namespace)


def _refuse_pickling(self: Module) -> NoReturn:
    """Rule 14: parametrized modules are saved through their ``state_dict``."""
    raise RuntimeError(
        "Serialization of parametrized modules is only "
        "supported through state_dict(). See:\n"
        "https://pytorch.org/tutorials/beginner/saving_loading_models.html"
        "#saving-loading-a-general-checkpoint-for-inference-and-or-resuming-training"
    )


def _deepcopy(self: Module, memo: dict[int, Any]) -> Module:
    """Rule 14: the standard deep copy of ``__dict__`` and slots, bypassing ``__getstate__``."""
    replica = type(self).__new__(type(self))
    memo[id(self)] = replica
    replica.__dict__ = deepcopy(self.__dict__, memo)
    for slot in copyreg._slotnames(type(self)):  # type: ignore[attr-defined]
        if hasattr(self, slot):
            setattr(replica, slot, deepcopy(getattr(self, slot), memo))
    return replica


def _inject_property(module: Module, tensor_name: str) -> None:
    """Rules 8-10: make ``module.<tensor_name>`` a property of ``module``'s own class."""

    def get_parametrized(self: Module) -> Tensor:
        if _cache_depth:
            # Looked up before touching self.parametrizations: a cache hit costs one dict lookup.
            key = (id(self), tensor_name)
            tensor = _cache.get(key)
            if torch._C._get_tracing_state() is not None:  # dynamo folds it (no graph break)
                raise RuntimeError("Cannot trace a model while caching parametrizations.")
            if tensor is None:
                tensor = _cache[key] = _parametrizations_of(self, tensor_name)()
            return tensor
        return cast(Tensor, _parametrizations_of(self, tensor_name)())

    def set_original(self: Module, value: Tensor) -> None:
        _parametrizations_of(self, tensor_name).right_inverse(value)

    setattr(type(module), tensor_name, property(get_parametrized, set_original))
