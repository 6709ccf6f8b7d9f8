"""pytest-benchmark suite: the asv workloads, for quick local comparisons (``tox -e bench``).

One process, so it runs in well under a minute; asv keeps the history. Each group of the
report puts paramcheck's ``parametrize`` next to torch's on the same workload::

    tox -e bench                                  # JSON in .benchmarks/bench.json
    tox -e bench -- -k orthogonal_exp             # one family

asv imports this module (it imports everything under ``benchmarks/``) in an environment
without pytest: pytest is imported only inside functions, and the parameters come from
``pytest_generate_tests`` rather than from decorators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _workloads as workloads
from ._grid import FAMILIES, IMPLS, MODES, STEP_FAMILY

# A smaller grid than asv's: one size, the extremes of k.
GRID: dict[str, list[Any]] = {
    "family": ["identity", *FAMILIES],
    "n": [64],
    "k": [1, 16],
    "mode": list(MODES),
    "impl": list(IMPLS),
    "variant": list(workloads.WeightReads.VARIANTS),
    "fb_mode": ["plain", *MODES],
    # Compiled steps: aot_eager only (an inductor compile takes 20-40 s on 2 cores; asv
    # measures inductor), next to eager ("none").
    "backend": ["none", "aot_eager"],
    "step_mode": ["plain", *MODES],
    "export": ["outside", "inside"],
}


def pytest_generate_tests(metafunc: Any) -> None:
    for name in metafunc.fixturenames:
        if name in GRID:
            metafunc.parametrize(name, GRID[name], ids=[f"{name}={v}" for v in GRID[name]])


def build(factory: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``factory(*args, **kwargs)``, skipping the test where the workload is unavailable."""
    try:
        return factory(*args, **kwargs)
    except NotImplementedError as reason:
        import pytest

        pytest.skip(str(reason))


def test_read(benchmark: Any, family: str, n: int, k: int, mode: str, impl: str) -> None:
    benchmark.group = f"read {family} n={n} k={k} {mode}"
    benchmark(build(workloads.Reads, family, n, k, mode, impl))


def test_read_weight(benchmark: Any, variant: str, impl: str) -> None:
    benchmark.group = f"one read of layer.weight: {variant}"
    with build(workloads.WeightReads, variant, impl) as reads:
        benchmark(reads)


def test_register(benchmark: Any, impl: str) -> None:
    benchmark.group = "nn.Linear(8, 8) + register identity"
    benchmark(build(workloads.Registration, impl))


def test_forward_backward(benchmark: Any, fb_mode: str, impl: str) -> None:
    benchmark.group = f"recurrent 16 steps, forward+backward: {fb_mode}"
    benchmark(build(workloads.Recurrent, "identity", 32, fb_mode, impl))


def test_training_step(benchmark: Any, step_mode: str, impl: str, backend: str) -> None:
    benchmark.group = f"training step {STEP_FAMILY} {step_mode}, backend={backend}"
    benchmark(build(workloads.TrainingStep, STEP_FAMILY, step_mode, impl, backend))


def test_exported_forward(benchmark: Any, export: str, impl: str) -> None:
    benchmark.group = f"exported forward {STEP_FAMILY}, export {export} cached()"
    benchmark(build(workloads.Exported, STEP_FAMILY, export, impl))
