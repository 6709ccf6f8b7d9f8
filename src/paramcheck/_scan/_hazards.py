"""Known hazards of parametrized models: each with a message saying what goes wrong and a fix.

Each check below is a function ``(context) -> list[Hazard]``; :data:`CHECKS` lists them
in the order they are reported. They read the model as it is (no search), so they are
cheap; the one that needs a forward pass (``recomputed``) runs only when the caller gives
``example_inputs``, and the ones about checkpoints only when a ``state_dict`` is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import torch
from torch import nn
from torch.nn.utils.parametrizations import _Orthogonal, _SpectralNorm, _WeightNorm

from paramcheck._scan._find import HookReparametrization, ParametrizedTensor
from paramcheck.transforms import Spec

Severity = Literal["warning", "note"]


@dataclass(frozen=True)
class Hazard:
    """Something about the model that is known to go wrong, and how to avoid it.

    Attributes:
        code: a stable identifier (``half_precision_orthogonal``...).
        path: the tensor or module it is about (``""``: the whole model).
        severity: ``warning`` (wrong now) or ``note`` (goes wrong if you do what it names).
        message: what goes wrong, with the figures that show it.
        fix: what to do instead.
        reference: the upstream issue or documentation behind it.
    """

    code: str
    path: str
    severity: Severity
    message: str
    fix: str
    reference: str = ""

    def __str__(self) -> str:
        where = f" {self.path}:" if self.path else ""
        ref = f" ({self.reference})" if self.reference else ""
        return f"{self.severity} [{self.code}]{where} {self.message}\n  fix: {self.fix}{ref}"


@dataclass
class Context:
    """What the checks read: the model, what was found on it, optional extras."""

    model: nn.Module
    found: Sequence[ParametrizedTensor]
    hooks: Sequence[HookReparametrization]
    state_dict: Mapping[str, Any] | None = None
    example_inputs: tuple[Any, ...] | None = None
    counts: dict[str, int] = field(default_factory=dict)


def _is_orthogonal_map(module: nn.Module) -> bool:
    spec = getattr(module, "spec", None)
    if isinstance(spec, Spec):
        return spec.constraint in ("orthogonal", "special_orthogonal")
    if isinstance(module, _Orthogonal):
        return True
    return any(k.__module__ == "geotorch.so" and k.__name__ == "SO"
               for k in type(module).__mro__)


def half_precision_orthogonal(ctx: Context) -> list[Hazard]:
    """An orthogonal map on a float16/bfloat16 tensor: far from orthogonal, or no kernel."""
    out = []
    for t in ctx.found:
        if t.dtype not in (torch.float16, torch.bfloat16) or not any(
                _is_orthogonal_map(m) for m in t.chain):
            continue
        n = max(t.shape[-2:]) if t.shape and len(t.shape) >= 2 else 1
        eps = torch.finfo(t.dtype).eps
        out.append(Hazard(
            "half_precision_orthogonal", t.path, "warning",
            f"an orthogonal parametrization ({t.chain_name}) runs in "
            f"{str(t.dtype).removeprefix('torch.')}, whose eps is {eps:.2g}: rounding alone "
            f"leaves QᵀQ - I of order n·eps = {n * eps:.2g} (n = {n}), and torch has no "
            f"{str(t.dtype).removeprefix('torch.')} CPU kernel for the solve (cayley) or "
            f"orgqr (householder) it needs",
            f"keep this layer in float32 (`model.{t.module_path}.float()` after "
            f"`model.to(torch.bfloat16)`), and use torch.autocast for the rest of the model",
            "huggingface/peft#3601"))
    return out


def spectral_norm_twice(ctx: Context) -> list[Hazard]:
    """Two spectral norms on one tensor (two parametrizations, or a hook and a parametrization)."""
    out = []
    hooked = {h.path for h in ctx.hooks if h.kind == "spectral_norm"}
    for t in ctx.found:
        count = sum(isinstance(m, _SpectralNorm) for m in t.chain) + (t.path in hooked)
        if count >= 2:
            out.append(Hazard(
                "spectral_norm_twice", t.path, "warning",
                f"spectral_norm is applied {count} times to this tensor ({t.chain_name}"
                f"{' and a torch.nn.utils.spectral_norm hook' if t.path in hooked else ''}): "
                f"each keeps its own power-iteration vectors u, v and runs its own "
                f"iteration per forward; the second divides an already normalised weight, "
                f"so it only costs time and state (and under DataParallel the u, v updates "
                f"of the copies conflict)",
                "apply spectral_norm once: check whether a helper (a layer factory, a "
                "model's own init) already applied it before your call",
                "pytorch/pytorch#66363"))
    return out


def _refuses_pickling(module: nn.Module) -> bool:
    getstate = getattr(type(module), "__getstate__", None)
    if getstate is None:
        return False
    try:
        getstate(module)
    except RuntimeError:
        return True
    except Exception:
        return False
    return False


def pickle_refused(ctx: Context) -> list[Hazard]:
    """torch.save(model) / pickle refuse parametrized modules (by design)."""
    modules = {t.module_path: t.module for t in ctx.found}
    refusing = [p for p, m in modules.items() if _refuses_pickling(m)]
    if not refusing:
        return []
    first = refusing[0] or "(the model itself)"
    return [Hazard(
        "pickle_refused", "", "note",
        f"torch.save(model) and pickle.dumps(model) raise: {len(refusing)} parametrized "
        f"module(s) refuse to be pickled, by design (first: {first}); copy.deepcopy works",
        "save model.state_dict() and load it into a model built (and parametrized) the "
        "same way",
        "pytorch/pytorch#69413")]


def _count_evaluations(ctx: Context) -> dict[str, int]:
    counts = {t.path: 0 for t in ctx.found}
    handles = []
    for t in ctx.found:
        plist = cast(nn.ModuleDict, t.module.parametrizations)[t.name]

        def hook(*_: object, path: str = t.path) -> None:
            counts[path] += 1

        handles.append(plist.register_forward_hook(hook))
    try:
        was = ctx.model.training
        with torch.no_grad():
            ctx.model(*ctx.example_inputs or ())
        ctx.model.train(was)
    finally:
        for h in handles:
            h.remove()
    return counts


def recomputed(ctx: Context) -> list[Hazard]:
    """A parametrized tensor computed several times in one forward (needs example inputs)."""
    if ctx.example_inputs is None or not ctx.found:
        return []
    ctx.counts = _count_evaluations(ctx)
    out = []
    for t in ctx.found:
        k = ctx.counts[t.path]
        if k > 1:
            out.append(Hazard(
                "recomputed", t.path, "note",
                f"{t.chain_name} is evaluated {k} times in one forward of the model (each "
                f"read of {t.name} recomputes it, and backward goes through all {k})",
                "wrap the training step in torch.nn.utils.parametrize.cached() to compute it "
                "once per step. torch.export ignores cached(): an exported program "
                f"recomputes it {k} times (pytorch/pytorch#167645), so export after "
                "remove_parametrizations(..., leave_parametrized=True) for inference",
                "pytorch/pytorch#167645"))
    return out


def _legacy(t: ParametrizedTensor) -> tuple[tuple[str, str], ...]:
    """(old key, new key) pairs of the pre-parametrization form of ``t``'s first map."""
    prefix = f"{t.module_path}." if t.module_path else ""
    new = f"{prefix}parametrizations.{t.name}."
    first = t.chain[0]
    if isinstance(first, _WeightNorm):
        return ((f"{prefix}{t.name}_g", new + "original0"),
                (f"{prefix}{t.name}_v", new + "original1"))
    if isinstance(first, _SpectralNorm):
        return ((f"{prefix}{t.name}_orig", new + "original"),
                (f"{prefix}{t.name}_u", new + "0._u"),
                (f"{prefix}{t.name}_v", new + "0._v"))
    return ()


def legacy_renames(found: Sequence[ParametrizedTensor], state_dict: Mapping[str, Any]
                   ) -> dict[str, str]:
    """Old key -> new key for the checkpoint keys of torch's hook-based weight_norm and
    spectral_norm, where the model holds the parametrization instead. Exact: the hook
    stored the same tensors (g, v; weight_orig, u, v) the parametrization stores."""
    renames: dict[str, str] = {}
    for t in found:
        pairs = _legacy(t)
        if pairs and all(old in state_dict for old, _ in pairs) and not any(
                new in state_dict for _, new in pairs):
            renames.update(pairs)
    return renames


def legacy_state_dict_keys(ctx: Context) -> list[Hazard]:
    """A checkpoint whose keys are those of the model before it was parametrized."""
    if ctx.state_dict is None:
        return []
    sd = ctx.state_dict
    renames = legacy_renames(ctx.found, sd)
    out = []
    for t in ctx.found:
        prefix = f"{t.module_path}." if t.module_path else ""
        mine = [(o, n) for o, n in renames.items() if o.startswith(f"{prefix}{t.name}_")]
        original = f"{prefix}parametrizations.{t.name}.original"
        if mine:
            shown = ", ".join(f"{o} -> {n}" for o, n in mine)
            if isinstance(t.chain[0], _WeightNorm):
                out.append(Hazard(
                    "legacy_state_dict_keys", t.path, "note",
                    f"the checkpoint holds this tensor under the keys of torch's hook-based "
                    f"weight_norm ({shown}). Module.load_state_dict renames them (torch "
                    f"registers a compatibility hook on the module), but loaders that set "
                    f"tensors by key without it (transformers' meta-device loading, "
                    f"torch.distributed.checkpoint) report them missing and keep the "
                    f"model's own values",
                    f"rename the keys in the checkpoint ({shown}); paramcheck verify "
                    f"--checkpoint shows the table after loading it",
                    "huggingface/transformers#26796, #31970"))
            else:
                out.append(Hazard(
                    "legacy_state_dict_keys", t.path, "warning",
                    f"the checkpoint holds this tensor under the keys of torch's hook-based "
                    f"spectral_norm ({shown}): load_state_dict(strict=True) fails, and "
                    f"strict=False silently keeps the model's random values",
                    f"rename the keys before loading ({shown})"))
        elif t.path in sd and not any(k.startswith(original) for k in sd):
            out.append(Hazard(
                "legacy_state_dict_keys", t.path, "warning",
                f"the checkpoint holds the weight {t.path} itself, but the model stores "
                f"the original(s) of {t.chain_name} under {original}*; loading it by key "
                f"fails, and the original is not the weight",
                f"load it through the parametrization: `model.{t.path} = sd[{t.path!r}]` "
                f"(torch calls right_inverse), or load before registering the "
                f"parametrization"))
    return out


_HOOK_FIX = {
    "weight_norm": (
        "torch.nn.utils.weight_norm is deprecated and is a forward pre-hook, not a "
        "parametrization: paramcheck cannot verify it, and its checkpoint keys "
        "(weight_g, weight_v) differ from the parametrization's",
        "use torch.nn.utils.parametrizations.weight_norm; rename the checkpoint keys "
        "weight_g/weight_v to parametrizations.weight.original0/original1"),
    "spectral_norm": (
        "torch.nn.utils.spectral_norm is the hook-based form, not a parametrization: "
        "paramcheck cannot verify it",
        "use torch.nn.utils.parametrizations.spectral_norm (keys weight_orig/_u/_v become "
        "parametrizations.weight.original and parametrizations.weight.0._u/_v)"),
    "prune": (
        "torch.nn.utils.prune works by forward pre-hooks (weight_orig, weight_mask), not "
        "a parametrization: paramcheck cannot verify it",
        "make it permanent with torch.nn.utils.prune.remove before saving, or prune "
        "with torch.ao.pruning, which uses parametrizations"),
}


def hook_reparametrization(ctx: Context) -> list[Hazard]:
    """Hook-based reparametrizations: not verifiable, deprecated or different keys."""
    return [Hazard("hook_reparametrization", h.path, "note", *_HOOK_FIX[h.kind])
            for h in ctx.hooks]


def tied_original(ctx: Context) -> list[Hazard]:
    """A parametrization's original also used, raw, as another module's tensor."""
    names: dict[int, list[str]] = {}
    for name, p in ctx.model.named_parameters(remove_duplicate=False):
        names.setdefault(id(p), []).append(name)
    out = []
    for t in ctx.found:
        for o in t.originals:
            others = [n for n in names.get(id(o), []) if ".parametrizations." not in f".{n}"]
            for other in others:
                out.append(Hazard(
                    "tied_original", t.path, "warning",
                    f"{other} is the same Parameter as the original of {t.path}: that "
                    f"module reads the raw original, not the parametrized {t.name}, so the "
                    f"tie was broken when the parametrization was registered",
                    f"register the same parametrization on {other}, or tie after "
                    f"parametrizing by reading {t.path} where {other} is used"))
    return out


def mask_not_saved(ctx: Context) -> list[Hazard]:
    """torch.ao.pruning's FakeSparsity keeps its mask out of state_dict."""
    pruned = [t.path for t in ctx.found
              if any(type(m).__name__ == "FakeSparsity" for m in t.chain)]
    if not pruned:
        return []
    return [Hazard(
        "mask_not_saved", "", "warning",
        f"{len(pruned)} tensor(s) are masked by torch.ao.pruning's FakeSparsity (first: "
        f"{pruned[0]}), whose state_dict() is empty by design: model.state_dict() saves "
        f"the dense originals without the masks, so model.load_state_dict(model."
        f"state_dict()) raises 'Missing key(s) ... mask', and strict=False loads a model "
        f"that is not pruned",
        "save sparsifier.state_dict() with the model, or call sparsifier.squash_mask() "
        "before saving to make the zeros permanent")]


def meta_tensors(ctx: Context) -> list[Hazard]:
    """Originals or parametrization state on the meta device: no data to use or verify."""
    out = []
    for t in ctx.found:
        state = [*t.originals, *(b for m in t.chain for b in m.buffers())]
        if any(x.device.type == "meta" for x in state):
            out.append(Hazard(
                "meta_tensors", t.path, "warning",
                f"the original(s) or the state of {t.chain_name} are on the meta device: "
                f"they hold no values, and to_empty() would leave them uninitialized "
                f"(an orthogonal base, spectral-norm vectors)",
                f"after model.to_empty(device=...), re-initialize through the "
                f"parametrization: `model.{t.path} = init` (torch calls right_inverse)",
                "pytorch/pytorch#96409"))
    return out


#: Every hazard check, in report order.
CHECKS: tuple[Callable[[Context], list[Hazard]], ...] = (
    half_precision_orthogonal,
    spectral_norm_twice,
    tied_original,
    meta_tensors,
    legacy_state_dict_keys,
    recomputed,
    mask_not_saved,
    hook_reparametrization,
    pickle_refused,
)


def hazards(ctx: Context) -> list[Hazard]:
    """Run every check of :data:`CHECKS` on ``ctx``."""
    return [h for check in CHECKS for h in check(ctx)]
