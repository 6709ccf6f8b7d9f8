"""The toy workload under pytest-benchmark; make_results.sh writes ../pytest_benchmark.json.

Run explicitly (the file name keeps pytest from collecting it with the test suite).
"""

from __future__ import annotations

import pytest
from benchmarks.bench_toy import _layer, _read


@pytest.mark.parametrize("cached", [False, True])
@pytest.mark.parametrize("n", [8, 64])
def test_reads(benchmark, n, cached):
    layer = _layer("paramcheck", "skew", n, "cpu")
    benchmark(_read, "paramcheck", layer, 8, cached)
