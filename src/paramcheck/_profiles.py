"""Hypothesis settings profiles: ``paramcheck-dev``, ``paramcheck-ci``, ``paramcheck-thorough``.

The profile is chosen by the environment variable ``PARAMCHECK_PROFILE`` (``dev``, ``ci``
or ``thorough``); when it is unset, ``ci`` is used where the ``CI`` variable is set and
``dev`` elsewhere. The profiles are registered with Hypothesis under ``paramcheck-``
names, so that they never overwrite a user's own ``dev`` or ``ci`` profile.

- ``dev``: quick feedback while writing code; random, with the example database on
  (for the property suite; ``verify`` never uses a database unless given settings with one).
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

from paramcheck.errors import UsageError

ENV_VAR = "PARAMCHECK_PROFILE"
PROFILES = ("dev", "ci", "thorough")
#: Prefix of the names the profiles are registered under with Hypothesis.
PREFIX = "paramcheck-"

_common: dict[str, Any] = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

settings.register_profile(f"{PREFIX}dev", max_examples=50, **_common)
settings.register_profile(f"{PREFIX}ci", max_examples=100, derandomize=True, database=None,
                          **_common)
settings.register_profile(f"{PREFIX}thorough", max_examples=1000, **_common)


def profile_name() -> str:
    """The profile selected by the environment (``dev``, ``ci`` or ``thorough``), validated."""
    default = "ci" if os.environ.get("CI") else "dev"
    name = os.environ.get(ENV_VAR, default) or default
    if name not in PROFILES:
        raise UsageError(
            f"{ENV_VAR}={name!r} is not a paramcheck profile; use one of {', '.join(PROFILES)}.")
    return name


def settings_for(name: str) -> settings:
    """The Hypothesis settings of the paramcheck profile ``name`` (``dev``, ``ci``, ...)."""
    return settings.get_profile(f"{PREFIX}{name}")


def load_profile() -> settings:
    """Load the selected profile as Hypothesis' default settings and return it."""
    name = profile_name()
    settings.load_profile(f"{PREFIX}{name}")
    return settings_for(name)
