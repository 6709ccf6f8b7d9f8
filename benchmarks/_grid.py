"""Parameter grids of the benchmarks, and a device check that needs no torch.

This module imports nothing heavy. asv runs every parameter combination of every benchmark
in a fresh interpreter (``launch_method: spawn``), and importing torch takes about a second;
the asv modules therefore import :mod:`benchmarks._workloads` (hence torch) inside
``setup``, after :func:`require_device`, so that on a machine without a GPU each skipped
CUDA combination costs a bare interpreter start instead of a torch import.
"""

from __future__ import annotations

import os

IMPLS = ("paramcheck", "torch")
DEVICES = ("cpu", "cuda")
MODES = ("uncached", "cached")
# Transform families, built from paramcheck.transforms by _workloads.transform_chain;
# "identity" (X -> X, defined in _workloads) measures the mechanism alone.
FAMILIES = (
    "symmetric",
    "skew",
    "orthogonal_cayley",
    "orthogonal_exp",
    "spd_exp",
    "pruning",
    "sphere",
    "positive",
    "stiefel",
)
# Sizes of ``read.ReadCost``: the extremes only, because asv runs each combination in its own
# interpreter (about 1.2 s for the torch import alone) and the full ``asv run --quick`` must
# stay within a few minutes on 2 cores. n = 64 is measured by the pytest-benchmark suite
# and by the memory benchmarks.
SIZES = (8, 256)
READS = (1, 4, 16)

# Device nodes of the NVIDIA, AMD (ROCm) and WSL GPU drivers: without one of them, no GPU
# can be used, whatever torch build is installed.
_GPU_NODES = ("/dev/nvidiactl", "/dev/kfd", "/dev/dxg")


def require_device(name: str) -> None:
    """Raise NotImplementedError (asv: skipped) for "cuda" on a machine with no GPU driver,
    and for a device left out of ``PARAMCHECK_BENCH_DEVICES`` (comma-separated; default
    every device: ``benchmarks/gpu.sh`` sets "cuda" to run the CUDA combinations alone).

    A cheap first filter; ``_workloads.device`` makes the final check with torch.
    """
    wanted = os.environ.get("PARAMCHECK_BENCH_DEVICES", ",".join(DEVICES)).split(",")
    if name not in wanted:
        raise NotImplementedError(f"{name} is not in PARAMCHECK_BENCH_DEVICES={wanted}")
    if name == "cuda" and not any(os.path.exists(node) for node in _GPU_NODES):
        raise NotImplementedError("no GPU driver on this machine")

# Families of the compile and export benchmarks: one per kind of transform (elementwise
# on a matrix, a solve, a matrix exponential, Householder products). Each inductor compile
# takes 20-40 s on 2 cores, hence not every family.
COMPILE_FAMILIES = ("symmetric", "orthogonal_cayley", "orthogonal_exp", "stiefel")
# The family of the compiled training step and of the export benchmarks: an orthogonal
# recurrent kernel, the case of pytorch/pytorch#167645 and of orthogonal RNNs.
STEP_FAMILY = "orthogonal_cayley"
