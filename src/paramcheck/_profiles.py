"""Hypothesis settings profiles: ``dev``, ``ci`` and ``thorough``.

The profile is chosen by the environment variable ``PARAMCHECK_PROFILE``; when it is
unset, ``ci`` is used where the ``CI`` variable is set and ``dev`` elsewhere.

- ``dev``: quick feedback while writing code; random, with the example database on.
- ``ci``: deterministic (``derandomize=True``, no database), so the same commit always
  gives the same verdict.
- ``thorough``: many more examples for nightly or manual runs.

Deadlines are off in every profile: ``matrix_exp``, ``eigh`` and ``solve`` have run
times that vary far more than Hypothesis' default 200 ms deadline tolerates.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

ENV_VAR = "PARAMCHECK_PROFILE"
PROFILES = ("dev", "ci", "thorough")

_common: dict[str, Any] = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

settings.register_profile("dev", max_examples=50, **_common)
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)


def profile_name() -> str:
    """The profile selected by the environment, validated."""
    default = "ci" if os.environ.get("CI") else "dev"
    name = os.environ.get(ENV_VAR, default) or default
    if name not in PROFILES:
        raise ValueError(
            f"{ENV_VAR}={name!r} is not a paramcheck profile; use one of {', '.join(PROFILES)}."
        )
    return name


def load_profile() -> settings:
    """Load the selected profile as Hypothesis' default settings and return it."""
    name = profile_name()
    settings.load_profile(name)
    return settings.get_profile(name)
