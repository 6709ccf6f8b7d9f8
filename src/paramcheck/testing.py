"""The pytest-native form: one declaration, one test per property.

Subclass :class:`ParametrizationTests` in a test module and declare what to check; every
property verify would run (the registry's default ones, built in or registered before the
class statement, or those named by a ``properties`` attribute, opt-in groups included)
becomes its own test method ``test_<name>``, so
each failing property shows as its own failed test, with its counterexample and how to
replay it::

    from paramcheck.testing import ParametrizationTests
    from paramcheck.transforms import Skew, CayleyMap

    class TestCayley(ParametrizationTests):
        parametrization = staticmethod(lambda: [Skew(), CayleyMap(4)])
        constraint = "orthogonal"

or, without a class statement::

    TestCayley = make_tests(lambda: [Skew(), CayleyMap(4)], constraint="orthogonal")

Besides ``parametrization`` (required: a module, a sequence of modules, or a
zero-argument callable returning either; a plain function or lambda is taken as such a
factory), the class attributes are the fields of :class:`paramcheck.Options`
(``constraint``, ``shape``, ``dtypes``, ``device``, ``max_examples``, ``seed``,
``inputs``, ``implementation``, ``settings``, ...). A property that does not apply (no
``right_inverse``, no constraint), or that the tool could not test, is skipped with the
reason.

This module imports pytest; nothing else in paramcheck does.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import torch

from paramcheck import properties as registry
from paramcheck.engine._api import verify
from paramcheck.engine._options import Options
from paramcheck.engine._property import Property
from paramcheck.engine._results import Report
from paramcheck.errors import UsageError, VerificationFailed

__all__ = ["ParametrizationTests", "make_tests"]


class ParametrizationTests:
    """Base class generating ``test_constraint``, ``test_round_trip``, ... for a subclass.

    The name does not start with ``Test``, so pytest collects only subclasses.
    """

    parametrization: ClassVar[Any] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The declared ``properties`` (names, groups or Property objects), else every
        # property that runs by default: opt-in ones (coverage, inplace, contexts...) get
        # a test only when asked for, as in verify.
        chosen = registry.select(cls._declared("properties"))
        if cls._declared("contexts"):  # as verify(..., contexts=True)
            chosen = tuple(dict.fromkeys((*chosen, *registry.select(["contexts"]))))
        for prop in chosen:
            name = f"test_{prop.name}"
            if name not in vars(cls) and not any(name in vars(b) for b in cls.__mro__[1:-1]
                                                 if b is not ParametrizationTests):
                setattr(cls, name, _test_method(prop))

    @classmethod
    def _declared(cls, name: str) -> Any:
        """A class attribute as written: functions are not bound into methods."""
        value = inspect.getattr_static(cls, name, None)
        if isinstance(value, staticmethod):
            return value.__func__
        if isinstance(value, classmethod):
            return getattr(cls, name)
        return value

    def _check(self, prop: Property) -> Report:
        cls = type(self)
        parametrization = cls._declared("parametrization")
        if parametrization is None:
            raise UsageError(
                f"{cls.__name__} must set `parametrization` (a module, a sequence of modules, "
                f"or a zero-argument factory returning either)")
        declared = {name: cls._declared(name) for name in Options.names()}
        options = {k: v for k, v in declared.items() if v is not None}
        options["properties"] = (prop,)
        options["contexts"] = False  # this test checks ``prop`` alone
        report = verify(parametrization, **options)
        if not report.ok:
            raise VerificationFailed(report)
        if report.results and all(r.skipped for r in report.results):
            first = report.results[0]
            pytest.skip(f"{first.status}: {first.message}")
        return report


def _test_method(prop: Property) -> Callable[[ParametrizationTests], None]:
    def test(self: ParametrizationTests) -> None:
        self._check(prop)

    test.__name__ = test.__qualname__ = f"test_{prop.name}"
    test.__doc__ = prop.doc
    return test


def make_tests(parametrization: Any, *, name: str = "TestParametrization",
               **options: Any) -> type[ParametrizationTests]:
    """A :class:`ParametrizationTests` subclass for ``parametrization``; assign it to a
    name starting with ``Test`` in a test module. ``options`` are the class attributes
    (the fields of :class:`paramcheck.Options`)."""
    Options.build(**options)  # an unknown or invalid option fails here, not in each test
    attributes: dict[str, Any] = {"parametrization": staticmethod(parametrization)
                                  if callable(parametrization) and not isinstance(
                                      parametrization, torch.nn.Module) else parametrization}
    for key, value in options.items():
        attributes[key] = staticmethod(value) if key == "constraint" and callable(value) \
            else value
    return type(name, (ParametrizationTests,), attributes)
