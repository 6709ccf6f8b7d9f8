"""The property suite's configuration: the Hypothesis profile, selected by PARAMCHECK_PROFILE.

``dev`` (the default outside CI) is quick and random, with the example database on;
``ci`` is deterministic (derandomized, no database): the same commit gives the same
verdict; ``thorough`` runs ten times ``ci``'s examples for nightly or manual runs. See
``paramcheck._profiles``. Nothing here is shared between tests: every test builds its
own parametrizations and seeds torch per example, so the suite runs under pytest-xdist.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import settings

from paramcheck._profiles import load_profile, profile_name

load_profile()

# The suite's tensors are tiny (at most 2x5x3): torch's intra-op threads only add
# synchronisation, and under pytest-xdist each worker's threads would compete for the
# same cores. Parallelism comes from xdist workers instead (measured: 6x faster).
torch.set_num_threads(1)


def pytest_report_header(config: pytest.Config) -> str:
    current = settings.default
    assert current is not None
    cuda = torch.cuda.get_device_name() if torch.cuda.is_available() else "absent (skipped)"
    return (
        f"paramcheck profile: {profile_name()} (max_examples={current.max_examples}, "
        f"derandomize={current.derandomize}, database={current.database is not None}); "
        f"torch {torch.__version__}; CUDA: {cuda}"
    )
