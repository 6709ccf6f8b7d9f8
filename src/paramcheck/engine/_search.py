"""One Hypothesis search of one property at one dtype, and its :class:`Verdict`.

The search runs the property's law on inputs drawn by its :class:`Draws` (``@given``
with the plan's settings, the property's share of the examples), stops at the first
failure, lets Hypothesis shrink it, and records the inputs of the last, shrunk failing
call as the counterexample. How it ended decides the verdict:

- the law raised ``AssertionError`` (:class:`PropertyFailed` or a plain ``assert``), or
  any other exception from the parametrization: **failed**;
- the law raised :class:`NotApplicable`: **not applicable**, with its message;
- the law raised :class:`CouldNotJudge` (not this input: a jump of forward inside the
  gradient law's step): Hypothesis draws another (``hypothesis.reject``); if none can be
  judged, **could not test** with its message;
- Hypothesis could not draw (``Unsatisfiable``, a ``FailedHealthCheck`` of the
  strategy, an invalid strategy), or the search ran out of time (``time_limit``) or of
  memory before anything failed (:mod:`paramcheck.engine._limits`): **could not test**,
  with the reason and the fix. This is the tool's limit, never the user's failure;
- the law's failure was traced by blame to a known torch defect
  (:class:`~paramcheck.upstream.UpstreamFailure`), and a second search with every known
  defect routed around (:func:`~paramcheck.upstream.routed_around`) finds nothing:
  **upstream**, naming the defect. If the second search fails, that failure is the
  user's and is reported as **failed**.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import unittest
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import hypothesis
import torch
from hypothesis import configuration
from hypothesis.errors import FailedHealthCheck, FlakyFailure, InvalidArgument, Unsatisfiable

from paramcheck import _blame, upstream
from paramcheck._described import Drawn, dense, described
from paramcheck.engine._limits import Clock, LimitHit, memory_limit, out_of_memory
from paramcheck.engine._plan import Plan
from paramcheck.engine._property import Property
from paramcheck.engine._results import Defect, Failure, Result, Verdict
from paramcheck.errors import CouldNotJudge, NotApplicable, PropertyFailed

#: Inputs up to this many entries run with one intra-op thread (see small_work): a batch
#: of two 256×256 matrices. An op on 2^17 entries takes well under a millisecond on one
#: thread; waking a second one costs more than that on shared cores. Measured on 2 busy
#: cores: verify(Symmetric, shape=(256, 256), max_examples=2) of the constraint and batch
#: laws took 12 s with two threads, 2.7 s with one.
SMALL_WORK = 2 * 256 * 256

#: Hypothesis' refusals to draw: the tool could not test, the law was never judged.
#: (InvalidArgument: a user strategy Hypothesis rejects when it is first drawn from.)
COULD_NOT_DRAW = (Unsatisfiable, FailedHealthCheck, InvalidArgument)


@contextmanager
def private_storage(settings: hypothesis.settings) -> Iterator[None]:
    """Keep Hypothesis' files out of the caller's working directory.

    Besides its example database, Hypothesis caches the constants of the modules it
    tests in ``.hypothesis/`` under the current directory. ``verify`` is a library call:
    unless the caller asked for files (settings with a database, or
    ``HYPOTHESIS_STORAGE_DIRECTORY``), Hypothesis' home is a temporary directory for the
    call, removed afterwards, and the previous home is restored.
    """
    if settings.database is not None or os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    before = configuration.storage_directory(intent_to_write=False).home_directory
    with tempfile.TemporaryDirectory(prefix="paramcheck-hypothesis-") as home:
        configuration.set_hypothesis_home_dir(home)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(before)


@contextmanager
def small_work(numel: int) -> Iterator[None]:
    """Run with one intra-op thread while the drawn tensors are small.

    A 4x4 matmul is over before a second thread wakes up; when the cores are shared
    (pytest -n, other processes) waking it costs milliseconds per op, a hundredfold
    slowdown. Restored on exit.
    """
    before = torch.get_num_threads()
    if numel > SMALL_WORK or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def search(plan: Plan, prop: Property, dtype: torch.dtype) -> Result:
    """Search for a counterexample to ``prop`` at ``dtype``; the verdict as a Result."""
    start = time.perf_counter()
    label = prop.label_for(plan.subject)
    reason = prop.applies(plan.subject)
    if reason is not None:
        return Result(label, dtype, Verdict.NOT_APPLICABLE, message=reason, prop=prop)
    seen: dict[str, Any] = {"drawn": None, "count": 0, "skip": None, "routed": False,
                            "failing": None, "error": None, "unjudged": None}
    devices = [plan.device] if plan.device.type == "cuda" else []
    clock = Clock(plan.time_limit)
    stop_at_dense = not plan.simple and plan.inputs is None and not plan.image

    def body(drawn: tuple[Any, ...]) -> None:
        seen["count"] += 1
        if seen["skip"] is not None:
            return
        clock.check(seen["count"] - 1)  # LimitHit: the tool's limit, see engine._limits
        seen["drawn"] = drawn
        # torch's generator at a fixed seed (the caller's state restored afterwards): a
        # parametrization that draws random numbers (spectral norm's initial vectors)
        # then behaves the same when Hypothesis replays an example to shrink it.
        with torch.random.fork_rng(devices=devices), routed(seen["routed"]), \
                _blame.disabled():
            torch.manual_seed(0)
            try:
                prop.law(plan.subject, *drawn)
            except NotApplicable as exc:
                seen["skip"] = str(exc)
            except CouldNotJudge as exc:  # not this input: Hypothesis draws another
                seen["unjudged"] = str(exc)
                hypothesis.reject()
            except Exception as exc:
                allocation = out_of_memory(exc)
                if allocation is not None:
                    raise memory_limit(allocation, plan.shape) from exc
                seen.update(failing=drawn, error=exc)
                if stop_at_dense and any(map(dense, _descriptions(prop, drawn).values())):
                    raise DenseFailure("dense input failed") from exc  # engine._sizes goes on
                raise

    def blamed(exc: Exception) -> Exception:
        """The shrunk counterexample's failure with blame's measurement: the law is
        replayed once on it with blame on (off during the search, see _blame.ENABLED)."""
        if not isinstance(exc, AssertionError) or seen["drawn"] is None:
            return exc
        with torch.random.fork_rng(devices=devices), routed(seen["routed"]):
            torch.manual_seed(0)
            try:
                prop.law(plan.subject, *seen["drawn"])
            except AssertionError as again:
                return again
            except Exception:
                return exc
        return exc

    strategy = prop.draws.build(plan.originals(dtype))
    test = plan.budget(prop)(hypothesis.given(strategy)(body))
    if plan.seed is not None:
        test = hypothesis.seed(plan.seed)(test)
    common: dict[str, Any] = {"property": label, "dtype": dtype, "prop": prop,
                              "seed": plan.seed}

    def failed(exc: Exception, cut_short: str = "") -> Result:
        inputs = _named(prop, seen["drawn"])
        drawn_from = _descriptions(prop, seen["drawn"])
        how = prop.replay_for(plan.subject)
        how += (f"\n# or: paramcheck.verify(..., seed={plan.seed}) replays the search"
                if plan.seed is not None else
                "\n# or: run verify again (derandomized, or replayed from your database)")
        failure = _as_failure(blamed(exc), prop)
        if cut_short:
            failure.summary += f"\n(shrinking stopped early: {cut_short})"
        known = getattr(failure, "defect", None)
        if isinstance(known, upstream.UpstreamDefect) and not seen["routed"]:
            # Blame traced the failure to a known torch defect: search again with it
            # routed around. If the law then holds, the failure was torch's.
            first = dict(seen)
            seen.update(drawn=None, skip=None, routed=True, failing=None, error=None)
            try:
                test()
            except (*COULD_NOT_DRAW, LimitHit):
                pass
            except DenseFailure:
                seen["drawn"] = seen["failing"]
                failure = _as_failure(blamed(seen["error"]), prop)
                inputs = _named(prop, seen["drawn"])
                drawn_from = _descriptions(prop, seen["drawn"])
                exc = seen["error"]
            except Exception as again:
                failure = _as_failure(blamed(again), prop)
                failure.summary += (f"\n(found with {known.issue} routed around; without "
                                    f"that, the search first met the torch defect)")
                inputs = _named(prop, seen["drawn"])
                drawn_from = _descriptions(prop, seen["drawn"])
                exc = again
            else:
                return Result(
                    status=Verdict.UPSTREAM, message=str(failure), examples=first["count"],
                    seconds=time.perf_counter() - start, counterexample=inputs.get("X"),
                    inputs=inputs, descriptions=drawn_from, replay=how, failure=failure,
                    defect=Defect(
                        op=" / ".join(known.ops[:1]), versions=known.versions,
                        issue=known.issue, workaround=known.workaround), **common)
        return Failure(
            status=Verdict.FAILED, message=str(failure), examples=seen["count"],
            seconds=time.perf_counter() - start, counterexample=inputs.get("X"),
            inputs=inputs, descriptions=drawn_from, reproduce_blob=_blob(exc), replay=how,
            failure=failure, **common)

    def could_not_test(why: str) -> Result:
        return Result(status=Verdict.COULD_NOT_TEST, message=why, examples=seen["count"],
                      seconds=time.perf_counter() - start, **common)

    try:
        test()
    except COULD_NOT_DRAW as exc:
        if isinstance(exc, (Unsatisfiable, FailedHealthCheck)) and seen["unjudged"]:
            return could_not_test(f"no input drawn could be judged; the last: "
                                  f"{seen['unjudged']}")
        return could_not_test(_refusal(exc))
    except DenseFailure:
        seen["drawn"] = seen["failing"]
        return failed(seen["error"])
    except LimitHit as hit:
        if seen["failing"] is None:  # nothing found before the limit: no verdict
            return could_not_test(f"{hit.reason}, none failing; {hit.fix}")
        seen["drawn"] = seen["failing"]  # the smallest failing input reached in time
        return failed(seen["error"], cut_short=hit.reason)
    except Exception as exc:
        return failed(exc)
    if seen["skip"] is not None:
        return Result(status=Verdict.NOT_APPLICABLE, message=seen["skip"],
                      examples=seen["count"], seconds=time.perf_counter() - start, **common)
    return Result(status=Verdict.PASSED, examples=seen["count"],
                  seconds=time.perf_counter() - start, **common)


class DenseFailure(unittest.SkipTest):
    """Stops a search at its first failing input drawn from a dense description (see
    :mod:`paramcheck.engine._sizes`); a ``SkipTest``, so Hypothesis re-raises it at once
    instead of shrinking (as for :class:`~paramcheck.engine._limits.LimitHit`)."""


@contextmanager
def routed(active: bool) -> Iterator[None]:
    """Known torch defects routed around (:func:`paramcheck.upstream.routed_around`)
    when ``active``."""
    if not active:
        yield
        return
    with upstream.routed_around():
        yield


def _named(prop: Property, drawn: object) -> dict[str, torch.Tensor]:
    if not isinstance(drawn, tuple):
        return {}
    return {name: t.detach() for name, t in zip(prop.draws.names, drawn, strict=False)
            if isinstance(t, torch.Tensor)}


def _descriptions(prop: Property, drawn: object) -> dict[str, Drawn]:
    """The description each drawn input was built from, by name (where it has one)."""
    if not isinstance(drawn, tuple):
        return {}
    found = {name: described(t) for name, t in zip(prop.draws.names, drawn, strict=False)}
    return {name: d for name, d in found.items() if d is not None}


def _as_failure(exc: BaseException, prop: Property) -> PropertyFailed:
    """The structured failure: the law's own, or one made from what was raised."""
    if isinstance(exc, PropertyFailed):
        if not exc.law:
            exc.law = prop.name
        return exc
    if isinstance(exc, AssertionError):
        summary = str(exc) or "AssertionError"
    elif isinstance(exc, FlakyFailure):
        inner = "; ".join(str(e).splitlines()[0] for e in exc.exceptions if str(e))
        summary = ("the failure did not reproduce when Hypothesis replayed the same input: "
                   f"the parametrization is not deterministic ({inner})")
    else:
        summary = f"{type(exc).__name__}: {exc}"
    return PropertyFailed(summary, law=prop.name)


def _refusal(exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, Unsatisfiable):
        return f"Hypothesis could not draw a valid input: {first}"
    if isinstance(exc, FailedHealthCheck):
        return f"a Hypothesis health check refused the input strategy: {first}"
    return f"Hypothesis refused the input strategy: {first}"


_BLOB = re.compile(r"@reproduce_failure\((.*?)\)")


def _blob(exc: BaseException) -> str | None:
    for note in getattr(exc, "__notes__", []) or []:
        found = _BLOB.search(str(note))
        if found:
            return found.group(1)
    return None
