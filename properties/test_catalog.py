"""The suite covers everything it should: no shipped transform or property left out.

The cases come from ``paramcheck.transforms.catalog()``; a transform or ready chain
exported by ``paramcheck.transforms`` but missing from that catalog, or a registered
property that applies to no case, fails here instead of going unchecked.
"""

from __future__ import annotations

import inspect

import _cases as catalog
from torch import nn

from paramcheck import properties
from paramcheck import transforms as T

#: Public helpers of paramcheck.transforms that are neither transforms nor chain factories.
HELPERS = {"ALL_FLOATS", "DOMAINS", "FLOATS", "Chain", "Entry", "Spec", "catalog",
           "cayley_inverse", "orthogonal_log", "register_chain", "spd_log"}


def _built() -> list[object]:
    return [case.build(shape.dims) for case in catalog.CASES for shape in case.shape_list()]


def _links(parametrization: object) -> tuple[str, ...]:
    modules = parametrization if isinstance(parametrization, T.Chain) else [parametrization]
    return tuple(type(m).__name__ for m in modules)


def test_every_shipped_transform_class_has_a_case() -> None:
    built_modules = [m for p in _built()
                     for m in (p if isinstance(p, T.Chain) else [p])]
    classes = [getattr(T, name) for name in T.__all__ if name not in HELPERS]
    for cls in (c for c in classes if inspect.isclass(c)):
        assert issubclass(cls, nn.Module), cls
        assert any(isinstance(m, cls) for m in built_modules), (
            f"paramcheck.transforms.{cls.__name__} is in no entry of "
            "paramcheck.transforms.catalog()")


def test_every_ready_chain_has_a_case() -> None:
    factories = [getattr(T, name) for name in T.__all__
                 if name not in HELPERS and inspect.isfunction(getattr(T, name))]
    assert factories, "no chain factories found in paramcheck.transforms"
    built = {(_links(p), p.spec) for p in _built() if isinstance(p, T.Chain)}
    for factory in factories:
        chain = factory()
        assert isinstance(chain, T.Chain), f"{factory.__name__}() is not a Chain"
        assert (_links(chain), chain.spec) in built, (
            f"paramcheck.transforms.{factory.__name__}() is in no entry of "
            "paramcheck.transforms.catalog()")


def test_every_catalog_entry_is_a_case_and_every_extra_names_one() -> None:
    names = [entry.name for entry in T.catalog()]
    case_names = {case.name for case in catalog.CASES}
    assert {catalog.id_of(name) for name in names} <= case_names
    assert len(case_names) == len(catalog.CASES), "two cases share a test id"
    unknown = set(catalog.EXTRAS) - set(names)
    assert not unknown, f"_cases.EXTRAS names no catalog entry: {sorted(unknown)}"


def test_every_property_applies_somewhere() -> None:
    tested = {item.values[0].prop for item in catalog.items()}
    for prop in catalog.suite_properties():
        assert prop in tested, f"{prop} applies to no case"


def test_every_case_runs_its_spec_laws() -> None:
    """Leaving a property out needs a reason; the spec's claims are never left out silently."""
    for case in catalog.CASES:
        for shape in case.shape_list():
            spec = case.spec(shape.dims)
            for prop in catalog.suite_properties():
                reason = catalog.not_applicable(case, prop, shape.dims)
                assert reason is None or reason.strip(), (case.name, prop)
            if spec.constraint is not None:
                assert catalog.not_applicable(case, properties.CONSTRAINT, shape.dims) is None
            if spec.inverse_exact:
                assert catalog.not_applicable(case, properties.ROUND_TRIP, shape.dims) is None
