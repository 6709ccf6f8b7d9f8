"""A tiny asv benchmark shaped like paramcheck's own: reads of a parametrized weight.

Parameters mirror benchmarks/ (transform, n, k, device, implementation, cached), so the
results exercise every table of ``paramcheck report``: cached vs uncached reads, the
paramcheck/torch cost ratio, CUDA rows skipped where there is no GPU, a ``track_``
ratio, a ``peakmem_`` benchmark and (on the first commit only) a failing benchmark.
"""

import functools
import pathlib
import timeit

import torch
from torch.nn.utils import parametrize as torch_parametrize

from paramcheck import parametrize as paramcheck_parametrize

IMPLEMENTATIONS = {"paramcheck": paramcheck_parametrize, "torch": torch_parametrize}


class Symmetric(torch.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class Skew(torch.nn.Module):
    def forward(self, X):
        A = X.triu(1)
        return A - A.transpose(-1, -2)


TRANSFORMS = {"symmetric": Symmetric, "skew": Skew}


def _layer(implementation, transform, n, device):
    layer = torch.nn.Linear(n, n, device=device)
    IMPLEMENTATIONS[implementation].register_parametrization(
        layer, "weight", TRANSFORMS[transform]()
    )
    return layer


def _read(implementation, layer, k, cached):
    if cached:
        with IMPLEMENTATIONS[implementation].cached():
            for _ in range(k):
                _ = layer.weight
    else:
        for _ in range(k):
            _ = layer.weight


class TimeReads:
    params = (
        ["symmetric", "skew"],
        [8, 64],
        [1, 8],
        ["cpu", "cuda"],
        ["paramcheck", "torch"],
        [False, True],
    )
    param_names = ("transform", "n", "k", "device", "implementation", "cached")
    repeat = (1, 3, 0.02)
    number = 20
    warmup_time = 0.0

    def setup(self, transform, n, k, device, implementation, cached):
        if device == "cuda" and not torch.cuda.is_available():
            raise NotImplementedError("no CUDA device")
        self.layer = _layer(implementation, transform, n, device)

    def time_reads(self, transform, n, k, device, implementation, cached):
        _read(implementation, self.layer, k, cached)


class TrackCostRatio:
    """paramcheck's cost over torch's for 8 uncached reads (a ``track_`` ratio)."""

    params = (["symmetric", "skew"],)
    param_names = ("transform",)
    unit = "ratio"

    def track_cost_ratio(self, transform):
        cost = {}
        for implementation in IMPLEMENTATIONS:
            layer = _layer(implementation, transform, 64, "cpu")
            reads = functools.partial(_read, implementation, layer, 8, False)
            cost[implementation] = min(timeit.repeat(reads, number=20, repeat=5))
        return cost["paramcheck"] / cost["torch"]


def peakmem_register():
    # make_results.sh plants this marker on its first commit to record a failure.
    if (pathlib.Path(__file__).parent / "BROKEN").exists():
        raise RuntimeError("a bug that the next commit fixes")
    _layer("paramcheck", "skew", 256, "cpu")
