"""paramcheck's benchmarks.

asv (``asv run``, ``asv continuous``; configuration in ``asv.conf.json``):

- ``read``: reading a parametrized weight k times, uncached and inside ``cached()``;
- ``overhead``: the mechanism alone (identity parametrization) against a plain parameter;
- ``ratios``: dimensionless ``track_`` ratios measured in one process (the CI subset);
- ``memory``: what caching saves in the autograd graph (CPU) and in peak memory (CUDA);
- ``compiled``: training steps under ``torch.compile`` (aot_eager, inductor) next to eager
  and an unparametrized twin, compile time, recompiles and graph breaks over 8 instances;
- ``export``: the exported model inside and outside ``cached()`` (pytorch/pytorch#167645).

Not in CI's subset: ``compiled`` and ``export`` (minutes of compiling). ``gpu.sh`` runs the
CUDA items on a machine with a GPU; ``releases.sh`` compares torch releases
(``asv.releases.json``). See ``benchmarks/README.md``.

pytest-benchmark (``tox -e bench``): ``test_*.py``, the same workloads for quick local
comparisons. The workloads themselves live in ``_workloads``, the parameter grids in
``_grid``. asv imports every module here in an environment without pytest, so the
``test_*`` modules import pytest only inside functions.
"""
