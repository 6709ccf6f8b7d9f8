"""asv: parametrized models under ``torch.compile``: step time, compile time, recompiles.

The model is ``_workloads.RecurrentModel``: ``h <- tanh(W h)`` over 8 steps, ``W`` a
64 x 64 parametrized weight read at each step; its twin ("plain") has an ordinary weight.
What users report (pytorch/pytorch#125710, #125314, #167645): compiling is slower with
parametrizations, and a new class per parametrized instance defeats compile's guards.

Heavy (each inductor compile takes 20-40 s on 2 cores): not in the CI subset, and one asv
process per benchmark (``processes = 1``; asv's default of 2 compiles everything twice).
The counts are deterministic; the step times' spread comes from the samples of one process.
"""

from __future__ import annotations

from typing import Any

from ._grid import COMPILE_FAMILIES, IMPLS, MODES, STEP_FAMILY, require_device


def _no_duplicate_twin(mode_or_family: str, impl: str) -> None:
    """The plain twin has no parametrization, so no implementation: measure it once."""
    if mode_or_family == "plain" and impl != "paramcheck":
        raise NotImplementedError("the plain twin is measured once, under impl=paramcheck")


class CompiledStep:
    """Seconds per training step (forward, backward, SGD step), compiled or eager.

    ``backend``: "none" (eager), "aot_eager" or "inductor"; ``mode``: "plain" (the
    unparametrized twin), "uncached", or "cached" (forward inside ``cached()``). Setup
    compiles and warms up: the time is the steady state.
    """

    processes = 1  # see the module docstring
    params = (["plain", *MODES], list(IMPLS), ["none", "aot_eager", "inductor"], ["cpu", "cuda"])
    param_names = ("mode", "impl", "backend", "device")
    timeout = 600

    def setup(self, mode: str, impl: str, backend: str, device: str) -> None:
        _no_duplicate_twin(mode, impl)
        require_device(device)
        from ._workloads import TrainingStep

        self.step = TrainingStep(STEP_FAMILY, mode, impl, backend, device)

    def time_step(self, mode: str, impl: str, backend: str, device: str) -> None:
        self.step()


class CompileTime:
    """CPU seconds of the first compiled forward and backward (tracing, compiling, running).

    CPU time of the process and of the C++ compiler it runs (``_workloads.compile_counts``),
    so a busy machine does not inflate it; inductor's and AOTAutograd's on-disk caches are
    off, so every run compiles from scratch. ``aot_eager`` for every family; ``inductor``
    (20-40 s a compile on 2 cores) for the step family and its plain twin only.
    """

    processes = 1  # see the module docstring
    params = (["plain", *COMPILE_FAMILIES], list(IMPLS), ["aot_eager", "inductor"])
    param_names = ("family", "impl", "backend")
    unit = "seconds"
    timeout = 900

    def setup(self, family: str, impl: str, backend: str) -> None:
        _no_duplicate_twin(family, impl)
        if backend == "inductor" and family not in ("plain", STEP_FAMILY):
            raise NotImplementedError(f"inductor: {STEP_FAMILY} and plain only (cost)")

    def track_compile_seconds(self, family: str, impl: str, backend: str) -> float:
        from ._workloads import compile_counts

        mode = "plain" if family == "plain" else "uncached"
        counts = compile_counts(family, mode, impl, backend, instances=1)
        return round(counts["cpu_seconds"], 3)


class Recompiles:
    """torch._dynamo's counts over 8 instances of the model, one compiled function.

    ``track_recompiles``: frames compiled again for instances 2-8 (0: the guards hold across
    instances; 7: one compile per instance). ``track_graph_breaks``: graph breaks while
    compiling the first. Counted with the "eager" backend: the counts are Dynamo's, the
    same for every backend, and eager does not spend time compiling what it counts.
    """

    processes = 1  # see the module docstring
    params = (["plain", *COMPILE_FAMILIES], list(IMPLS), list(MODES))
    param_names = ("family", "impl", "mode")
    unit = "count"
    timeout = 300

    def setup(self, family: str, impl: str, mode: str) -> None:
        _no_duplicate_twin(family, impl)
        from ._workloads import compile_counts

        self.counts: dict[str, Any] = compile_counts(
            family, "plain" if family == "plain" else mode, impl, "eager", instances=8
        )

    def track_recompiles(self, family: str, impl: str, mode: str) -> int:
        return int(self.counts["recompiles"])

    def track_graph_breaks(self, family: str, impl: str, mode: str) -> int:
        return int(self.counts["graph_breaks"])
