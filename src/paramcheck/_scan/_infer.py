"""What a parametrization found in a model promises: its constraint and its Spec.

The engine reads a transform's :class:`~paramcheck.transforms.Spec` to know what to draw
and which properties apply. paramcheck's transforms carry one; the parametrizations a
model holds usually do not, so this module writes one for each kind it knows, built for
the tensor's real shape:

=================================  ========================  ==============================
parametrization                    constraint                notes
=================================  ========================  ==============================
torch ``orthogonal``               orthogonal                map and trivialization read
                                                             from the module
torch ``spectral_norm``            (none guaranteed)         not batched; u, v are state
torch ``weight_norm``              (none)                    two originals (g, v)
``torch.ao.pruning`` FakeSparsity  zero where the mask is 0  the mask as in the model
geotorch Stiefel, Grassmannian     orthogonal
geotorch SO                        special_orthogonal
geotorch Sphere, SphereEmbedded    unit rows (norm = radius)
geotorch Symmetric / Skew          symmetric / skew
geotorch PSSD*, PSD                psd                       PSD's eigenvalues are
                                                             softplus(x): may round to 0
anything with a ``spec``           its ``spec.constraint``
=================================  ========================  ==============================

Anything else (a user's own class, geotorch's LowRank, FixedRank, GLp, SL, Hurwitz,
AlmostOrthogonal) has no known constraint: it is verified for the properties that need
none, with a conservative Spec (not batched, stateful: a fresh copy per example), and
the scan says it was not inferred. A constraint given by the caller wins over all.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import _Orthogonal, _SpectralNorm, _WeightNorm

from paramcheck import constraints
from paramcheck._scan._find import ParametrizedTensor
from paramcheck.errors import UsageError
from paramcheck.transforms import ALL_FLOATS, Spec
from paramcheck.transforms._torch_builtins import (
    orthogonal_spec,
    spectral_norm_spec,
    weight_norm_spec,
)

ConstraintLike = str | Callable[[Tensor], object]


@dataclass(frozen=True)
class Inference:
    """What is known of one parametrized tensor's chain.

    Attributes:
        kind: the chain in words (``torch weight_norm``, ``geotorch Stiefel``).
        constraint: a name from :mod:`paramcheck.constraints`, a callable, or None.
        label: how the constraint is shown (its name, or a description of the callable).
        source: ``given`` (the caller's ``constraints=``), ``inferred``, ``spec`` (the
            transform's own Spec), ``none guaranteed`` (a known kind that promises
            none, as weight_norm) or ``not inferred`` (an unknown kind).
        specs: one Spec per module of the chain, to attach to a copy of it for the engine.
        upstream: property -> why it fails because of the library that ships the
            parametrization (by design or a known defect), not because of the user's model.
    """

    kind: str
    constraint: ConstraintLike | None
    label: str
    source: str
    specs: tuple[Spec, ...]
    upstream: Mapping[str, str] = field(default_factory=dict)


#: Properties that fail for a kind because of its library, by design: kind -> {property:
#: why}. Reported as "upstream", not as the user's failure.
_UPSTREAM: dict[str, dict[str, str]] = {
    "torch.ao.pruning FakeSparsity": {
        "state": ("torch.ao.pruning's FakeSparsity.state_dict() returns {} by design, so "
                  "the mask is not saved and load_state_dict(strict=True) of the model's own "
                  "state_dict raises 'Missing key(s) ... mask' (torch/ao/pruning/sparsifier/"
                  "utils.py); see the mask_not_saved hazard"),
    },
}


def _unknown_spec(shape: tuple[int, ...]) -> Spec:
    """For a class nothing is known of: assume no batching, and keep state per example."""
    return Spec(constraint=None, inputs="matrix", shape=shape, min_ndim=len(shape),
                batched=False, stateful=True, dtypes=ALL_FLOATS, inverse_exact=True)


def _zero_where_masked(mask: Tensor) -> Callable[[Tensor], object]:
    keep = mask.detach().to("cpu").bool()

    def zero_where_masked(A: Tensor) -> object:
        return bool((A.detach().to("cpu")[~keep.expand_as(A)] == 0).all())

    return zero_where_masked


def _unit_rows(radius: float) -> Callable[[Tensor], object]:
    def unit_rows(A: Tensor) -> object:
        return constraints.unit_norm(A / radius if radius != 1.0 else A, dim=-1)

    unit_rows.__name__ = "unit_norm(dim=-1)" if radius == 1.0 else f"norm(dim=-1)={radius:g}"
    return unit_rows


#: geotorch class name -> (constraint, Spec.inverse_exact). Matched along the MRO from the
#: most derived class, so Stiefel (a subclass of SO) is found as Stiefel.
_GEOTORCH: dict[str, tuple[str | None, bool]] = {
    "Stiefel": ("orthogonal", True),
    "Grassmannian": ("orthogonal", True),
    "SO": ("special_orthogonal", True),
    "Symmetric": ("symmetric", True),
    "Skew": ("skew", True),
    "PSD": ("psd", True),
    "PSSD": ("psd", True),
    "PSSDLowRank": ("psd", True),
    "PSSDFixedRank": ("psd", True),
}


def _geotorch(module: nn.Module, shape: tuple[int, ...]
              ) -> tuple[str, ConstraintLike | None, Spec] | None:
    cls = type(module)
    if not cls.__module__.startswith("geotorch."):
        return None
    spec = Spec(constraint=None, inputs="matrix", shape=shape, min_ndim=len(shape),
                batched=False, stateful=True, inverse_exact=True)
    if cls.__name__ in ("Sphere", "SphereEmbedded"):
        radius = float(getattr(module, "radius", 1.0))
        return f"geotorch {cls.__name__}", _unit_rows(radius), spec
    for klass in cls.__mro__:
        if klass.__module__.startswith("geotorch.") and klass.__name__ in _GEOTORCH:
            name, exact = _GEOTORCH[klass.__name__]
            return f"geotorch {cls.__name__}", name, replace(spec, inverse_exact=exact)
    return f"geotorch {cls.__name__}", None, spec


def _one(module: nn.Module, shape: tuple[int, ...]
         ) -> tuple[str, ConstraintLike | None, Spec, bool]:
    """(kind, constraint, spec, known) of one module of a chain."""
    own = getattr(module, "spec", None)
    if isinstance(own, Spec):
        return f"paramcheck {type(module).__name__}", own.constraint, own, True
    if isinstance(module, _Orthogonal):
        trivial = "base" in module._buffers
        spec = orthogonal_spec(shape, module.orthogonal_map.name, trivial)
        return (f"torch orthogonal ({module.orthogonal_map.name})", spec.constraint, spec,
                True)
    if isinstance(module, _SpectralNorm):
        return "torch spectral_norm", None, spectral_norm_spec(shape), True
    if isinstance(module, _WeightNorm):
        return "torch weight_norm", None, weight_norm_spec(), True
    mask = getattr(module, "mask", None)
    if type(module).__name__ == "FakeSparsity" and isinstance(mask, Tensor):
        spec = Spec(constraint=None, inputs="matrix", shape=shape, min_ndim=len(shape),
                    batched=False, stateful=True, dtypes=ALL_FLOATS, inverse_exact=False)
        return "torch.ao.pruning FakeSparsity", _zero_where_masked(mask), spec, True
    geo = _geotorch(module, shape)
    if geo is not None:
        kind, constraint, spec = geo
        return kind, constraint, spec, constraint is not None
    return type(module).__name__, None, _unknown_spec(shape), False


def _label(constraint: ConstraintLike | None) -> str:
    if constraint is None:
        return "-"
    if isinstance(constraint, str):
        return constraint
    return str(getattr(constraint, "__name__", type(constraint).__name__))


def validate_constraints(given: object) -> dict[str, ConstraintLike]:
    """Check ``constraints=``: a mapping from tensor-name patterns to constraints."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise UsageError(f"constraints must be a dict from tensor-name patterns to constraint "
                         f"names, such as {{'encoder.*.weight': 'orthogonal'}}; got "
                         f"{type(given).__name__}")
    out: dict[str, ConstraintLike] = {}
    for pattern, value in given.items():
        if not isinstance(pattern, str):
            raise UsageError(f"constraints keys are tensor-name patterns (str), got {pattern!r}")
        if isinstance(value, str):
            constraints.get(value)  # UsageError naming the known ones
        elif not callable(value):
            raise UsageError(f"constraints[{pattern!r}] must be a constraint name or a callable, "
                             f"got {value!r}")
        out[pattern] = value
    return out


def infer(found: ParametrizedTensor, given: Mapping[str, ConstraintLike]) -> Inference:
    """What is known of ``found``'s chain; ``given`` (validated) overrides the constraint."""
    shape = found.shape if found.shape is not None else tuple(found.originals[0].shape)
    parts = [_one(m, shape) for m in found.chain]
    kind = " → ".join(p[0] for p in parts)
    specs = tuple(p[2] for p in parts)
    upstream = {prop: why for kind_, known in _UPSTREAM.items() if kind_ in kind
                for prop, why in known.items()}
    override = next((c for pat, c in given.items() if fnmatch.fnmatchcase(found.path, pat)),
                    None)
    if override is not None:
        return Inference(kind, override, _label(override), "given", specs, upstream)
    _, constraint, _, known = parts[-1]
    if constraint is not None:
        own = isinstance(getattr(found.chain[-1], "spec", None), Spec)
        return Inference(kind, constraint, _label(constraint), "spec" if own else "inferred",
                         specs, upstream)
    source = "none guaranteed" if known else "not inferred"
    return Inference(kind, None, "-", source, specs, upstream)


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")
