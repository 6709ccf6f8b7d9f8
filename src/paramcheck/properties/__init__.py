"""The laws a parametrization should obey, and the registry of properties that check them.

Each law is a function of the parametrization (an ``nn.Module``, a sequence of modules
applied in order as stacked registrations would be, or a zero-argument callable
returning either) and a drawn original ``X``: it returns None when the law holds and
raises :class:`~paramcheck.errors.PropertyFailed` (an ``AssertionError``) saying what
failed, where, by how much and against which tolerance when it does not. Use them in
your own Hypothesis tests::

    from hypothesis import given
    from paramcheck import properties, strategies

    @given(strategies.matrices((4, 4)))
    def test_my_map(X):
        properties.round_trip([Skew(), MyCayley(4)], X)

Each call works on fresh copies of the modules, converted to ``X``'s dtype and device. A
law that does not apply (round_trip on a chain without ``right_inverse``) raises
:class:`~paramcheck.errors.NotApplicable`.

Below the laws, each built-in :class:`~paramcheck.Property` is defined once, in the order
``verify`` runs them; the registry (:func:`registry`) holds them, then what users add
with :func:`register_property`. ``verify``, ``check``, ``paramcheck.testing``, the command
line, the verification table and the property suite all iterate over it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from paramcheck import _target as tg
from paramcheck._coverage import coverage
from paramcheck._inplace import inplace
from paramcheck.engine._property import (
    BATCHED,
    ORIGINAL,
    PAIR,
    Draws,
    Property,
    Subject,
    resolve_constraint,
)
from paramcheck.errors import NotApplicable, UsageError
from paramcheck.properties._contexts import PROPERTIES as CONTEXTS
from paramcheck.properties._hosted import CACHE_READS, cache, differential, state
from paramcheck.properties._plumbing import device, dtype, gradient
from paramcheck.properties._values import batch, constraint, round_trip

__all__ = [
    "BATCHED",
    "CACHE_READS",
    "CONTEXTS",
    "ORIGINAL",
    "PAIR",
    "Draws",
    "NotApplicable",
    "Property",
    "Subject",
    "batch",
    "builtin",
    "cache",
    "constraint",
    "coverage",
    "device",
    "differential",
    "dtype",
    "gradient",
    "inplace",
    "register_property",
    "registry",
    "resolve_constraint",
    "round_trip",
    "select",
    "state",
    "unregister_property",
]

_REPLAY = "paramcheck.properties.{}(parametrization, X)"


# ---------------------------------------------------------------------- applies (reasons)


def _has_constraint(subject: Subject) -> str | None:
    if subject.constraint is None:
        return ("no constraint: pass constraint= (a name from paramcheck.constraints or a "
                "callable), or use a transform whose Spec names one")
    return None


def _inverts_exactly(subject: Subject) -> str | None:
    missing = tg.has_right_inverse(subject.target.modules)
    if missing is not None:
        return f"{missing} has no right_inverse"
    inexact = next((s for s in subject.specs if not s.inverse_exact), None)
    if inexact is not None:
        return f"right_inverse is not exact: {inexact.inverse_exact_on}"
    return None


def _batched(subject: Subject) -> str | None:
    if any(not s.batched for s in subject.specs):
        return "leading dimensions are part of the map, not a batch (Spec.batched is False)"
    return None


def _constraint_label(subject: Subject) -> str:
    return subject.constraint[0] if subject.constraint is not None else "constraint"


def _constraint_replay(subject: Subject) -> str:
    given = subject.constraint[1] if subject.constraint is not None else None
    shown = repr(given) if isinstance(given, str) else _constraint_label(subject)
    return f"paramcheck.properties.constraint(parametrization, X, {shown})"


def _check_constraint(s: Subject, X: object) -> None:
    if s.constraint is None:
        raise NotApplicable(_has_constraint(s))
    constraint(s.target, X, s.constraint[2])  # type: ignore[arg-type]


# ------------------------------------------------------------------ the built-in properties
# Each definition registers itself, in the order verify runs them: adding a built-in
# property is adding one definition here.

_REGISTRY: list[Property] = []


def _builtin(prop: Property) -> Property:
    _REGISTRY.append(prop)
    return prop


# Shares: the value laws (constraint, round_trip, batch) depend on every entry of the
# input and get the whole budget (batch half: each example is two); the others test
# plumbing that one input exercises as well as the next (dtype, device), or cost tens of
# forward calls per example (gradient runs gradcheck; cache, state, differential register
# several hosts), and get a fraction.

CONSTRAINT = _builtin(Property(
    "constraint", _check_constraint, applies=_has_constraint, group="core",
    label=_constraint_label, replay=_constraint_replay,
    doc="forward(X) satisfies the constraint"))
ROUND_TRIP = _builtin(Property(
    "round_trip", lambda s, X: round_trip(s.target, X), applies=_inverts_exactly,
    group="core", replay=_REPLAY.format("round_trip"),
    doc="forward(right_inverse(A)) = A on the image"))
CACHE = _builtin(Property(
    "cache", lambda s, X, X2: cache(s.target, X, X2, implementation=s.implementation),
    draws=PAIR, share=0.25, group="core", hosted=True,
    replay="paramcheck.properties.cache(parametrization, X, X2)",
    doc="cached() gives the uncached values and gradients, one forward per block"))
GRADIENT = _builtin(Property(
    "gradient", lambda s, X: gradient(s.target, X, domain=s.domain), share=0.25,
    group="core",
    replay=lambda s: f"paramcheck.properties.gradient(parametrization, X, domain={s.domain!r})",
    doc="gradients reach the originals, are finite, and pass gradcheck in float64"))
BATCH = _builtin(Property(
    "batch", lambda s, X: batch(s.target, X), draws=BATCHED, applies=_batched, share=0.5,
    group="core", replay=_REPLAY.format("batch"),
    doc="forward of a batch equals forward of each item"))
DTYPE = _builtin(Property(
    "dtype", lambda s, X: dtype(s.target, X), share=0.1, group="core",
    replay=_REPLAY.format("dtype"), doc="outputs keep the input's dtype"))
DEVICE = _builtin(Property(
    "device", lambda s, X: device(s.target, X), share=0.1, group="core",
    replay=_REPLAY.format("device"), doc="outputs stay on the input's device"))
STATE = _builtin(Property(
    "state", lambda s, X, X2: state(s.target, X, X2, implementation=s.implementation),
    draws=PAIR, share=0.25, group="core", hosted=True,
    replay="paramcheck.properties.state(parametrization, X, X2)",
    doc="a state_dict round trip and deepcopy reproduce the weight"))
DIFFERENTIAL = _builtin(Property(
    "differential", lambda s, X: differential(s.target, X), share=0.25, group="core",
    replay=_REPLAY.format("differential"),
    doc="paramcheck.parametrize and torch.nn.utils.parametrize agree"))

COVERAGE = _builtin(Property(
    "coverage", lambda s, X: coverage(s.target, X, constraint=(
        s.constraint[1] if s.constraint is not None else None), domain=s.domain),
    share=0.25, group="coverage", default=False, replay=_REPLAY.format("coverage"),
    doc="forward's Jacobian has the rank of the constraint set's dimension"))
INPLACE = _builtin(Property(
    "inplace", lambda s, X: inplace(s.target, X), share=0.1, group="inplace",
    default=False, replay=_REPLAY.format("inplace"),
    doc="forward and right_inverse leave their inputs untouched"))
# The execution contexts (compile, export, torch.func, autocast, meta, conversion,
# train, resume), opt-in as the group "contexts": properties/_contexts.py.
for _context in CONTEXTS:
    _builtin(_context)

_BUILTIN = len(_REGISTRY)


# ---------------------------------------------------------------------------- the registry


def registry() -> tuple[Property, ...]:
    """Every property, in the order verify runs them: the built-ins, then the registered."""
    return tuple(_REGISTRY)


def builtin() -> tuple[Property, ...]:
    """The properties paramcheck ships."""
    return tuple(_REGISTRY[:_BUILTIN])


def register_property(prop: Property) -> Property:
    """Add ``prop`` to the registry (after those already there) and return it.

    From then on ``verify``, ``check``, ``paramcheck.testing``, the command line and the
    property suite check it like a built-in. Registering the same object again does
    nothing; another property of the same name is a :class:`UsageError`.
    """
    if not isinstance(prop, Property):
        raise UsageError(f"register_property takes a paramcheck.Property, got "
                         f"{type(prop).__name__}")
    for known in _REGISTRY:
        if known is prop:
            return prop
        if known.name == prop.name:
            raise UsageError(f"a property named {prop.name!r} is already registered "
                             f"({known!r}); choose another name, or unregister_property it")
    _REGISTRY.append(prop)
    return prop


def unregister_property(prop: Property) -> None:
    """Remove a property :func:`register_property` added (the built-ins stay)."""
    if prop in _REGISTRY[:_BUILTIN]:
        raise UsageError(f"{prop!r} is built in and cannot be unregistered; leave it out "
                         f"with properties=[...]")
    if prop in _REGISTRY:
        _REGISTRY.remove(prop)


def select(wanted: Iterable[object] | None, *, label: str = "") -> tuple[Property, ...]:
    """The properties named by ``wanted``: registered ones in registry order, then any
    unregistered :class:`Property` objects given, in their order.

    ``wanted`` holds properties, property names or group names; None means every
    registered property that runs by default. ``label``, the constraint's name, also
    selects the constraint property (its row in a report carries that name).
    """
    found = registry()
    if wanted is None:
        return tuple(p for p in found if p.default)
    chosen: set[int] = set()
    extra: list[Property] = []
    unknown = []
    for w in wanted:
        hits = [i for i, p in enumerate(found)
                if w is p or w in (p.name, p.group) or (p is CONSTRAINT and label and w == label)]
        if not hits and isinstance(w, Property):
            extra.append(w)
        elif not hits:
            unknown.append(w)
        chosen.update(hits)
    if unknown:
        raise unknown_properties(unknown)
    return (*(p for i, p in enumerate(found) if i in chosen), *dict.fromkeys(extra))


def unknown_properties(unknown: Sequence[object]) -> UsageError:
    """The error for property names that name no registered property or group."""
    found = registry()
    names = ", ".join(p.name for p in found)
    groups = ", ".join(dict.fromkeys(p.group for p in found))
    return UsageError(f"unknown properties {unknown}; choose from {names} (or a group: "
                      f"{groups})")


def known_names() -> set[str]:
    """Every name that selects properties: their names and groups."""
    return {n for p in registry() for n in (p.name, p.group)}
