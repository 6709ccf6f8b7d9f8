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


# ----------------------------------------------------------------------------- compile and export

#: Backends of ``torch.compile`` measured, and "none": the same step run eagerly.
BACKENDS = ("none", "aot_eager", "inductor")


class RecurrentModel(nn.Module):
    """``h <- tanh(W h)`` for ``steps`` steps; ``W`` read at every step.

    The model of the compile and export workloads: ``cell.weight`` is parametrized by
    ``family`` (or a plain parameter for ``family="plain"``), so an uncached forward
    evaluates the transform ``steps`` times and a cached one once.
    """

    def __init__(self, family: str, n: int, impl: str, where: torch.device, steps: int) -> None:
        super().__init__()
        if family == "plain":
            torch.manual_seed(0)
            self.cell = nn.Linear(n, n, bias=False, dtype=DTYPE).to(where)
        else:
            self.cell = parametrized_linear(family, n, impl, where)
        self.steps = steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for _ in range(self.steps):
            h = torch.tanh(nn.functional.linear(h, self.cell.weight))
        return h


def recurrent_loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The loss of a training step; the function ``torch.compile`` compiles.

    One module-level function, compiled once per backend: calling it on several model
    instances shows whether compile's guards hold across them (pytorch/pytorch#125314).
    """
    return model(x).square().mean()


def compiler(backend: str) -> Callable[[nn.Module, torch.Tensor], torch.Tensor]:
    """``recurrent_loss`` compiled with ``backend`` ("none": not compiled)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    # PARAMCHECK_BENCH_BACKENDS="none,aot_eager" leaves inductor out (asv: skipped), for a
    # run that must fit in minutes on a busy 2-core machine.
    wanted = os.environ.get("PARAMCHECK_BENCH_BACKENDS", ",".join(BACKENDS)).split(",")
    if backend not in wanted:
        raise NotImplementedError(f"{backend} is not in PARAMCHECK_BENCH_BACKENDS={wanted}")
    if backend == "none":
        return recurrent_loss
    compiled: Callable[[nn.Module, torch.Tensor], torch.Tensor] = torch.compile(
        recurrent_loss, backend=backend
    )
    return compiled


def _model(family: str, mode: str, impl: str, where: torch.device, n: int, steps: int
           ) -> RecurrentModel:
    """The recurrent model of ``mode``: "plain" is the unparametrized twin."""
    caching(impl, mode)  # validates mode and impl
    return RecurrentModel("plain" if mode == "plain" else family, n, impl, where, steps)


class TrainingStep:
    """One training step of :class:`RecurrentModel`: forward, backward, an SGD step.

    The forward (and, through AOTAutograd, the backward) runs compiled by ``backend``
    (``"none"``: eager), as in a training loop that wraps the model in ``torch.compile``;
    the optimizer step stays eager. ``mode``: "uncached", "cached" (the forward inside one
    ``cached()`` block) or "plain" (the unparametrized twin). The constructor compiles
    (the first call) and warms up, so the timed call is the steady state.
    """

    def __init__(
        self,
        family: str,
        mode: str,
        impl: str = "paramcheck",
        backend: str = "none",
        dev: str = "cpu",
        n: int = 64,
        steps: int = 8,
        batch: int = 16,
    ) -> None:
        self.where = device(dev)
        self.model = _model(family, mode, impl, self.where, n, steps)
        self.loss = compiler(backend)
        self.mode, self.impl = mode, impl
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=1e-3)
        generator = torch.Generator().manual_seed(1)
        self.x = torch.randn(batch, n, generator=generator, dtype=DTYPE).to(self.where)
        self()  # compiles
        self()  # warm-up

    def __call__(self) -> None:
        with caching(self.impl, self.mode):
            loss = self.loss(self.model, self.x)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        synchronize(self.where)


def compile_counts(
    family: str, mode: str, impl: str = "paramcheck", backend: str = "eager", instances: int = 8
) -> dict[str, float]:
    """Compile ``recurrent_loss`` once and run forward and backward on ``instances`` models.

    Returns ``seconds`` (wall clock of the first call: tracing, compiling, running),
    ``cpu_seconds`` (the CPU time of the same: this process's and its finished children's,
    the C++ compiler's included; inductor compiles in this process, ``compile_threads=1``, so
    none of it hides in a worker pool. Unlike the wall clock it does not grow while other
    jobs hold the cores), and torch._dynamo's own counts: ``graphs`` (graphs compiled for the
    first instance), ``graph_breaks`` (for the first instance) and ``recompiles`` (frames
    compiled again for the other ``instances - 1``: 0 when the guards hold across
    instances). Starts from ``torch._dynamo.reset()`` with empty counters; inductor's and
    AOTAutograd's on-disk caches are off, so every call compiles from scratch.
    """
    from torch._dynamo.utils import counters

    cold = (
        torch._inductor.config.patch(fx_graph_cache=False, compile_threads=1),
        torch._functorch.config.patch(enable_autograd_cache=False),
    )
    where = torch.device("cpu")
    models = [_model(family, mode, impl, where, 64, 8) for _ in range(instances)]
    x = torch.randn(16, 64, generator=torch.Generator().manual_seed(1), dtype=DTYPE)
    torch._dynamo.reset()
    counters.clear()
    loss = torch.compile(recurrent_loss, backend=backend)

    def step(model: nn.Module) -> None:
        with caching(impl, mode):
            value = loss(model, x)
        value.backward()

    with cold[0], cold[1]:
        began, began_cpu = time.perf_counter(), _cpu_seconds()
        step(models[0])
        seconds, cpu_seconds = time.perf_counter() - began, _cpu_seconds() - began_cpu
    first_frames = counters["frames"]["ok"]
    graphs = counters["stats"]["unique_graphs"]
    graph_breaks = sum(counters["graph_break"].values())
    with cold[0], cold[1]:
        for model in models[1:]:
            step(model)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "graphs": graphs,
        "graph_breaks": graph_breaks,
        "recompiles": counters["frames"]["ok"] - first_frames,
    }


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have finished (Unix)."""
    try:
        import resource
    except ImportError:  # Windows: this process only
        return time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class Exported:
    """:class:`RecurrentModel` through ``torch.export``, run uncached or inside ``cached()``.

    ``export``: "outside" (``torch.export.export`` called as usual) or "inside" (called
    inside a ``cached()`` block, so the trace reads the weight from the cache). The
    exported program is a graph of aten ops: a parametrization is traced into it, and
    ``cached()`` at run time can no longer change what it computes (pytorch/pytorch#167645).
    ``seconds`` is the wall time of the export.
    """

    def __init__(
        self, family: str, export: str, impl: str = "paramcheck", n: int = 64, steps: int = 8
    ) -> None:
        if export not in ("outside", "inside"):
            raise ValueError(f"export must be 'outside' or 'inside', got {export!r}")
        self.model = _model(family, "uncached", impl, torch.device("cpu"), n, steps)
        self.x = torch.randn(16, n, generator=torch.Generator().manual_seed(1), dtype=DTYPE)
        began = time.perf_counter()
        with caching(impl, "cached" if export == "inside" else "uncached"):
            program = torch.export.export(self.model, (self.x,))
        self.seconds = time.perf_counter() - began
        self.module = program.module()
        self.impl = impl
        self()  # warm-up

    def __call__(self) -> None:
        self.module(self.x)

    def eager(self, mode: str) -> Callable[[], None]:
        """The same model run eagerly, uncached or inside ``cached()``: the reference."""

        def run() -> None:
            with caching(self.impl, mode):
                self.model(self.x)

        return run


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
