"""The benchmark workloads, defined once.

Used by the asv suite (``benchmarks/read.py``, ``overhead.py``, ``ratios.py``, ``memory.py``)
and by the pytest-benchmark suite (``benchmarks/test_*.py``). Each workload is a callable
object: build it (the untimed setup), then call it (the timed part).

A parametrized weight is read through one of two implementations of the mechanism,
``"paramcheck"`` (:mod:`paramcheck.parametrize`) or ``"torch"``
(:mod:`torch.nn.utils.parametrize`), on ``"cpu"`` or ``"cuda"``. Reads happen with
autograd recording, as in a training step.

Anything a workload needs and cannot find raises :class:`NotImplementedError`: a CUDA
device, or an API the installed paramcheck lacks (asv benchmarks older commits with
today's benchmarks). asv reports such a benchmark as skipped; pytest-benchmark skips it.
"""

from __future__ import annotations

import importlib
import math
import os
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from types import ModuleType
from typing import Any

import torch
from torch import nn

from ._grid import DEVICES, FAMILIES, IMPLS, MODES

DTYPE = torch.float32

# One intra-op thread, as torch.utils.benchmark.Timer uses by default: reads of small
# matrices gain nothing from threads, and a thread pool on a busy 2-core machine makes
# timings bimodal (16 reads of an 8 x 8 Stiefel weight: 2.3 ms on one thread, 9-16 ms on
# two while other jobs ran). PARAMCHECK_BENCH_THREADS=N measures with N threads.
torch.set_num_threads(int(os.environ.get("PARAMCHECK_BENCH_THREADS", "1")))


# ----------------------------------------------------------------------------- building blocks


class Identity(nn.Module):
    """The parametrization X -> X: what is left is the cost of the mechanism itself."""

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return X

    def right_inverse(self, A: torch.Tensor) -> torch.Tensor:
        return A


def parametrize_api(impl: str) -> ModuleType:
    """The parametrize module of ``impl``: ``paramcheck.parametrize`` or torch's."""
    if impl == "torch":
        return importlib.import_module("torch.nn.utils.parametrize")
    if impl != "paramcheck":
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
    try:
        api = importlib.import_module("paramcheck.parametrize")
    except ImportError as error:
        raise NotImplementedError(f"paramcheck.parametrize is missing: {error}") from error
    for name in ("register_parametrization", "cached"):
        if not hasattr(api, name):
            raise NotImplementedError(f"paramcheck.parametrize has no {name}")
    return api


def device(name: str) -> torch.device:
    """``torch.device(name)``; NotImplementedError where that device is absent."""
    if name == "cuda" and not torch.cuda.is_available():
        raise NotImplementedError("no CUDA device")
    if name not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {name!r}")
    return torch.device(name)


def synchronize(where: torch.device) -> None:
    """Wait for queued GPU work, so that a timer measures it (a no-op on CPU)."""
    if where.type == "cuda":
        torch.cuda.synchronize(where)


def transform_chain(family: str, n: int) -> list[nn.Module]:
    """The parametrizations of ``family`` for an ``n x n`` weight, in registration order."""
    if family == "identity":
        return [Identity()]
    if family not in FAMILIES:
        raise ValueError(f"family must be 'identity' or one of {FAMILIES}, got {family!r}")
    try:
        transforms = importlib.import_module("paramcheck.transforms")
    except ImportError as error:
        raise NotImplementedError(f"paramcheck.transforms is missing: {error}") from error
    name, build = _FACTORIES[family]
    factory = getattr(transforms, name, None)
    if factory is None:  # an older paramcheck, benchmarked with today's benchmarks
        raise NotImplementedError(f"paramcheck.transforms has no {name}")
    made = build(factory, n)
    return list(made) if isinstance(made, Sequence) else [made]


# family -> (the name in ``paramcheck.transforms``, how to call it for an n x n weight).
_FACTORIES: dict[str, tuple[str, Callable[[Any, int], nn.Module | Sequence[nn.Module]]]] = {
    "symmetric": ("Symmetric", lambda make, n: make()),
    "skew": ("Skew", lambda make, n: make()),
    "orthogonal_cayley": ("orthogonal_cayley", lambda make, n: make()),  # Skew, CayleyMap
    "orthogonal_exp": ("orthogonal_exp", lambda make, n: make()),  # Skew, MatrixExponential
    "spd_exp": ("spd_exp", lambda make, n: make()),  # Symmetric, MatrixExponential
    "pruning": ("Pruning", lambda make, n: make((n, n), seed=0)),
    "sphere": ("Sphere", lambda make, n: make()),
    "positive": ("Positive", lambda make, n: make()),
    "stiefel": ("Stiefel", lambda make, n: make()),  # Householder reflections
}


def parametrized_linear(family: str, n: int, impl: str, where: torch.device) -> nn.Linear:
    """A bias-free ``nn.Linear(n, n)`` on ``where`` whose weight is parametrized by ``family``."""
    api = parametrize_api(impl)
    torch.manual_seed(0)
    layer = nn.Linear(n, n, bias=False, dtype=DTYPE)
    for parametrization in transform_chain(family, n):
        api.register_parametrization(layer, "weight", parametrization)
    return layer.to(where)


def caching(impl: str, mode: str) -> AbstractContextManager[None]:
    """``cached()`` of ``impl`` when ``mode`` is "cached", else a context that does nothing."""
    if mode not in (*MODES, "plain"):
        raise ValueError(f"mode must be one of {(*MODES, 'plain')}, got {mode!r}")
    return parametrize_api(impl).cached() if mode == "cached" else nullcontext()


# ----------------------------------------------------------------------------- workloads


class Reads:
    """Read a parametrized weight ``k`` times, uncached or inside one ``cached()`` block.

    What an RNN pays for its recurrent kernel over ``k`` time steps. Uncached, each read
    recomputes the transform; cached, the first read computes it and the others return it.
    The timed call includes entering and leaving the ``cached()`` block.
    """

    def __init__(
        self, family: str, n: int, k: int, mode: str, impl: str = "paramcheck", dev: str = "cpu"
    ) -> None:
        self.where = device(dev)
        self.layer = parametrized_linear(family, n, impl, self.where)
        self.k, self.mode, self.impl = k, mode, impl
        caching(impl, mode)  # validates mode now, not inside the timed call
        self()  # warm-up: first-call allocations, CUDA kernels loading

    def __call__(self) -> None:
        layer = self.layer
        with caching(self.impl, self.mode):
            for _ in range(self.k):
                layer.weight  # noqa: B018 - the read is the workload
        synchronize(self.where)


class WeightReads:
    """Read ``module.weight`` ``reads`` times in a loop: the mechanism's per-read overhead.

    ``variant``: "plain" (an ordinary ``nn.Parameter``), "uncached" (an identity
    parametrization, recomputed on each read) or "cached" (an identity parametrization
    inside a ``cached()`` block that :meth:`open` enters and :meth:`close` leaves, already
    holding the weight: the steady-state cost of a cache hit).
    """

    VARIANTS = ("plain", "uncached", "cached")

    def __init__(self, variant: str, impl: str = "paramcheck", reads: int = 1) -> None:
        if variant not in self.VARIANTS:
            raise ValueError(f"variant must be one of {self.VARIANTS}, got {variant!r}")
        self.variant, self.reads = variant, reads
        where = torch.device("cpu")
        if variant == "plain":
            torch.manual_seed(0)
            self.layer = nn.Linear(8, 8, bias=False, dtype=DTYPE)
        else:
            self.layer = parametrized_linear("identity", 8, impl, where)
        self.impl = impl
        self._block: AbstractContextManager[None] | None = None

    def open(self) -> WeightReads:
        """Enter the ``cached()`` block (for "cached") and warm the cache."""
        if self._block is None:
            mode = "cached" if self.variant == "cached" else "uncached"
            self._block = caching(self.impl, mode)  # a context manager is good for one block
            self._block.__enter__()
        self.layer.weight  # noqa: B018 - fills the cache
        return self

    def close(self) -> None:
        if self._block is not None:
            self._block.__exit__(None, None, None)
            self._block = None

    def __enter__(self) -> WeightReads:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self) -> None:
        layer = self.layer
        for _ in range(self.reads):
            layer.weight  # noqa: B018 - the read is the workload


class Registration:
    """Build an ``nn.Linear(8, 8)`` and register an identity parametrization on its weight.

    Registration mutates the module, so each call builds a fresh one; ``Registration
    ("plain")`` times the build alone, to subtract.
    """

    def __init__(self, impl: str) -> None:
        self.impl = impl
        self.register = None if impl == "plain" else parametrize_api(impl).register_parametrization

    def __call__(self) -> nn.Module:
        layer = nn.Linear(8, 8, bias=False, dtype=DTYPE)
        if self.register is not None:
            self.register(layer, "weight", Identity())
        return layer


class Recurrent:
    """A small recurrent model, ``h <- tanh(W h)`` for ``steps`` steps, forward and backward.

    ``W`` is an ``n x n`` weight parametrized by ``family`` (``mode`` "uncached" or "cached"),
    or a plain parameter (``mode`` "plain"). Each step reads ``W``: uncached, autograd records
    the transform ``steps`` times; cached, once. The timed call runs forward and backward.
    """

    def __init__(
        self,
        family: str,
        n: int,
        mode: str,
        impl: str = "paramcheck",
        dev: str = "cpu",
        steps: int = 16,
        batch: int = 8,
    ) -> None:
        self.where = device(dev)
        if mode == "plain":
            torch.manual_seed(0)
            self.cell = nn.Linear(n, n, bias=False, dtype=DTYPE).to(self.where)
        else:
            self.cell = parametrized_linear(family, n, impl, self.where)
        self.mode, self.impl, self.steps = mode, impl, steps
        generator = torch.Generator().manual_seed(1)
        self.x = torch.randn(batch, n, generator=generator, dtype=DTYPE).to(self.where)
        self()  # warm-up

    def forward(self) -> torch.Tensor:
        """The loss, its autograd graph attached."""
        h = self.x
        with caching(self.impl, self.mode):
            for _ in range(self.steps):
                h = torch.tanh(nn.functional.linear(h, self.cell.weight))
        return h.square().mean()

    def __call__(self) -> None:
        self.cell.zero_grad(set_to_none=True)
        self.forward().backward()
        synchronize(self.where)

    def saved_bytes(self) -> int:
        """Bytes of the tensors autograd keeps for backward, parameters and input excluded.

        Every tensor saved for backward passes through a ``saved_tensors_hooks`` pack hook;
        tensors that share a storage (the cached weight, saved by each step's matmul) are
        counted once. Deterministic: the same model gives the same count on every run.
        """
        outside = {t.untyped_storage().data_ptr() for t in (*self.cell.parameters(), self.x)}
        storages: dict[int, int] = {}

        def pack(tensor: torch.Tensor) -> torch.Tensor:
            storage = tensor.untyped_storage()
            if storage.data_ptr() not in outside:
                storages[storage.data_ptr()] = storage.nbytes()
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            loss = self.forward()  # keeps the graph, hence every counted storage, alive
        total = sum(storages.values())
        del loss
        return total

    def peak_bytes(self) -> int:
        """Peak CUDA memory allocated during one forward and backward, above what was held."""
        if self.where.type != "cuda":
            raise NotImplementedError("peak memory is measured on CUDA only")
        self.cell.zero_grad(set_to_none=True)
        synchronize(self.where)
        torch.cuda.reset_peak_memory_stats(self.where)
        before = torch.cuda.memory_allocated(self.where)
        self()
        return torch.cuda.max_memory_allocated(self.where) - before


# ----------------------------------------------------------------------------- measuring


def _autorange(fn: Callable[[], object], target: float, timer: Callable[[], float]) -> int:
    """How many calls of ``fn`` take at least ``target`` seconds (powers of two)."""
    number = 1
    while number < 1 << 20 and _per_call(fn, number, timer) * number < target:
        number *= 2
    return number


def clock(dev: str) -> Callable[[], float]:
    """The clock of :func:`cost_ratio` for a workload on ``dev``.

    CPU: the process's CPU time, which does not run while the process waits for a core, so
    a ratio measured on a busy machine matches a quiet one (on a 2-core machine with a load
    of 8, five repeats of a ratio agreed within 3%; with the wall clock they spread 2-4x).
    CUDA: the wall clock, since the GPU's time is not the process's CPU time.
    """
    return time.perf_counter if dev == "cuda" else time.process_time


def cost_ratio(
    numerator: Callable[[], object],
    denominator: Callable[[], object],
    timer: Callable[[], float] = time.process_time,
    rounds: int = 25,
    min_rounds: int = 5,
    max_seconds: float = 4.0,
    target: float = 0.002,
) -> float:
    """Cost of ``numerator`` over cost of ``denominator``, measured in this one process.

    The two are timed in alternation, each timing repeating its callable for at least
    ``target`` seconds, for ``rounds`` rounds (fewer, but at least ``min_rounds``, once
    ``max_seconds`` have passed). The ratio is of the two fastest timings: interference
    only ever adds time, so the minimum is the most repeatable estimate of the cost. A ratio
    of two costs measured together is dimensionless and comparable across machines.
    """
    n_numerator = _autorange(numerator, target, timer)
    n_denominator = _autorange(denominator, target, timer)
    best_numerator = best_denominator = math.inf
    began = time.perf_counter()
    for done in range(1, rounds + 1):
        best_numerator = min(best_numerator, _per_call(numerator, n_numerator, timer))
        best_denominator = min(best_denominator, _per_call(denominator, n_denominator, timer))
        if done >= min_rounds and time.perf_counter() - began > max_seconds:
            break
    return float(f"{best_numerator / best_denominator:.4g}")  # 4 digits: the timer's worth


def _per_call(fn: Callable[[], object], number: int, timer: Callable[[], float]) -> float:
    """Seconds per call of ``fn``, over ``number`` calls."""
    start = timer()
    for _ in range(number):
        fn()
    return (timer() - start) / number
