"""What the property suite checks: the properties of the registry (:data:`PROPERTIES`) on
every shipped transform and chain, and on torch's built-ins.

The cases come from the shipped catalog, :func:`paramcheck.transforms.catalog` (every
transform, ready chain, and torch built-in through its adapter), plus torch's built-ins
in the configurations it leaves out (:data:`VARIANTS`). A :class:`Case` is one
parametrization together with the shapes it is checked on. Everything else is read from
its ``spec`` (:class:`paramcheck.transforms.Spec`): the input domain and bound, the
dtypes, whether it needs square matrices. Whether a property applies is the property's
own answer (``Property.applies``, the same ``verify`` uses), or the case's documented
exception; a property that does not apply is not collected at all, and
:func:`not_applicable` says why: the suite never skips except for absent hardware.

:func:`items` crosses properties with cases, shapes, dtypes, devices and (for hosted
properties) parametrize implementations into the parameters of one pytest test, and
:func:`run` searches one of them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from torch import Tensor

from paramcheck import Property, Subject, constraints, strategies
from paramcheck import properties as P
from paramcheck import transforms as T
from paramcheck._profiles import profile_name
from paramcheck.transforms import FLOATS, Spec

# ------------------------------------------------------------------------------ shapes


@dataclass(frozen=True)
class Shape:
    label: str
    dims: tuple[int, ...]


SQUARE = Shape("4x4", (4, 4))
TALL = Shape("5x3", (5, 3))
WIDE = Shape("3x5", (3, 5))
BATCH_SQUARE = Shape("2x4x4", (2, 4, 4))
BATCH_TALL = Shape("2x5x3", (2, 5, 3))
#: A convolution's weight (out_channels, in_channels, kernel): for spectral and weight
#: norm its leading dimension is part of the map, not a batch.
CONV = Shape("4x2x3", (4, 2, 3))

SQUARE_SHAPES = (SQUARE, BATCH_SQUARE)
ANY_SHAPES = (SQUARE, TALL, WIDE, BATCH_TALL)
UNBATCHED_SHAPES = (SQUARE, TALL, WIDE, CONV)


# ------------------------------------------------------------------ torch's spectral norm


class FrozenSpectralNorm(T.TorchSpectralNorm):
    """torch's ``spectral_norm`` with its power iteration frozen, whatever ``train()`` says.

    In training mode every read of the weight runs a power-iteration step that updates
    the buffers ``_u`` and ``_v`` in place: two reads of the same original give two
    (slightly) different weights. That is torch's design, and it makes the map not a
    function of its input, so the laws that compare two evaluations (cache: cached
    against uncached reads; gradient: finite differences; state: a deep copy read after
    the source) only hold with the iteration frozen, as in ``module.eval()``. Registration
    calls ``P.train(module.training)``, which would undo a plain ``.eval()``; this class
    keeps it. ``forward`` is torch's, unchanged: ``W / (uᵀ W v)`` for the frozen ``u, v``.
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__(shape)
        self.train(False)

    def train(self, mode: bool = True) -> FrozenSpectralNorm:
        return super().train(False)


# ------------------------------------------------------------------ extra constraints
# Named constraints come from paramcheck.constraints through Spec.constraint. A few
# shipped parametrizations promise something no named constraint states; these checks
# say it, each with its tolerance derived next to it.

#: σ_max(f(W)) ≥ 1 - SIGMA_SLACK·n·eps for torch's spectral norm, f(W) = W / σ̂ with
#: σ̂ = uᵀWv for unit vectors u, v (updated by a power step in training mode, frozen in
#: eval mode). For any unit u, v, |uᵀWv| ≤ σ_max(W) (Cauchy–Schwarz on the singular value
#: decomposition), so σ_max(W/σ̂) = σ_max(W)/|σ̂| ≥ 1, whatever the mode and however far
#: the iteration is from converging. An estimate that can overshoot (the Frobenius norm,
#: unnormalised u or v) breaks it. Rounding: ‖u‖ and ‖v‖ are 1 within n·eps each (a
#: normalisation of a length-n vector), W·v and the dot product are length-n sums within
#: n·eps relative each, the division adds eps: ≲ 4·n·eps + eps; 8 for a margin. The
#: float64 σ_max of the result is accurate to 1e-15, negligible.
SIGMA_SLACK = 8.0


def spectral_norm_at_least_one(Y: Tensor) -> constraints.Check:
    """``σ_max(W / σ̂) ≥ 1``: torch's estimate |σ̂| never exceeds the true σ_max."""
    matrix = Y.detach().to("cpu", torch.float64).reshape(Y.shape[0], -1)
    sigma = float(torch.linalg.matrix_norm(matrix, ord=2))
    n = max(matrix.shape)
    eps = torch.finfo(Y.dtype).eps
    tolerance = SIGMA_SLACK * n * eps
    ok = sigma >= 1.0 - tolerance
    return constraints.Check(
        "spectral_norm_at_least_one", ok, max(1.0 - sigma, 0.0), tolerance,
        f"σ_max of the weight reshaped to {tuple(matrix.shape)} is {sigma!r}; it must be at "
        f"least 1 - {tolerance:.3g} (= {SIGMA_SLACK:g}·n·eps, n = {n}): the estimate "
        "σ̂ = uᵀWv for unit u, v can only underestimate σ_max(W) in absolute value",
    )


def pruned(mask: Tensor) -> Callable[[Tensor], constraints.Check]:
    """The output is exactly zero wherever ``mask`` is False (``torch.where`` writes 0.0)."""

    def zero_where_pruned(Y: Tensor) -> constraints.Check:
        dropped = Y.detach()[..., ~mask.to(Y.device)]
        worst = float(dropped.abs().max()) if dropped.numel() else 0.0
        ok = worst == 0.0
        return constraints.Check(
            "zero_where_pruned", ok, worst, 0.0,
            f"max |W| over the {int((~mask).sum())} pruned entries is {worst!r}; it must be "
            "exactly 0",
        )

    return zero_where_pruned


# ------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One parametrization under test.

    Attributes:
        name: the test-id fragment.
        build: makes the parametrization (module or Chain) for a weight of a shape.
        shapes: the shapes it is checked on (default: from its spec).
        constraint: a check for what it promises when ``spec.constraint`` names none
            (given the built parametrization), or None.
        not_applicable: properties that do not apply although their own ``applies``
            would allow them, each with the reason.
    """

    name: str
    build: Callable[[tuple[int, ...]], Any]
    shapes: tuple[Shape, ...] | None = None
    constraint: Callable[[Any], Callable[[Tensor], Any]] | None = None
    not_applicable: dict[Property, str] = field(default_factory=dict)

    def spec(self, shape: tuple[int, ...] = (4, 4)) -> Spec:
        with seeded(0):  # building torch's spectral norm draws from the global generator
            found = getattr(self.build(shape), "spec", None)
        assert isinstance(found, Spec), f"{self.name} has no Spec"
        return found

    def shape_list(self) -> tuple[Shape, ...]:
        if self.shapes is not None:
            return self.shapes
        return SQUARE_SHAPES if self.spec().square else ANY_SHAPES


_READS_UPDATE_STATE = (
    "in training mode every read runs a power-iteration step that updates _u and _v, so "
    "two evaluations differ; checked on TorchSpectralNorm_frozen"
)

#: What the suite adds to an entry of the shipped catalog, by the entry's name.
EXTRAS: dict[str, dict[str, Any]] = {
    "Pruning": {"constraint": lambda p: pruned(p.mask)},
    "TorchSpectralNorm": {
        "shapes": UNBATCHED_SHAPES,
        "constraint": lambda p: spectral_norm_at_least_one,
        "not_applicable": dict.fromkeys((P.CACHE, P.GRADIENT, P.STATE), _READS_UPDATE_STATE),
    },
    "TorchWeightNorm": {"shapes": UNBATCHED_SHAPES},
}

#: torch's built-ins in configurations the shipped catalog leaves out: orthogonal without
#: trivialization (its right_inverse reads the reflectors back, or has none), and spectral
#: norm with the power iteration frozen.
VARIANTS: tuple[Case, ...] = (
    *(
        Case(f"TorchOrthogonal_{kind}_untrivialized",
             lambda s, kind=kind: T.TorchOrthogonal(s, kind, use_trivialization=False))
        for kind in ("matrix_exp", "cayley", "householder")
    ),
    Case("TorchSpectralNorm_frozen", FrozenSpectralNorm, shapes=UNBATCHED_SHAPES,
         constraint=lambda p: spectral_norm_at_least_one),
)


def id_of(name: str) -> str:
    """A catalog name as a test-id fragment: ``MatrixExponential('skew')`` gives
    ``MatrixExponential_skew``."""
    return re.sub(r"\W+", "_", name).strip("_")


#: Every case: the shipped catalog (paramcheck.transforms.catalog), then the variants.
CASES: tuple[Case, ...] = (
    *(Case(id_of(entry.name), entry.build, **EXTRAS.get(entry.name, {}))
      for entry in T.catalog()),
    *VARIANTS,
)


def subject(case: Case, parametrization: Any, implementation: str = "torch") -> Subject:
    """What a law is checked on: the built parametrization, the case's constraint (else
    the one its spec names), and the parametrize implementation hosting it."""
    check = case.constraint(parametrization) if case.constraint is not None else None
    return Subject.of(parametrization, constraint=check, implementation=implementation)


def not_applicable(case: Case, prop: Property, shape: tuple[int, ...] = (4, 4)) -> str | None:
    """Why ``prop`` does not apply to ``case``, or None when it does."""
    if prop in case.not_applicable:
        return case.not_applicable[prop]
    with seeded(0):  # building torch's spectral norm draws from the global generator
        return prop.applies(subject(case, case.build(shape)))


# ------------------------------------------------------------------------------- items

#: The parametrize implementations a hosted property (one that registers the chain on a
#: module: cache, state) runs under; the other properties call forward and right_inverse
#: directly, or compare the two implementations themselves (differential).
IMPLEMENTATIONS: tuple[str, ...] = ("torch", "paramcheck")

#: Devices and their marks: CUDA tests are marked ``cuda`` and skipped where there is none.
DEVICES: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("cpu", ()),
    ("cuda", (
        pytest.mark.cuda,
        pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here"),
    )),
)
#: The same, as pytest parameters for a ``device`` argument.
DEVICE_PARAMS = [pytest.param(device, marks=marks, id=device) for device, marks in DEVICES]


@dataclass(frozen=True)
class Item:
    """One test: a property on a case and shape, in a dtype, under an implementation (for
    hosted properties; device apart)."""

    prop: Property
    case: Case
    shape: Shape
    dtype: torch.dtype
    implementation: str | None
    spec: Spec

    def __str__(self) -> str:
        dtype = str(self.dtype).removeprefix("torch.")
        parts = [self.prop.name, self.case.name, self.implementation, dtype, self.shape.label]
        return "-".join(p for p in parts if p)

    def build(self) -> Any:
        return self.case.build(self.shape.dims)

    def inputs(self, device: str) -> SearchStrategy[Tensor]:
        """One original drawn from the spec's input domain."""
        spec = self.spec
        return strategies.domain(spec.inputs, self.shape.dims, dtype=self.dtype,
                                 device=device, bound=spec.bound)


#: The opt-in groups this suite asks for, as a user would with ``properties=[...]``. The
#: ``contexts`` group (compile, export, training...) has its own suite,
#: properties/test_contexts.py, sized for CI and with torch's defects as strict xfails.
OPT_IN = ("coverage", "inplace")


def suite_properties() -> tuple[Property, ...]:
    """The properties this suite checks: every default one of the registry (the built-ins
    and any a user registered), then those of the :data:`OPT_IN` groups."""
    return tuple(dict.fromkeys((*P.select(None), *P.select(OPT_IN))))


def _dtypes(prop: Property) -> tuple[torch.dtype, ...]:
    """Both dtypes, except for the opt-in groups outside the thorough profile: coverage
    measures the Jacobian's rank in float64 whatever the input's dtype, and inplace compares
    an input with its copy (dtype-blind), so their float32 items repeat the float64 ones at
    half of CI's cost for this suite."""
    if prop.default or profile_name() == "thorough":
        return FLOATS
    return (torch.float64,)


def items() -> list[Any]:
    """pytest parameters ``(item, device)``: each of :func:`suite_properties`, on every case
    it applies to."""
    found = []
    for prop in suite_properties():
        for case in CASES:
            for shape in case.shape_list():
                if not_applicable(case, prop, shape.dims) is not None:
                    continue
                spec = case.spec(shape.dims)
                for implementation in IMPLEMENTATIONS if prop.hosted else (None,):
                    for dtype in (d for d in _dtypes(prop) if d in spec.dtypes):
                        item = Item(prop, case, shape, dtype, implementation, spec)
                        found.extend(
                            pytest.param(item, device, id=f"{item}-{device}", marks=marks)
                            for device, marks in DEVICES
                        )
    return found


def run(item: Item, device: str) -> None:
    """Search ``item``'s property with its share of the loaded profile's examples.

    Hypothesis draws a seed for torch's global generator (some of torch's
    parametrizations draw from it), then the inputs the property draws, from the domain
    the spec names, so every failure is replayable and independent of test order.
    """

    @budget(item.prop)
    @given(data=st.data())
    def search(data: st.DataObject) -> None:
        with seeded(data.draw(SEEDS, label="torch seed")):
            parametrization = item.build()
            drawn = data.draw(item.prop.draws.build(item.inputs(device)),
                              label=", ".join(item.prop.draws.names))
            item.prop.law(subject(item.case, parametrization, item.implementation or "torch"),
                          *drawn)

    search()


# ------------------------------------------------------------------------------ budget

#: The suite's share of the profile's max_examples (dev 50, ci 100, thorough 1000), times
#: each property's own share (``Property.share``: the value laws all, plumbing and costly
#: laws less). The suite runs each property over ~75 (case, shape) pairs, two dtypes and,
#: for hosted ones, both implementations, so its coverage comes from breadth: each test
#: gets a slice. Never fewer than MIN_EXAMPLES. Sized for CI's budget: the whole CI run
#: (install, lint, types, tests, this suite, the front door and asv) must stay under 20
#: minutes on 2 cores (measured 2026-12-03 from a clean clone: 18m56s in all at 0.3, the
#: suite 387 s of it; at 0.4 it took ~13 CPU-minutes). 0.2 leaves CI a margin; the thorough
#: profile's ten times the examples is the deep search (nightly or manual).
SUITE_SHARE = 0.2
MIN_EXAMPLES = 2


def budget(prop: Property) -> settings:
    """Settings for the tests of ``prop``: the loaded profile with its share of examples."""
    base = settings.default
    assert base is not None
    count = max(MIN_EXAMPLES, math.ceil(base.max_examples * SUITE_SHARE * prop.share))
    return settings(base, max_examples=count)


# ------------------------------------------------------------------------- determinism


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """torch's global generators set to ``seed`` inside, and restored after.

    Some parametrizations draw from them (torch's spectral norm draws ``u`` and ``v``,
    torch's orthogonal completes a non-square matrix with ``randn``). Seeding each example
    with a drawn seed makes it replayable and independent of which xdist worker ran
    which test before it.
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


SEEDS = st.integers(0, 2**32 - 1)

