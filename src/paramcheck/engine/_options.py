"""Every argument of a verification in one frozen object: :class:`Options`.

``verify``, ``check``, ``paramcheck.testing.ParametrizationTests`` and ``paramcheck
verify`` all build an :class:`Options`, so they take the same arguments with the same
defaults and the same messages for bad values. Each field is declared once with its
validator (:func:`option`); adding an option is adding one line here (and reading it
where it is used). None means "decided by the parametrization's Spec or the profile".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import torch
from hypothesis.strategies import SearchStrategy

from paramcheck import _target as tg
from paramcheck import _validate as check
from paramcheck import properties as registry
from paramcheck.constraints import names as constraint_names
from paramcheck.engine._property import Property, resolve_constraint
from paramcheck.errors import UsageError
from paramcheck.strategies import DOMAIN_NAMES

#: What ``inputs`` may name instead of giving a strategy.
INPUT_NAMES: tuple[str, ...] = ("image", *DOMAIN_NAMES)

__all__ = ["Options", "option"]


def option(default: Any, validate: Callable[[Any], Any] | None = None, doc: str = "") -> Any:
    """A field of :class:`Options`: its default, the validator that normalises a given
    value (None passes through unvalidated), and one line of documentation."""
    return field(default=default, metadata={"validate": validate, "doc": doc})


def _constraint(value: object) -> object:
    resolve_constraint(value)  # a known name or a callable
    return value


def _inputs(value: object) -> SearchStrategy[Any] | str:
    """A strategy for the original, ``"image"`` (points of the constraint set pulled back
    through right_inverse) or the name of a strategies domain (``"nonzero"``...)."""
    if isinstance(value, SearchStrategy):
        return value
    if isinstance(value, str) and value in INPUT_NAMES:
        return value
    raise UsageError(f"inputs must be a Hypothesis strategy for the original tensor, "
                     f"'image', or a domain name ({', '.join(DOMAIN_NAMES)}); got {value!r}")


def _flag(name: str) -> Callable[[object], bool]:
    def validate(value: object) -> bool:
        if not isinstance(value, bool):
            raise UsageError(f"{name} must be True or False, got {value!r}")
        return value

    return validate


def _settings(value: object) -> hypothesis.settings:
    if not isinstance(value, hypothesis.settings):
        raise UsageError(f"settings must be a hypothesis.settings, got {type(value).__name__}")
    return value


def _properties(value: object) -> tuple[object, ...]:
    """Properties, their names or group names (a constraint's name selects the constraint
    property: its row carries that name)."""
    if isinstance(value, str):
        value = tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, Property) or not isinstance(value, Sequence):
        value = (value,)
    for p in value:
        if not isinstance(p, str | Property):
            raise UsageError(f"properties must be property or group names, or Property "
                             f"objects, got {p!r}")
    known = registry.known_names() | set(constraint_names())
    unknown = [p for p in value if isinstance(p, str) and p not in known]
    if unknown:
        raise registry.unknown_properties(unknown)
    return tuple(value)


def _implementation(value: object) -> object:
    tg.implementation(value)  # 'torch', 'paramcheck' or a parametrize-like module
    return value


@dataclass(frozen=True)
class Options:
    """The arguments of a verification. See :func:`paramcheck.verify` for their meaning."""

    constraint: Any = option(None, _constraint, "a constraint name or a predicate")
    shape: tuple[int, ...] | None = option(None, check.shape, "the original's shape")
    dtypes: tuple[torch.dtype, ...] | None = option(None, check.dtypes, "floating dtypes")
    device: torch.device | str = option("cpu", check.device, "cpu, cuda or cuda:N")
    max_examples: int | None = option(
        None, lambda v: check.positive_int(v, name="max_examples"), "examples per search")
    seed: int | None = option(None, lambda v: check.integer(v, name="seed"), "search seed")
    inputs: SearchStrategy[Any] | str | None = option(
        None, _inputs, "strategy for originals, 'image', or a domain name")
    implementation: Any = option("torch", _implementation, "parametrize module for hosts")
    settings: hypothesis.settings | None = option(None, _settings, "Hypothesis settings")
    properties: tuple[Any, ...] | None = option(None, _properties, "which properties")
    strict: bool = option(False, _flag("strict"), "known torch defects count as failures")
    contexts: bool = option(False, _flag("contexts"),
                            "add the execution contexts (the opt-in group 'contexts')")
    time_limit: float | None = option(
        None, lambda v: check.positive_number(v, name="time_limit"),
        "seconds per search; past it: could not test")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            validate = f.metadata.get("validate")
            value = getattr(self, f.name)
            if validate is not None and value is not None:
                object.__setattr__(self, f.name, validate(value))

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def build(cls, base: Options | None = None, /, **changes: Any) -> Options:
        """``base`` (default: all defaults) with ``changes``; an unknown name is a
        :class:`UsageError` listing the known ones."""
        unknown = sorted(set(changes) - set(cls.names()))
        if unknown:
            raise UsageError(f"unknown option{'s' * (len(unknown) > 1)} "
                             f"{', '.join(unknown)}; the options are {', '.join(cls.names())}")
        if base is not None and not isinstance(base, Options):
            raise UsageError(f"options must be a paramcheck.Options, got "
                             f"{type(base).__name__}")
        return dataclasses.replace(base, **changes) if base is not None else cls(**changes)
