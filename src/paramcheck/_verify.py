"""``paramcheck.verify`` and ``paramcheck.check``: every property, searched by Hypothesis.

For each property and dtype, verify runs one Hypothesis search over the input domain
(``@given`` with the settings of the selected profile, see :mod:`paramcheck._profiles`),
stops at the first failure, lets Hypothesis shrink it, and records the input of the last,
shrunk failing call as the counterexample, with what it takes to replay it.

>>> import paramcheck
>>> from paramcheck.transforms import Skew, CayleyMap
>>> report = paramcheck.verify([Skew(), CayleyMap(4)], constraint="orthogonal")
>>> report.ok
True
"""

from __future__ import annotations

import builtins
import math
import operator
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import hypothesis
import torch
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from torch import Tensor

from paramcheck import _numerics as num
from paramcheck import _target as tg
from paramcheck import properties as _props
from paramcheck import strategies as _strategies
from paramcheck._profiles import profile_name
from paramcheck.errors import UsageError, VerificationFailed

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Failure", "Report", "Result", "check", "verify"]

Status = Literal["passed", "failed", "skipped"]

#: Size of the batch the ``batch`` property stacks its inputs into: two items are enough
#: to show a forward that mixes them, and keep the drawn (and shrunk) input small.
BATCH_SIZE = 2

#: The default ``shape`` of verify. Left at it (the very object), a transform whose Spec
#: requires a trailing shape (``Pruning``'s mask, torch's adapters) gets that one.
DEFAULT_SHAPE: tuple[int, ...] = (4, 4)

#: Inputs up to this many entries run with one intra-op thread (see _small_work).
SMALL_WORK = 4096

#: Share of the profile's ``max_examples`` each property's search gets when the caller
#: does not set ``max_examples``. The value laws (constraint, round_trip, batch) depend
#: on every entry of the input and get the full budget; the others test plumbing that
#: one input exercises as well as the next (dtype, device), or cost tens of forward
#: calls per example (gradient runs gradcheck; cache, state, differential register
#: several hosts), and get a fraction; never fewer than MIN_EXAMPLES.
BUDGET_SHARE: dict[str, float] = {
    "constraint": 1.0,
    "round_trip": 1.0,
    "batch": 0.5,
    "cache": 0.25,
    "gradient": 0.25,
    "state": 0.25,
    "differential": 0.25,
    "dtype": 0.1,
    "device": 0.1,
}
MIN_EXAMPLES = 5


@dataclass(frozen=True)
class Result:
    """One row of a report: one property searched at one dtype.

    Attributes:
        property: ``round_trip``, ``cache``, ... or, for the constraint check, the
            constraint's name (or the callable's ``__name__``).
        dtype: the dtype of the drawn inputs.
        status: ``passed``, ``failed`` or ``skipped`` (the property does not apply).
        message: why it failed or was skipped; empty when it passed.
        examples: how many inputs the search ran (including shrinking).
        seconds: wall time of the search.
        counterexample: the minimal failing input tensor (None unless failed).
        inputs: every drawn input of the failing call by name (``X``, and ``X2`` for
            cache and state).
        seed: the Hypothesis seed of the search (None for a derandomized profile).
        reproduce_blob: Hypothesis' ``@reproduce_failure`` arguments, when it gave them.
        replay: how to replay the failure, as code.
    """

    property: str
    dtype: torch.dtype
    status: Status
    message: str = ""
    examples: int = 0
    seconds: float = 0.0
    counterexample: Tensor | None = None
    inputs: dict[str, Tensor] = field(default_factory=dict)
    seed: int | None = None
    reproduce_blob: str | None = None
    replay: str = ""

    # (`property` is a field name here, so the decorator is spelled in full.)
    @builtins.property
    def passed(self) -> bool:
        return self.status == "passed"

    @builtins.property
    def failed(self) -> bool:
        return self.status == "failed"

    @builtins.property
    def skipped(self) -> bool:
        return self.status == "skipped"


@dataclass(frozen=True)
class Failure(Result):
    """A :class:`Result` whose status is ``failed``."""


@dataclass(frozen=True)
class Report:
    """What :func:`verify` found: one :class:`Result` per property and dtype."""

    parametrization: str
    results: tuple[Result, ...]
    constraint: str | None = None
    inputs: str = ""
    shape: tuple[int, ...] = ()
    device: str = "cpu"
    profile: str = ""
    seed: int | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no property failed (skipped ones do not count against it)."""
        return not any(r.failed for r in self.results)

    @property
    def failures(self) -> list[Failure]:
        return [r for r in self.results if isinstance(r, Failure)]

    @property
    def skipped(self) -> list[Result]:
        return [r for r in self.results if r.skipped]

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame with one row per property and dtype."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                'Report.to_frame() needs pandas: pip install "paramcheck[report]"'
            ) from exc
        rows = [
            {
                "property": r.property,
                "dtype": _dtype_name(r.dtype),
                "status": r.status,
                "examples": r.examples,
                "seconds": r.seconds,
                "message": r.message,
                "counterexample": "" if r.counterexample is None
                else num.format_tensor(r.counterexample),
                "seed": r.seed,
            }
            for r in self.results
        ]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["property", "dtype", "status", "examples",
                                           "seconds", "message", "counterexample", "seed"])
        return frame

    def __str__(self) -> str:
        failed = len(self.failures)
        verdict = "ok" if self.ok else f"FAILED ({failed} of {len(self.results)} checks)"
        searched = (f"seed {self.seed}" if self.seed is not None
                    else "derandomized: the same call gives the same searches")
        lines = [
            f"paramcheck.verify({self.parametrization}): {verdict} in {self.seconds:.2f} s",
            f"  inputs {self.inputs}, shape {self.shape}, device {self.device}, "
            f"constraint {self.constraint!r}, profile {self.profile!r}, {searched}",
        ]
        dtypes = list(dict.fromkeys(r.dtype for r in self.results))
        props = list(dict.fromkeys(r.property for r in self.results))
        width = max([len(p) for p in props] + [8])
        lines.append("  " + "property".ljust(width) + "".join(
            f"  {_dtype_name(d):<10}" for d in dtypes))
        cells = {(r.property, r.dtype): r for r in self.results}
        for p in props:
            row = "  " + p.ljust(width)
            for d in dtypes:
                r = cells.get((p, d))
                row += f"  {('-' if r is None else _cell(r)):<10}"
            lines.append(row)
        for r in self.results:
            if r.skipped:
                lines.append(f"  skipped {r.property} [{_dtype_name(r.dtype)}]: {r.message}")
        for r in self.failures:
            lines.append("")
            lines.append(f"FAILED {r.property} [{_dtype_name(r.dtype)}] after "
                         f"{r.examples} examples:")
            lines.extend("  " + line for line in r.message.splitlines())
            for name, t in r.inputs.items():
                lines.append(f"  counterexample {name} (shape {tuple(t.shape)}, "
                             f"{_dtype_name(t.dtype)}):")
                lines.append("    " + num.format_tensor(t).replace("\n", "\n    "))
            if r.replay:
                lines.append("  replay: " + r.replay.replace("\n", "\n          "))
        return "\n".join(lines)


def _cell(r: Result) -> str:
    return {"passed": "passed", "failed": "FAILED", "skipped": "skipped"}[r.status]


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


# ---------------------------------------------------------------------------- arguments


@dataclass(frozen=True)
class _Plan:
    """Validated arguments of one verify call."""

    target: tg.Target
    constraint: tuple[str, object] | None  # (label in the report, name or predicate)
    shape: tuple[int, ...]
    dtypes: tuple[torch.dtype, ...]
    device: torch.device
    domain: str
    bound: float
    inputs: SearchStrategy[Tensor] | None
    implementation: Any
    settings: hypothesis.settings
    seed: int | None
    explicit_examples: bool
    properties: tuple[str, ...]


@contextmanager
def _small_work(numel: int) -> Iterator[None]:
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


def _validate_shape(shape: object, min_ndim: int) -> tuple[int, ...]:
    try:
        if isinstance(shape, str | bytes) or not isinstance(shape, Sequence):
            raise TypeError
        if any(isinstance(d, bool) for d in shape):
            raise TypeError
        dims = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise UsageError(f"shape must be a tuple of ints such as (4, 4), got {shape!r}") from None
    if len(dims) < min_ndim or any(d <= 0 for d in dims):
        raise UsageError(
            f"shape must have at least {min_ndim} dimensions, all positive (leading ones "
            f"are a batch), got {dims}")
    return dims


def _validate_dtypes(dtypes: object) -> tuple[torch.dtype, ...]:
    values = (dtypes,) if isinstance(dtypes, torch.dtype) else dtypes
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise TypeError(f"dtypes must be a tuple of torch dtypes, got {dtypes!r}")
    if not values:
        raise UsageError("dtypes is empty; give at least one, e.g. (torch.float64,)")
    for d in values:
        if not isinstance(d, torch.dtype) or not d.is_floating_point:
            raise TypeError(
                f"dtypes must be floating torch dtypes (torch.float32, torch.float64), got "
                f"{d!r}: parametrized weights are floating point")
    return tuple(values)


def _validate_device(device: object) -> torch.device:
    try:
        dev: torch.device = torch.device(device)  # type: ignore[call-overload]
    except (RuntimeError, TypeError):
        raise UsageError(f"device {device!r} is not a torch device; use 'cpu' or 'cuda'"
                         ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device {str(dev)!r} was asked for, but torch.cuda.is_available() "
                         f"is False here; use device='cpu'")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise UsageError(f"device {str(dev)!r} does not exist: there are "
                         f"{torch.cuda.device_count()} CUDA devices")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError("device 'mps' was asked for, but MPS is not available here")
    if dev.type == "meta":
        raise UsageError("device 'meta' holds no data to check; the device property already "
                         "probes it")
    return dev


def _settings(base: object, max_examples: object, seed: object
              ) -> tuple[hypothesis.settings, int | None, str]:
    if base is None:
        name = profile_name()
        parent = hypothesis.settings.get_profile(name)
    elif isinstance(base, hypothesis.settings):
        name, parent = "custom", base
    else:
        raise TypeError(f"settings must be a hypothesis.settings, got {type(base).__name__}")
    overrides: dict[str, Any] = {
        # verify is a library call: no state across calls, one bug per search.
        "database": None,
        "report_multiple_bugs": False,
        "print_blob": True,
        # The explain phase reruns the shrunk example with parts varied to annotate
        # Hypothesis' own report, which verify does not show: skip its cost.
        "phases": tuple(p for p in parent.phases if p != hypothesis.Phase.explain),
    }
    if max_examples is not None:
        if isinstance(max_examples, bool) or not isinstance(max_examples, int) or \
                max_examples < 1:
            raise UsageError(f"max_examples must be a positive int, got {max_examples!r}")
        overrides["max_examples"] = max_examples
    used: int | None
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise UsageError(f"seed must be an int, got {seed!r}")
        overrides["derandomize"] = False
        used = seed
    elif parent.derandomize:
        used = None
    else:
        used = secrets.randbelow(2**32)  # chosen here so the report can tell it
    return hypothesis.settings(parent, **overrides), used, name


def _plan(
    parametrization: object, *, constraint: object, shape: object, dtypes: object,
    device: object, max_examples: object, seed: object, inputs: object,
    implementation: object, settings: object, properties: object,
) -> tuple[_Plan, str]:
    target = parametrization if isinstance(parametrization, tg.Target) else tg.Target(
        parametrization)
    spec_in, spec_out = target.spec_for_inputs(), target.spec_for_constraint()
    required = next((s.shape for s in target.specs() if s.shape is not None), None)
    if shape is DEFAULT_SHAPE and required is not None:
        shape = required
    dims = _validate_shape(shape, spec_in.min_ndim if spec_in else 1)
    if required is not None and dims[len(dims) - len(required):] != tuple(required):
        raise UsageError(
            f"{target.name} was built for tensors of shape {tuple(required)} (leading "
            f"dimensions may be a batch); got shape {dims}")
    dts = _validate_dtypes(dtypes)
    dev = _validate_device(device)
    if spec_in is not None:
        unsupported = [d for d in dts if d not in spec_in.dtypes]
        if unsupported:
            raise UsageError(
                f"{target.name} supports dtypes {[_dtype_name(d) for d in spec_in.dtypes]}, "
                f"not {[_dtype_name(d) for d in unsupported]}")
        if spec_in.square and dims[-1] != dims[-2]:
            raise UsageError(f"{target.name} needs square matrices; got shape {dims}")

    chosen: tuple[str, object] | None = None
    if constraint is None and spec_out is not None:
        constraint = spec_out.constraint
    if constraint is not None:
        label, _ = _props.resolve_constraint(constraint)  # validates the name
        chosen = (label, constraint)

    if inputs is not None and not isinstance(inputs, SearchStrategy):
        raise TypeError(f"inputs must be a Hypothesis strategy for the original tensor, got "
                        f"{type(inputs).__name__}")
    domain = spec_in.inputs if spec_in is not None else "matrix"
    bound = spec_in.bound if spec_in is not None else 1.0
    if inputs is None:
        for d in dts:  # validates the domain against the shape (square, bound)
            _strategies.domain(domain, dims, dtype=d, device="cpu", bound=bound)

    impl = tg.implementation(implementation)
    hyp, used_seed, profile = _settings(settings, max_examples, seed)

    selected = _props.PROPERTIES
    if properties is not None:
        if isinstance(properties, str) or not isinstance(properties, Sequence):
            properties = [properties]
        wanted = [str(p) for p in properties]
        # The constraint's row may be asked for by the constraint's own name.
        own = chosen[0] if chosen else "constraint"
        unknown = [p for p in wanted if p not in _props.PROPERTIES and p != own]
        if unknown:
            raise UsageError(f"unknown properties {unknown}; choose from "
                             f"{', '.join(_props.PROPERTIES)}")
        selected = tuple(p for p in _props.PROPERTIES
                         if p in wanted or (p == "constraint" and own in wanted))

    plan = _Plan(
        target=target, constraint=chosen, shape=dims, dtypes=dts, device=dev, domain=domain,
        bound=bound, inputs=inputs, implementation=impl, settings=hyp, seed=used_seed,
        explicit_examples=max_examples is not None, properties=selected,
    )
    return plan, profile


# ------------------------------------------------------------------------------ searches


def _input_strategy(plan: _Plan, dtype: torch.dtype) -> SearchStrategy[Tensor]:
    if plan.inputs is not None:
        return plan.inputs.map(lambda t: t.to(device=plan.device, dtype=dtype))
    return _strategies.domain(plan.domain, plan.shape, dtype=dtype, device=plan.device,
                              bound=plan.bound)


def _property_call(plan: _Plan, name: str) -> tuple[Callable[[Any], None], str]:
    """The function a search calls with each drawn example, and its replay text."""
    t, impl = plan.target, plan.implementation
    gradient_domain = plan.domain if plan.inputs is None else "matrix"
    if name == "constraint":
        assert plan.constraint is not None
        label, check = plan.constraint
        shown = repr(check) if isinstance(check, str) else label
        return (lambda X: _props.constraint(t, X, check),
                f"paramcheck.properties.constraint(parametrization, X, {shown})")
    if name == "round_trip":
        return (lambda X: _props.round_trip(t, X),
                "paramcheck.properties.round_trip(parametrization, X)")
    if name == "cache":
        return (lambda XX: _props.cache(t, XX[0], XX[1], implementation=impl),
                "paramcheck.properties.cache(parametrization, X, X2)")
    if name == "gradient":
        return (lambda X: _props.gradient(t, X, domain=gradient_domain),
                f"paramcheck.properties.gradient(parametrization, X, domain={gradient_domain!r})")
    if name == "batch":
        return lambda X: _props.batch(t, X), "paramcheck.properties.batch(parametrization, X)"
    if name == "dtype":
        return lambda X: _props.dtype(t, X), "paramcheck.properties.dtype(parametrization, X)"
    if name == "device":
        return lambda X: _props.device(t, X), "paramcheck.properties.device(parametrization, X)"
    if name == "state":
        return (lambda XX: _props.state(t, XX[0], XX[1], implementation=impl),
                "paramcheck.properties.state(parametrization, X, X2)")
    if name == "differential":
        return (lambda X: _props.differential(t, X),
                "paramcheck.properties.differential(parametrization, X)")
    raise AssertionError(f"unknown property {name}")  # pragma: no cover


def _strategy_for(plan: _Plan, name: str, dtype: torch.dtype) -> SearchStrategy[Any]:
    single = _input_strategy(plan, dtype)
    if name == "batch":
        return _strategies.batched(single, (BATCH_SIZE,))
    if name in ("cache", "state"):
        return st.tuples(single, single)
    return single


def _precondition(plan: _Plan, name: str) -> tuple[Status, str] | None:
    """A verdict reached before searching (skipped, or failed to start), or None."""
    if name == "constraint" and plan.constraint is None:
        return "skipped", ("no constraint: pass constraint= (a name from "
                           "paramcheck.constraints or a callable), or use a transform whose "
                           "Spec names one")
    if name == "round_trip":
        missing = tg.has_right_inverse(plan.target.modules)
        if missing is not None:
            return "skipped", f"{missing} has no right_inverse"
        if any(not s.inverse_exact for s in plan.target.specs()):
            return "skipped", ("right_inverse is not exact on the image (Spec.inverse_exact "
                               "is False)")
    if name == "batch" and any(not s.batched for s in plan.target.specs()):
        return "skipped", ("leading dimensions are not a batch for this transform "
                           "(Spec.batched is False)")
    if name == "differential":
        try:
            tg.implementation("paramcheck")
        except ImportError as exc:
            return "failed", (
                "the differential property compares paramcheck.parametrize with "
                f"torch.nn.utils.parametrize, and importing paramcheck.parametrize failed: {exc}")
    return None


_BLOB = re.compile(r"@reproduce_failure\((.*?)\)")


def _blob(exc: BaseException) -> str | None:
    for note in getattr(exc, "__notes__", []) or []:
        found = _BLOB.search(str(note))
        if found:
            return found.group(1)
    return None


def _message(exc: BaseException) -> str:
    if isinstance(exc, AssertionError):
        return str(exc) or "AssertionError"
    if isinstance(exc, hypothesis.errors.FlakyFailure):
        inner = "; ".join(str(e).splitlines()[0] for e in exc.exceptions if str(e))
        return ("the failure did not reproduce when Hypothesis replayed the same input: the "
                f"parametrization is not deterministic ({inner})")
    if isinstance(exc, hypothesis.errors.Unsatisfiable):
        return f"no valid input could be drawn: {exc}"
    if isinstance(exc, hypothesis.errors.FailedHealthCheck):
        return f"Hypothesis health check failed while drawing inputs: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _budget(plan: _Plan, name: str) -> hypothesis.settings:
    if plan.explicit_examples:
        return plan.settings
    share = BUDGET_SHARE.get(name, 1.0)
    total = plan.settings.max_examples
    count = max(min(MIN_EXAMPLES, total), math.ceil(total * share))
    return hypothesis.settings(plan.settings, max_examples=count)


def _search(plan: _Plan, name: str, label: str, dtype: torch.dtype) -> Result:
    start = time.perf_counter()
    early = _precondition(plan, name)
    if early is not None:
        status, why = early
        kind = Failure if status == "failed" else Result
        return kind(label, dtype, status, message=why)
    call, replay = _property_call(plan, name)
    seen: dict[str, Any] = {"example": None, "count": 0, "skip": None}

    devices = [plan.device] if plan.device.type == "cuda" else []

    def body(example: Any) -> None:
        seen["count"] += 1
        if seen["skip"] is not None:
            return
        seen["example"] = example
        # torch's generator at a fixed seed (the caller's state restored afterwards): a
        # parametrization that draws random numbers (spectral norm's initial vectors)
        # then behaves the same when Hypothesis replays an example to shrink it.
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(0)
            try:
                call(example)
            except tg.NotApplicable as exc:
                seen["skip"] = str(exc)

    test = _budget(plan, name)(hypothesis.given(_strategy_for(plan, name, dtype))(body))
    if plan.seed is not None:
        test = hypothesis.seed(plan.seed)(test)
    try:
        test()
    except Exception as exc:
        example = seen["example"]
        inputs = _named_inputs(example)
        how = replay
        if plan.seed is not None:
            how += f"\n# or: paramcheck.verify(..., seed={plan.seed}) replays the search"
        else:
            how += "\n# or: run verify again: the search is derandomized"
        return Failure(
            label, dtype, "failed", message=_message(exc), examples=seen["count"],
            seconds=time.perf_counter() - start,
            counterexample=inputs.get("X"), inputs=inputs, seed=plan.seed,
            reproduce_blob=_blob(exc), replay=how,
        )
    if seen["skip"] is not None:
        return Result(label, dtype, "skipped", message=seen["skip"], examples=seen["count"],
                      seconds=time.perf_counter() - start, seed=plan.seed)
    return Result(label, dtype, "passed", examples=seen["count"],
                  seconds=time.perf_counter() - start, seed=plan.seed)


def _named_inputs(example: object) -> dict[str, Tensor]:
    if isinstance(example, Tensor):
        return {"X": example.detach()}
    if isinstance(example, tuple) and all(isinstance(t, Tensor) for t in example):
        return {("X" if i == 0 else f"X{i + 1}"): t.detach() for i, t in enumerate(example)}
    return {}


# ------------------------------------------------------------------------------ the API


def verify(
    parametrization: object,
    *,
    constraint: str | Callable[[Tensor], object] | None = None,
    shape: Sequence[int] = DEFAULT_SHAPE,
    dtypes: Sequence[torch.dtype] | torch.dtype = (torch.float32, torch.float64),
    device: str | torch.device = "cpu",
    max_examples: int | None = None,
    seed: int | None = None,
    inputs: SearchStrategy[Tensor] | None = None,
    implementation: object = "torch",
    settings: hypothesis.settings | None = None,
    properties: Sequence[str] | None = None,
) -> Report:
    """Search for counterexamples to every property of ``parametrization``.

    Args:
        parametrization: an ``nn.Module``, a sequence of modules (a chain, applied in
            order as stacked registrations would be), or a zero-argument callable
            returning either (called afresh for each example).
        constraint: a name from :mod:`paramcheck.constraints`, a callable taking the
            output tensor and returning a bool (or a bool tensor), or None: the
            transform's ``Spec`` decides (the last module's, or a ``Chain``'s own).
        shape: the shape of the original tensor; leading dimensions are a batch.
        dtypes: the floating dtypes to check; each gets its own searches.
        device: where inputs and modules live (``"cpu"``, ``"cuda"``).
        max_examples: examples per search; by default, the profile's (see
            ``PARAMCHECK_PROFILE``), shared out between properties (``BUDGET_SHARE``).
        seed: seed of every search, for a reproducible run.
        inputs: a Hypothesis strategy for the original tensor, to restrict the domain
            (nonzero, full rank...); by default the first module's ``Spec.inputs``
            domain, or bounded matrices.
        implementation: the parametrize module hosting the chain for cache and state:
            ``"torch"`` (default), ``"paramcheck"`` or a module.
        settings: Hypothesis settings to use instead of the profile's.
        properties: run only these (names from ``paramcheck.properties.PROPERTIES``).

    Returns:
        A :class:`Report`. A parametrization that raises, returns a wrong shape, NaN or
        not a tensor gives failing results; verify itself raises only for bad arguments
        (``UsageError``, a ``ValueError``, or ``TypeError``).
    """
    start = time.perf_counter()
    plan, profile = _plan(
        parametrization, constraint=constraint, shape=shape, dtypes=dtypes, device=device,
        max_examples=max_examples, seed=seed, inputs=inputs, implementation=implementation,
        settings=settings, properties=properties,
    )
    results: list[Result] = []
    with _small_work(math.prod(plan.shape) * BATCH_SIZE):
        for name in plan.properties:
            label = plan.constraint[0] if name == "constraint" and plan.constraint else name
            for dtype in plan.dtypes:
                results.append(_search(plan, name, label, dtype))
    domain = "a custom strategy" if plan.inputs is not None else (
        f"domain {plan.domain!r} (bound {plan.bound:g})")
    return Report(
        parametrization=plan.target.name,
        results=tuple(results),
        constraint=plan.constraint[0] if plan.constraint else None,
        inputs=domain,
        shape=plan.shape,
        device=str(plan.device),
        profile=profile,
        seed=plan.seed,
        seconds=time.perf_counter() - start,
    )


def check(
    parametrization: object,
    *,
    constraint: str | Callable[[Tensor], object] | None = None,
    shape: Sequence[int] = DEFAULT_SHAPE,
    dtypes: Sequence[torch.dtype] | torch.dtype = (torch.float32, torch.float64),
    device: str | torch.device = "cpu",
    max_examples: int | None = None,
    seed: int | None = None,
    inputs: SearchStrategy[Tensor] | None = None,
    implementation: object = "torch",
    settings: hypothesis.settings | None = None,
    properties: Sequence[str] | None = None,
) -> Report:
    """:func:`verify`, raising :class:`~paramcheck.errors.VerificationFailed` (an
    ``AssertionError`` carrying the report) when anything fails. For pytest::

        def test_my_parametrization():
            paramcheck.check([Skew(), MyCayley(4)], constraint="orthogonal")
    """
    report = verify(
        parametrization, constraint=constraint, shape=shape, dtypes=dtypes, device=device,
        max_examples=max_examples, seed=seed, inputs=inputs, implementation=implementation,
        settings=settings, properties=properties,
    )
    if not report.ok:
        raise VerificationFailed(report)
    return report
