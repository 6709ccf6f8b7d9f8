"""Options and a parametrization checked against each other: the :class:`Plan` of a run.

The plan settles everything a search needs before any example is drawn: the subject
(the chain, its constraint, the parametrize implementation, the input domain), the
properties to run, the shape and dtypes, the Hypothesis settings and seed. A problem
here is the caller's (a shape the transform was not built for, a dtype it does not
support) and is a :class:`~paramcheck.errors.UsageError`; nothing is searched.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Any

import hypothesis
import torch
from hypothesis.strategies import SearchStrategy
from torch import Tensor

from paramcheck import _image
from paramcheck import _target as tg
from paramcheck import properties as registry
from paramcheck import strategies as _strategies
from paramcheck._profiles import profile_name, settings_for
from paramcheck.engine._options import Options
from paramcheck.engine._property import Property, Subject
from paramcheck.errors import UsageError

#: The shape drawn when neither the caller nor the parametrization's Spec gives one.
DEFAULT_SHAPE: tuple[int, ...] = (4, 4)
#: The dtypes checked when the caller gives none.
DEFAULT_DTYPES: tuple[torch.dtype, ...] = (torch.float32, torch.float64)
#: The fewest examples a search gets from its share of the profile's budget.
MIN_EXAMPLES = 5


@dataclass(frozen=True)
class Plan:
    """A verification ready to run: what to check, on what, and how hard."""

    subject: Subject
    properties: tuple[Property, ...]
    shape: tuple[int, ...]
    dtypes: tuple[torch.dtype, ...]
    device: torch.device
    bound: float
    inputs: SearchStrategy[Tensor] | None
    settings: hypothesis.settings
    seed: int | None
    explicit_examples: bool
    profile: str
    image: bool = False
    strict: bool = False
    time_limit: float | None = None
    #: Draw large entrywise inputs as zeros or a multiple of the identity with a few
    #: entries set (strategies.domain(simple=True)): the search for a readable
    #: counterexample after a dense one was found (engine._sizes).
    simple: bool = False

    def originals(self, dtype: torch.dtype) -> SearchStrategy[Tensor]:
        """The strategy for one original tensor of ``dtype``."""
        if self.image:
            points = _image_points(self.subject, self.shape, dtype, self.device)
            assert points is not None  # checked by make_plan
            return _image.pulled_back(self.subject.target, points)
        if self.inputs is not None:
            device = self.device
            return self.inputs.map(lambda t: t.to(device=device, dtype=dtype))
        return _strategies.domain(self.subject.domain, self.shape, dtype=dtype,
                                  device=self.device, bound=self.bound, simple=self.simple)

    def budget(self, prop: Property) -> hypothesis.settings:
        """The settings of ``prop``'s search: its share of the profile's examples, never
        fewer than MIN_EXAMPLES; all of them when the caller set ``max_examples``."""
        if self.explicit_examples:
            return self.settings
        total = self.settings.max_examples
        count = max(min(MIN_EXAMPLES, total), math.ceil(total * prop.share))
        return hypothesis.settings(self.settings, max_examples=count)

    def describe_inputs(self) -> str:
        if self.image:
            return "points of the image pulled back through right_inverse"
        if self.inputs is not None:
            return "a custom strategy"
        return f"domain {self.subject.domain!r} (bound {self.bound:g})"


def make_plan(parametrization: object, options: Options) -> Plan:
    """Check ``options`` against ``parametrization`` and settle every default."""
    target = parametrization if isinstance(parametrization, tg.Target) else tg.Target(
        parametrization)
    spec_in = target.spec_for_inputs()
    required = next((s.shape for s in target.specs() if s.shape is not None), None)
    dims = options.shape or (tuple(required) if required is not None else DEFAULT_SHAPE)
    min_ndim = spec_in.min_ndim if spec_in is not None else 1
    if len(dims) < min_ndim:
        raise UsageError(f"{target.name} needs a shape of at least {min_ndim} dimensions; "
                         f"got shape {dims}")
    if required is not None and dims[len(dims) - len(required):] != tuple(required):
        raise UsageError(
            f"{target.name} was built for tensors of shape {tuple(required)} (leading "
            f"dimensions may be a batch); got shape {dims}")
    dtypes = options.dtypes or DEFAULT_DTYPES
    if spec_in is not None:
        unsupported = [d for d in dtypes if d not in spec_in.dtypes]
        if unsupported:
            raise UsageError(f"{target.name} supports dtypes {_names(spec_in.dtypes)}, not "
                             f"{_names(unsupported)}")
        if spec_in.square and dims[-1] != dims[-2]:
            raise UsageError(f"{target.name} needs square matrices; got shape {dims}")

    domain = spec_in.inputs if spec_in is not None else "matrix"
    bound = spec_in.bound if spec_in is not None else 1.0
    given = options.inputs
    image = given == "image" or (given is None and _image_by_default(target))
    if isinstance(given, str) and not image:  # a domain named by the caller
        bound = bound if domain == given else 1.0
        domain, given = given, None
    strategy = given if isinstance(given, SearchStrategy) else None
    if strategy is None and not image:
        for d in dtypes:  # validates the domain against the shape (square, bound)
            _strategies.domain(domain, dims, dtype=d, device="cpu", bound=bound)
    subject = Subject.of(target, constraint=options.constraint,
                         implementation=options.implementation,
                         domain=domain if strategy is None and not image else "matrix")
    if image and _image_points(subject, dims, dtypes[0], "cpu") is None:
        raise UsageError(
            f"inputs='image' draws points of the constraint set, and {target.name} has "
            f"neither a constraint whose set paramcheck can draw from "
            f"({', '.join(_image.IMAGE_OF)}) nor a sample() method; pass constraint= or "
            f"inputs= a strategy")
    label = subject.constraint[0] if subject.constraint is not None else ""
    chosen = registry.select(options.properties, label=label)
    if options.contexts:  # the chosen ones, then the contexts (each once)
        chosen = tuple(dict.fromkeys((*chosen, *registry.select(["contexts"]))))
    hyp, seed, profile = _settings(options)
    return Plan(
        subject=subject, properties=chosen, shape=dims, dtypes=dtypes,
        device=torch.device(options.device), bound=bound, inputs=strategy,
        settings=hyp, seed=seed, explicit_examples=options.max_examples is not None,
        profile=profile, image=image, strict=options.strict, time_limit=options.time_limit,
    )


def _image_by_default(target: tg.Target) -> bool:
    """Image-side inputs when nothing says what to draw and drawing originals cannot
    work: no Spec names an input domain, and the first parametrization takes several
    originals, which are computed from a weight by right_inverse (a weight that must be
    in its image: a Hurwitz matrix for geotorch's Hurwitz)."""
    chain = target.modules
    return (target.spec_for_inputs() is None and tg.arity(chain[0]) > 1
            and tg.has_right_inverse(chain) is None
            and _image.sampler_of(chain) is not None)


def _image_points(subject: Subject, shape: tuple[int, ...], dtype: torch.dtype,
                  device: torch.device | str) -> SearchStrategy[Tensor] | None:
    given = subject.constraint[1] if subject.constraint is not None else None
    chain = subject.target.modules
    if _image.sampler_of(chain) is not None:
        # the sampler draws for the pristine module; fresh ones would redraw its state
        sampler = _image.sampler_of([subject.target.fresh(torch.empty(0, dtype=dtype))[-1]])
    else:
        sampler = None
    return _image.image_points(given, shape, dtype, device, sampler)


def _names(dtypes: Any) -> list[str]:
    return [str(d).removeprefix("torch.") for d in dtypes]


def _settings(options: Options) -> tuple[hypothesis.settings, int | None, str]:
    """The settings of every search, the seed they use, and the profile's name."""
    if options.settings is None:
        name = profile_name()
        parent = settings_for(name)
    else:
        name, parent = "custom", options.settings
    overrides: dict[str, Any] = {
        # verify is a library call: one bug per search, and no state across calls unless
        # the caller's own settings bring an example database (see private_storage).
        "report_multiple_bugs": False,
        "print_blob": True,
        # The explain phase reruns the shrunk example with parts varied to annotate
        # Hypothesis' own report, which verify does not show: skip its cost.
        "phases": tuple(p for p in parent.phases if p != hypothesis.Phase.explain),
    }
    if options.settings is None:
        overrides["database"] = None
    if options.max_examples is not None:
        overrides["max_examples"] = options.max_examples
    seed: int | None
    if options.seed is not None:
        overrides["derandomize"] = False
        seed = options.seed
    elif parent.derandomize or overrides.get("database", parent.database) is not None:
        seed = None  # derandomized; or the caller's database decides (a seed would bypass it)
    else:
        seed = secrets.randbelow(2**32)  # chosen here so the report can tell it
    return hypothesis.settings(parent, **overrides), seed, name
