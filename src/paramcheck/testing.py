"""The pytest-native form: one declaration, one test per property.

Subclass :class:`ParametrizationTests` in a test module and declare what to check; every
property becomes its own test method, so each failing property shows as its own failed
test, with its counterexample and how to replay it::

    from paramcheck.testing import ParametrizationTests
    from paramcheck.transforms import Skew, CayleyMap

    class TestCayley(ParametrizationTests):
        parametrization = staticmethod(lambda: [Skew(), CayleyMap(4)])
        constraint = "orthogonal"

or, without a class statement::

    TestCayley = make_tests(lambda: [Skew(), CayleyMap(4)], constraint="orthogonal")

Class attributes mirror :func:`paramcheck.verify`'s arguments: ``parametrization``
(required: a module, a sequence of modules, or a zero-argument callable returning either;
a plain function or lambda is taken as such a factory), ``constraint``, ``shape``,
``dtypes``, ``device``, ``max_examples``, ``seed``, ``inputs``, ``implementation`` and
``settings``. A property that does not apply (no ``right_inverse``, no constraint) is
skipped with the reason.

This module imports pytest; nothing else in paramcheck does.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import pytest
import torch

from paramcheck._verify import DEFAULT_SHAPE, Report, verify
from paramcheck.errors import VerificationFailed

__all__ = ["ParametrizationTests", "make_tests"]


class ParametrizationTests:
    """Base class generating ``test_constraint``, ``test_round_trip``, ... for a subclass.

    The name does not start with ``Test``, so pytest collects only subclasses.
    """

    parametrization: ClassVar[Any] = None
    constraint: ClassVar[Any] = None
    shape: ClassVar[tuple[int, ...]] = DEFAULT_SHAPE
    dtypes: ClassVar[tuple[torch.dtype, ...]] = (torch.float32, torch.float64)
    device: ClassVar[str] = "cpu"
    max_examples: ClassVar[int | None] = None
    seed: ClassVar[int | None] = None
    inputs: ClassVar[Any] = None
    implementation: ClassVar[Any] = "torch"
    settings: ClassVar[Any] = None

    @classmethod
    def _declared(cls, name: str) -> Any:
        """A class attribute as written: functions are not bound into methods."""
        value = inspect.getattr_static(cls, name)
        if isinstance(value, staticmethod | classmethod):
            return value.__func__ if isinstance(value, staticmethod) else getattr(cls, name)
        return value

    def _check(self, prop: str) -> Report:
        cls = type(self)
        parametrization = cls._declared("parametrization")
        if parametrization is None:
            raise TypeError(
                f"{cls.__name__} must set `parametrization` (a module, a sequence of modules, "
                f"or a zero-argument factory returning either)")
        report = verify(
            parametrization,
            constraint=cls._declared("constraint"),
            shape=cls.shape,
            dtypes=cls.dtypes,
            device=cls.device,
            max_examples=cls.max_examples,
            seed=cls.seed,
            inputs=cls.inputs,
            implementation=cls.implementation,
            settings=cls.settings,
            properties=[prop],
        )
        if not report.ok:
            raise VerificationFailed(report)
        if report.results and all(r.skipped for r in report.results):
            pytest.skip(report.results[0].message)
        return report

    def test_constraint(self) -> None:
        """forward(X) satisfies the constraint."""
        self._check("constraint")

    def test_round_trip(self) -> None:
        """forward(right_inverse(A)) = A on the image."""
        self._check("round_trip")

    def test_cache(self) -> None:
        """cached() gives the uncached values and gradients, one forward per block."""
        self._check("cache")

    def test_gradient(self) -> None:
        """Gradients reach the originals, are finite, and pass gradcheck in float64."""
        self._check("gradient")

    def test_batch(self) -> None:
        """forward of a batch equals forward of each item."""
        self._check("batch")

    def test_dtype(self) -> None:
        """Outputs keep the input's dtype."""
        self._check("dtype")

    def test_device(self) -> None:
        """Outputs stay on the input's device."""
        self._check("device")

    def test_state(self) -> None:
        """state_dict round trip and deepcopy reproduce the weight."""
        self._check("state")

    def test_differential(self) -> None:
        """paramcheck.parametrize and torch.nn.utils.parametrize agree."""
        self._check("differential")


def make_tests(parametrization: Any, *, name: str = "TestParametrization",
               **options: Any) -> type[ParametrizationTests]:
    """A :class:`ParametrizationTests` subclass for ``parametrization``; assign it to a
    name starting with ``Test`` in a test module. ``options`` are the class attributes
    (``constraint``, ``shape``, ``dtypes``, ...)."""
    allowed = {"constraint", "shape", "dtypes", "device", "max_examples", "seed", "inputs",
               "implementation", "settings"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"make_tests got unknown options {unknown}; allowed: {sorted(allowed)}")
    attributes: dict[str, Any] = {"parametrization": staticmethod(parametrization)
                                  if callable(parametrization) and not isinstance(
                                      parametrization, torch.nn.Module) else parametrization}
    for key, value in options.items():
        attributes[key] = staticmethod(value) if key == "constraint" and callable(value) \
            else value
    return type(name, (ParametrizationTests,), attributes)
