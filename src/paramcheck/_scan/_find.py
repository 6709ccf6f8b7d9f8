"""Find every parametrized tensor of a model, as it is in the model.

A tensor ``module.<name>`` is parametrized when ``module.parametrizations[name]`` is a
``ParametrizationList`` of ``torch.nn.utils.parametrize`` or of
``paramcheck.parametrize``: its chain is the list's modules, its originals the list's
``original`` (or ``original0``, ``original1``, ... for a first parametrization that
returns several tensors, as torch's ``weight_norm``).

Older reparametrizations that are *not* parametrizations (forward pre-hooks:
``torch.nn.utils.weight_norm``, ``torch.nn.utils.spectral_norm``, ``torch.nn.utils.prune``)
are found too, as :class:`HookReparametrization`: they cannot be verified as a chain, and
the hazards pass says what to do with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize as torch_parametrize

from paramcheck import parametrize as paramcheck_parametrize


@dataclass(frozen=True, eq=False)
class ParametrizedTensor:
    """One parametrized tensor of a model.

    Attributes:
        path: the tensor's full name, ``encoder.pos_conv_embed.conv.weight``.
        module_path: the name of the module holding it (``""`` for the model itself).
        name: the tensor's name on that module (``weight``).
        module: the module holding it.
        chain: the parametrizations, in the order they are applied.
        implementation: ``"torch"`` or ``"paramcheck"`` (whose ``parametrize`` registered it).
        originals: the stored original tensor(s), as held by the model.
        shape, dtype, device: those of the parametrized tensor (``module.<name>``);
            ``shape`` is ``None`` when reading it raised (``read_error`` says what).
    """

    path: str
    module_path: str
    name: str
    module: nn.Module
    chain: tuple[nn.Module, ...]
    implementation: str
    originals: tuple[Tensor, ...]
    shape: tuple[int, ...] | None
    dtype: torch.dtype
    device: torch.device
    read_error: str = ""

    @property
    def chain_name(self) -> str:
        """``_WeightNorm`` or ``Skew → CayleyMap``."""
        return " → ".join(type(m).__name__ for m in self.chain)

    def current_weight(self) -> Tensor:
        """``module.<name>`` now, detached (evaluates the chain)."""
        with torch.no_grad():
            value = getattr(self.module, self.name)
        assert isinstance(value, Tensor)
        return value.detach()


@dataclass(frozen=True)
class HookReparametrization:
    """A reparametrization done with forward pre-hooks instead of ``parametrize``.

    ``kind`` is ``weight_norm`` (``torch.nn.utils.weight_norm``, deprecated),
    ``spectral_norm`` (``torch.nn.utils.spectral_norm``) or ``prune``
    (``torch.nn.utils.prune``); ``path`` the reparametrized tensor's full name.
    """

    path: str
    module_path: str
    name: str
    kind: str


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _originals(plist: nn.Module) -> tuple[Tensor, ...]:
    single = getattr(plist, "original", None)
    if isinstance(single, Tensor):
        return (single,)
    found: list[Tensor] = []
    while isinstance(getattr(plist, f"original{len(found)}", None), Tensor):
        found.append(getattr(plist, f"original{len(found)}"))
    return tuple(found)


def _implementation(plist: nn.Module) -> str | None:
    if isinstance(plist, torch_parametrize.ParametrizationList):
        return "torch"
    if isinstance(plist, paramcheck_parametrize.ParametrizationList):
        return "paramcheck"
    return None


def find(model: nn.Module) -> list[ParametrizedTensor]:
    """Every parametrized tensor of ``model``, in ``named_modules`` order.

    A parametrization nested in another's chain (a module inside a ParametrizationList)
    is part of that chain and is not listed on its own.
    """
    found: list[ParametrizedTensor] = []
    for module_path, module in model.named_modules():
        plists = getattr(module, "parametrizations", None)
        if not isinstance(plists, nn.ModuleDict) or ".parametrizations." in f".{module_path}.":
            continue
        for name, plist in plists.items():
            impl = _implementation(plist)
            if impl is None:
                continue
            origs = _originals(plist)
            shape: tuple[int, ...] | None = None
            error = ""
            dtype, device = origs[0].dtype, origs[0].device
            try:
                with torch.no_grad():
                    value = getattr(module, name)
                shape, dtype, device = tuple(value.shape), value.dtype, value.device
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            found.append(ParametrizedTensor(
                path=_join(module_path, name), module_path=module_path, name=name,
                module=module, chain=tuple(cast(nn.ModuleList, plist)), implementation=impl,
                originals=origs, shape=shape, dtype=dtype, device=device, read_error=error,
            ))
    return found


def _hook_kind(hook: object) -> tuple[str, str] | None:
    from torch.nn.utils import prune
    from torch.nn.utils.spectral_norm import SpectralNorm
    from torch.nn.utils.weight_norm import WeightNorm

    if isinstance(hook, WeightNorm):
        return "weight_norm", hook.name
    if isinstance(hook, SpectralNorm):
        return "spectral_norm", hook.name
    if isinstance(hook, prune.BasePruningMethod):
        name = getattr(hook, "_tensor_name", None)
        if isinstance(hook, prune.PruningContainer) and hook._pruning_methods:
            name = getattr(hook._pruning_methods[-1], "_tensor_name", name)
        return "prune", str(name)
    return None


def find_hooks(model: nn.Module) -> list[HookReparametrization]:
    """Every hook-based reparametrization of ``model`` (not a parametrization)."""
    found = []
    for module_path, module in model.named_modules():
        for hook in module._forward_pre_hooks.values():
            kind = _hook_kind(hook)
            if kind is not None:
                found.append(HookReparametrization(
                    _join(module_path, kind[1]), module_path, kind[1], kind[0]))
    return found
