"""A property is a type: :class:`Property`, what it draws, and what it is checked on.

A :class:`Property` is one law a parametrization should obey (``round_trip``: forward
inverts right_inverse on the image). It says how to check the law on drawn inputs
(``law``), what to draw (``draws``), when it does not apply and why (``applies``), its
share of the example budget (``share``), and how to replay a failure (``replay``). The
engine, the command line, the pytest form and the property suite read nothing else, so a
property is defined once, in one place, whether it ships with paramcheck or a user
registers it (:func:`paramcheck.register_property`)::

    def lower_triangular(subject, X):
        W = subject.forward(X)
        above = W.triu(1).abs().max().item()
        if above != 0:
            raise PropertyFailed("the weight is not lower triangular", gap=above,
                                 tolerance=0.0)

    register_property(Property("lower_triangular", lower_triangular))
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import hypothesis.strategies as st
from hypothesis.strategies import SearchStrategy
from torch import Tensor, nn

from paramcheck import _target as tg
from paramcheck import constraints as cons
from paramcheck import strategies
from paramcheck.errors import UsageError
from paramcheck.transforms._spec import Spec

__all__ = ["BATCHED", "ORIGINAL", "PAIR", "Draws", "Property", "Subject"]

#: Size of the batch :data:`BATCHED` stacks its inputs into: two items are enough to show a
#: forward that mixes them, and keep the drawn (and shrunk) input small.
BATCH_SIZE = 2


@dataclass(frozen=True)
class Draws:
    """What a property's law is called with, drawn from the parametrization's domain.

    ``build`` turns the strategy for one original tensor into a strategy for the tuple
    of tensors the law takes after the subject, named ``names`` in reports and replays.
    """

    description: str
    names: tuple[str, ...]
    build: Callable[[SearchStrategy[Tensor]], SearchStrategy[tuple[Tensor, ...]]] = field(
        repr=False)

    def __repr__(self) -> str:
        return f"Draws({self.description!r})"


#: One original tensor ``X``.
ORIGINAL = Draws("one original X", ("X",), lambda one: st.tuples(one))
#: Two independent originals ``X`` and ``X2`` (a second state to move to or load over).
PAIR = Draws("two originals X, X2", ("X", "X2"), lambda one: st.tuples(one, one))
#: ``X`` with a leading batch of :data:`BATCH_SIZE` independent originals.
BATCHED = Draws(f"a batch of {BATCH_SIZE} originals X", ("X",),
              lambda one: st.tuples(strategies.batched(one, (BATCH_SIZE,))))

#: A constraint ready to check: its label in reports, the name or callable given, and
#: the check function (tensor -> constraints.Check).
Constraint = tuple[str, object, Callable[[Tensor], Any]]


@dataclass(frozen=True)
class Subject:
    """What a law is checked on: the parametrization and what the run knows about it.

    Attributes:
        target: the parametrization (:class:`paramcheck._target.Target`): fresh copies
            of its chain for every call.
        constraint: the constraint to check (label, as given, check), or None.
        implementation: the parametrize module that hosts the chain when a law registers
            it on a module (``torch.nn.utils.parametrize`` or ``paramcheck.parametrize``).
        domain: the name of the input domain drawn from (``"matrix"`` for a custom
            strategy): a law perturbing inputs stays inside it.
    """

    target: tg.Target
    constraint: Constraint | None = None
    implementation: ModuleType = field(default_factory=lambda: tg.implementation("torch"))
    domain: str = "matrix"

    @classmethod
    def of(cls, parametrization: object, *, constraint: object = None,
           implementation: object = "torch", domain: str | None = None) -> Subject:
        """A subject for ``parametrization``; the constraint and domain default to those
        its spec names. For replaying a failure: ``law(Subject.of(parametrization), X)``."""
        target = parametrization if isinstance(parametrization, tg.Target) else tg.Target(
            parametrization)
        spec_in, spec_out = target.spec_for_inputs(), target.spec_for_constraint()
        if constraint is None and spec_out is not None:
            constraint = spec_out.constraint
        chosen = None
        if constraint is not None:
            label, check = resolve_constraint(constraint, spec_out)
            chosen = (label, constraint, check)
        return cls(target, chosen, tg.implementation(implementation),
                   domain or (spec_in.inputs if spec_in is not None else "matrix"))

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def specs(self) -> list[Spec]:
        """Every Spec in sight (the chain's own, then each module's)."""
        return self.target.specs()

    def chain(self, like: Tensor) -> list[nn.Module]:
        """Fresh modules of the chain, converted to ``like``'s dtype and device."""
        return self.target.fresh(like)

    def forward(self, X: Tensor) -> Tensor:
        """The weight for the original ``X``: ``fk(...f1(X))`` on a fresh chain, checked to
        be a finite tensor of ``X``'s shape (a failure says so otherwise)."""
        chain = self.chain(X)
        Y = tg.forward(chain, tg.originals(chain, X))
        tg.check_output(Y, X)
        return Y


def resolve_constraint(check: object, spec: Spec | None = None
                       ) -> tuple[str, Callable[[Tensor], cons.Check]]:
    """``(label, check function)`` for a constraint name or a user predicate.

    ``unit_norm`` measures the norm over ``spec.norm_dims`` when the transform's Spec
    says which dimensions it normalizes.
    """
    if isinstance(check, str):
        fn = cons.get(check)
        if check == "unit_norm" and spec is not None:
            dims = spec.norm_dims
            return check, lambda A: cons.unit_norm(A, dim=dims)
        return check, fn
    if callable(check):
        wrapped = cons.from_callable(check)
        return wrapped.__name__, wrapped
    raise UsageError(
        f"a constraint is a name from paramcheck.constraints ({', '.join(cons.names())}) "
        f"or a callable taking the output tensor and returning a bool; got "
        f"{type(check).__name__}"
    )


def always(subject: Subject) -> str | None:
    """The default of :attr:`Property.applies`: the property applies to everything."""
    return None


@dataclass(frozen=True, eq=False)
class Property:
    """One law a parametrization should obey, and everything the engine needs to check it.

    Attributes:
        name: a Python identifier, unique in the registry; the report's row and the
            pytest form's ``test_<name>``.
        law: ``law(subject, *drawn)``: returns None when the law holds for the drawn
            tensors, raises :class:`~paramcheck.errors.PropertyFailed` (any
            ``AssertionError`` will do) when it does not, and
            :class:`~paramcheck.errors.NotApplicable` when it cannot judge.
        draws: what is drawn (:data:`ORIGINAL`, :data:`PAIR`, :data:`BATCHED`).
        applies: ``applies(subject)`` is None when the law applies, else the reason it
            does not, shown in reports instead of a verdict.
        share: the fraction of the profile's ``max_examples`` its search gets (0 to 1]:
            laws whose failures hide in particular entries get all of it, plumbing less.
        group: ``core`` for the built-ins; select a group with ``properties=[group]``.
        default: run when no ``properties`` are asked for.
        replay: code that replays a failing call with the counterexample's tensors
            (``X``, ``X2``), or a function of the subject giving it; by default the law
            itself called on ``paramcheck.Subject.of(parametrization)``.
        label: a function of the subject giving the report's row label (the constraint
            property shows the constraint's name); by default ``name``.
        hosted: the law registers the chain through ``subject.implementation``, so the
            property suite runs it under both parametrize implementations.
        doc: one line saying what the law checks; by default the law's first doc line.
    """

    name: str
    law: Callable[..., None]
    draws: Draws = ORIGINAL
    applies: Callable[[Subject], str | None] = always
    share: float = 1.0
    group: str = "custom"
    default: bool = True
    replay: str | Callable[[Subject], str] = ""
    label: Callable[[Subject], str] | None = None
    hosted: bool = False
    doc: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier() or \
                keyword.iskeyword(self.name):
            raise UsageError(f"a property's name must be a Python identifier (it names the "
                             f"test test_<name>), got {self.name!r}")
        for what in ("law", "applies"):
            if not callable(getattr(self, what)):
                raise UsageError(f"property {self.name}: {what} must be callable, got "
                                 f"{getattr(self, what)!r}")
        if not isinstance(self.draws, Draws):
            raise UsageError(f"property {self.name}: draws must be a paramcheck Draws "
                             f"(ORIGINAL, PAIR, BATCHED), got {self.draws!r}")
        if isinstance(self.share, bool) or not isinstance(self.share, int | float) or \
                not 0 < self.share <= 1:
            raise UsageError(f"property {self.name}: share must be in (0, 1], got "
                             f"{self.share!r}")
        if not self.doc:
            first = (getattr(self.law, "__doc__", None) or "").strip().splitlines()
            object.__setattr__(self, "doc", first[0] if first else self.name)

    def __repr__(self) -> str:
        return f"Property({self.name!r}, group={self.group!r})"

    def label_for(self, subject: Subject) -> str:
        """The report's row label for this property on ``subject``."""
        return self.name if self.label is None else self.label(subject)

    def replay_for(self, subject: Subject) -> str:
        """Code replaying a failing call, given the counterexample's tensors by name."""
        if callable(self.replay):
            return self.replay(subject)
        if self.replay:
            return self.replay
        law = f"{getattr(self.law, '__module__', '?')}.{getattr(self.law, '__qualname__', '?')}"
        return f"{law}(paramcheck.Subject.of(parametrization), {', '.join(self.draws.names)})"
