"""The limits of the tool, not of the parametrization: time and memory.

At 4096×4096 one example can take seconds and one allocation gigabytes. When a search
runs out of its time (``verify(..., time_limit=60)``) or the machine runs out of memory,
the law was not judged: the verdict is **could not test**, with the reason and what to
change, never a failure of the user's code. (A failure found before the limit was hit is
still a failure: the search reports it with the smallest counterexample it reached.)

A search stops by raising :class:`LimitHit` from inside the Hypothesis test body: a
subclass of ``unittest.SkipTest``, one of the exceptions Hypothesis re-raises at once
instead of treating it as a failure to shrink (``hypothesis.core.skip_exceptions_to_reraise``).
"""

from __future__ import annotations

import time
import unittest

import torch

__all__ = ["Clock", "LimitHit", "memory_limit", "out_of_memory"]

#: What torch's CPU allocator says when an allocation fails (c10's alloc_cpu.cpp: "can't
#: allocate memory" on POSIX, "not enough memory" on Windows); CUDA raises
#: torch.OutOfMemoryError.
_CPU_ALLOCATOR = ("DefaultCPUAllocator: can't allocate memory",
                  "DefaultCPUAllocator: not enough memory")


class LimitHit(unittest.SkipTest):
    """A search stopped by a limit of the tool: ``reason`` (what ran out) and ``fix``."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(f"{reason}; {fix}")
        self.reason = reason
        self.fix = fix


def out_of_memory(exc: BaseException) -> BaseException | None:
    """The allocation failure (CPU or CUDA) ``exc`` is or was raised from (the chain of
    causes: the engine wraps what the parametrization raised), or None: the law's failure."""
    seen: set[int] = set()
    found: BaseException | None = exc
    while found is not None and id(found) not in seen:
        if isinstance(found, torch.OutOfMemoryError | MemoryError) or (
                isinstance(found, RuntimeError) and any(m in str(found) for m in _CPU_ALLOCATOR)):
            return found
        seen.add(id(found))
        found = found.__cause__ or found.__context__
    return None


def memory_limit(exc: BaseException, shape: tuple[int, ...]) -> LimitHit:
    """The :class:`LimitHit` for the allocation failure ``exc`` at ``shape``."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return LimitHit(f"out of memory at shape {shape} ({type(exc).__name__}: {first})",
                    "verify at a smaller shape, or where there is more memory")


class Clock:
    """The time left to one search: :meth:`check` raises :class:`LimitHit` once
    ``limit`` seconds have passed since the clock was made (never, when ``limit`` is None)."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.start = time.perf_counter()

    def check(self, examples: int) -> None:
        if self.limit is None or time.perf_counter() - self.start <= self.limit:
            return
        raise LimitHit(
            f"the time limit of {self.limit:g} s was reached after {examples} examples",
            "give a larger time_limit, fewer max_examples or a smaller shape")
