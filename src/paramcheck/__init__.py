"""paramcheck: property-based verification and benchmarks for PyTorch parametrizations.

Import what you need; heavy pieces load on first use, so ``import paramcheck.parametrize``
and ``import paramcheck.transforms`` pull in torch alone (never Hypothesis or pandas)::

    import paramcheck
    from paramcheck.transforms import Skew, CayleyMap

    paramcheck.check([Skew(), CayleyMap(4)], constraint="orthogonal")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from paramcheck import constraints, parametrize, properties, strategies, transforms
    from paramcheck._verify import Failure, Report, check, verify

# name -> module that defines it (attributes) or None (submodules).
_LAZY: dict[str, str | None] = {
    "verify": "paramcheck._verify",
    "check": "paramcheck._verify",
    "Report": "paramcheck._verify",
    "Failure": "paramcheck._verify",
    "constraints": None,
    "parametrize": None,
    "properties": None,
    "strategies": None,
    "transforms": None,
}

__all__ = [
    "Failure",
    "Report",
    "__version__",
    "check",
    "constraints",
    "parametrize",
    "properties",
    "strategies",
    "transforms",
    "verify",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'paramcheck' has no attribute {name!r}")
    owner = _LAZY[name]
    value = (
        importlib.import_module(f"paramcheck.{name}")
        if owner is None
        else getattr(importlib.import_module(owner), name)
    )
    globals()[name] = value
    return value
