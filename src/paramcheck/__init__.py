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
    from paramcheck import constraints, errors, parametrize, properties, strategies, transforms
    from paramcheck._scan import ScanReport, scan
    from paramcheck.engine._api import check, verify
    from paramcheck.engine._options import Options
    from paramcheck.engine._property import Draws, Property, Subject
    from paramcheck.engine._results import Defect, Failure, Report, Result, Verdict
    from paramcheck.errors import CouldNotJudge, NotApplicable, PropertyFailed, UsageError
    from paramcheck.properties import register_property

# name -> module that defines it (attributes) or None (submodules).
_LAZY: dict[str, str | None] = {
    "verify": "paramcheck.engine._api",
    "check": "paramcheck.engine._api",
    "scan": "paramcheck._scan",
    "ScanReport": "paramcheck._scan",
    "Options": "paramcheck.engine._options",
    "Property": "paramcheck.engine._property",
    "Draws": "paramcheck.engine._property",
    "Subject": "paramcheck.engine._property",
    "Report": "paramcheck.engine._results",
    "Result": "paramcheck.engine._results",
    "Failure": "paramcheck.engine._results",
    "Verdict": "paramcheck.engine._results",
    "Defect": "paramcheck.engine._results",
    "register_property": "paramcheck.properties",
    "PropertyFailed": "paramcheck.errors",
    "NotApplicable": "paramcheck.errors",
    "CouldNotJudge": "paramcheck.errors",
    "UsageError": "paramcheck.errors",
    "errors": None,
    "constraints": None,
    "parametrize": None,
    "properties": None,
    "strategies": None,
    "transforms": None,
}

__all__ = [
    "CouldNotJudge",
    "Defect",
    "Draws",
    "Failure",
    "NotApplicable",
    "Options",
    "Property",
    "PropertyFailed",
    "Report",
    "Result",
    "ScanReport",
    "Subject",
    "UsageError",
    "Verdict",
    "__version__",
    "check",
    "constraints",
    "errors",
    "parametrize",
    "properties",
    "register_property",
    "scan",
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
