"""paramcheck's benchmarks.

asv (``asv run``, ``asv continuous``; configuration in ``asv.conf.json``):

- ``read``: reading a parametrized weight k times, uncached and inside ``cached()``;
- ``overhead``: the mechanism alone (identity parametrization) against a plain parameter;
- ``ratios``: dimensionless ``track_`` ratios measured in one process (the CI subset);
- ``memory``: what caching saves in the autograd graph (CPU) and in peak memory (CUDA).

pytest-benchmark (``tox -e bench``): ``test_*.py``, the same workloads for quick local
comparisons. The workloads themselves live in ``_workloads``, the parameter grids in
``_grid``. asv imports every module here in an environment without pytest, so the
``test_*`` modules import pytest only inside functions.
"""
