"""``paramcheck.scan``: verify every parametrization registered on a model, as it is there.

For each parametrized tensor (see :mod:`paramcheck._scan._find`), the chain is copied
out of the model with the state it holds (an orthogonal base, spectral-norm vectors, a
pruning mask), given the Spec of its kind (:mod:`paramcheck._scan._infer`) and verified
twice, at the tensor's real shape, dtype and device:

1. on the tensor's *current* original(s): every property's law on the weights the model
   holds now (for ``cache`` and ``state`` the pair is that input twice, for ``batch`` a
   stack of two copies); this runs at any size;
2. by the search around them: Hypothesis' search of the Spec's input domain. Where the
   search cannot draw inputs of that size it says so ("could not test"), never "FAIL".

A property fails when either fails. Then the hazards pass (:mod:`paramcheck._scan._hazards`).
"""

from __future__ import annotations

import copy
import enum
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import strategies as st
from torch import Tensor, nn

from paramcheck._scan._find import ParametrizedTensor, find, find_hooks
from paramcheck._scan._hazards import Context, Hazard, hazards
from paramcheck._scan._infer import Inference, dtype_name, infer, validate_constraints
from paramcheck.errors import UsageError

Outcome = Literal["pass", "fail", "not applicable", "could not test", "upstream"]

#: How a cell of the table shows each outcome.
CELL: dict[str, str] = {"pass": "pass", "fail": "FAIL", "not applicable": "n/a",
                        "could not test": "untested", "upstream": "upstream"}

#: A scan runs a search per property of every tensor: each gets this fraction of the
#: profile's examples (dev 50 -> 10, ci 100 -> 20, thorough 1000 -> 200) unless
#: max_examples is given, and verify shares that out between properties as usual.
SCAN_SHARE = 0.2

#: Hypothesis' health checks and draw failures: the tool could not test, the code did not
#: fail. Matched on the engine's message for them.
_TOOL_LIMITS = ("Hypothesis health check failed", "no valid input could be drawn")


@dataclass(frozen=True)
class Verdict:
    """One property of one tensor: its outcome, why, and on which inputs."""

    property: str
    outcome: Outcome
    message: str = ""
    replay: str = ""


@dataclass(frozen=True)
class TensorScan:
    """One row of a scan: a parametrized tensor, what is known of it, its verdicts."""

    tensor: ParametrizedTensor
    inference: Inference
    verdicts: tuple[Verdict, ...]
    seconds: float
    note: str = ""
    #: The tensor whose search stands for this one's (same chain, configuration, shape,
    #: dtype, device); "" when it was searched itself or not at all.
    search_from: str = ""

    @property
    def failed(self) -> bool:
        return any(v.outcome == "fail" for v in self.verdicts)

    def row(self) -> dict[str, Any]:
        t = self.tensor
        return {
            "tensor": t.path,
            "chain": self.inference.kind,
            "shape": "x".join(map(str, t.shape)) if t.shape is not None else "?",
            "dtype": dtype_name(t.dtype),
            "constraint": self.inference.label,
            "constraint_source": self.inference.source,
            "verdicts": {v.property: v.outcome for v in self.verdicts},
            "search_from": self.search_from,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class ScanReport:
    """What :func:`scan` found: one :class:`TensorScan` per tensor, then the hazards."""

    model: str
    tensors: tuple[TensorScan, ...]
    hazards: tuple[Hazard, ...]
    profile: str
    seconds: float
    not_inferred: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """False when any property of any tensor failed (hazards do not count)."""
        return not any(t.failed for t in self.tensors)

    @property
    def failures(self) -> list[tuple[TensorScan, Verdict]]:
        return [(t, v) for t in self.tensors for v in t.verdicts if v.outcome == "fail"]

    def properties(self) -> list[str]:
        return list(dict.fromkeys(v.property for t in self.tensors for v in t.verdicts))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: rows, failures, hazards."""
        return {
            "model": self.model,
            "ok": self.ok,
            "profile": self.profile,
            "seconds": round(self.seconds, 3),
            "tensors": [{**t.row(), "note": t.note,
                         "verdicts": [v.__dict__ for v in t.verdicts]} for t in self.tensors],
            "hazards": [h.__dict__ for h in self.hazards],
            "not_inferred": list(self.not_inferred),
        }

    def _table(self, markdown: bool) -> list[str]:
        props = self.properties()
        # The constraint column names it; the "holds" column is its property's verdict.
        head = ["tensor", "chain", "shape", "dtype", "constraint",
                *("holds" if p == "constraint" else p for p in props), "time"]
        rows = [[r["tensor"], r["chain"], r["shape"], r["dtype"], r["constraint"],
                 *(CELL[r["verdicts"].get(p, "not applicable")] for p in props),
                 f"{r['seconds']:.2f} s"]
                for r in (t.row() for t in self.tensors)]
        if markdown:
            return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
                    *("| " + " | ".join(r) + " |" for r in rows)]
        widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
        return ["  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)).rstrip()
                for r in (head, *rows)]

    def render(self, markdown: bool = False) -> str:
        verdict = "ok" if self.ok else f"FAILED ({len(self.failures)} checks)"
        lines = [f"paramcheck scan of {self.model}: {len(self.tensors)} parametrized tensors, "
                 f"{verdict} in {self.seconds:.1f} s (profile {self.profile!r})", ""]
        lines += self._table(markdown)
        lines.append("")
        lines.append("pass: held on the current weights and in the search around them; "
                     "untested: could not test (reason below); n/a: does not apply; "
                     "upstream: fails by the design or a defect of the library that ships it")
        shared: dict[str, list[str]] = {}
        for t in self.tensors:
            if t.search_from:
                shared.setdefault(t.search_from, []).append(t.tensor.path)
        for first, others in shared.items():
            lines.append(f"shared search: the search around {first} stands for {len(others)} "
                         f"more tensor(s) with its chain, configuration, shape, dtype and "
                         f"device (each checked on its own weights): {', '.join(others)}")
        for t in self.tensors:
            if t.note:
                lines.append(f"note {t.tensor.path}: {t.note}")
            for v in t.verdicts:
                if v.outcome in ("could not test", "upstream"):
                    lines.append(f"{CELL[v.outcome]} {t.tensor.path} {v.property}: "
                                 f"{v.message.splitlines()[0]}")
        for t, v in self.failures:
            lines += ["", f"FAILED {v.property} of {t.tensor.path} ({t.inference.kind}):"]
            lines += ["  " + s for s in v.message.splitlines()]
            if v.replay:
                lines.append("  replay: " + v.replay.replace("\n", "\n          "))
        if self.hazards:
            lines += ["", f"hazards ({len(self.hazards)}):"]
            lines += ["  " + str(h).replace("\n", "\n  ") for h in self.hazards]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


# --------------------------------------------------------------------------- verification


def _factory(chain: Sequence[nn.Module], inference: Inference) -> Callable[[], list[nn.Module]]:
    """A zero-argument factory of fresh copies of ``chain`` as it is in the model, each
    module carrying the Spec of its kind (for the engine to read)."""
    pristine = [copy.deepcopy(m) for m in chain]
    for m, spec in zip(pristine, inference.specs, strict=True):
        object.__setattr__(m, "spec", spec)  # a plain attribute, as transforms have

    def fresh() -> list[nn.Module]:
        return copy.deepcopy(pristine)

    return fresh


def _current_input(t: ParametrizedTensor) -> Tensor:
    """The X the engine's laws take for this tensor now: the original itself, or the
    weight, for a first map of several originals (weight_norm: X = g·v/‖v‖)."""
    if len(t.originals) == 1:
        return t.originals[0].detach().clone()
    return t.current_weight().clone()


def _verdicts(report: Any, where: str) -> dict[str, Verdict]:
    out = {}
    for r in report.results:
        name = r.prop.name if r.prop is not None else r.property
        status = str(r.status)  # the engine's verdict, by its value
        if status == "passed":
            out[name] = Verdict(name, "pass")
        elif status in ("skipped", "not applicable"):
            out[name] = Verdict(name, "not applicable", r.message)
        elif status == "could not test" or any(s in r.message for s in _TOOL_LIMITS):
            out[name] = Verdict(name, "could not test", f"{where}: {r.message.splitlines()[0]}")
        elif status == "upstream":
            out[name] = Verdict(name, "upstream", f"on {where}: {r.message}", r.replay)
        else:
            out[name] = Verdict(name, "fail", f"on {where}: {r.message}", r.replay)
    return out


def _combine(now: Verdict, search: Verdict | None) -> Verdict:
    if now.outcome == "fail" or search is None:
        return now
    if search.outcome == "fail":
        return search
    if search.outcome == "could not test" and now.outcome == "pass":
        return Verdict(now.property, "pass", f"held on the current weights; the {search.message}")
    return search if now.outcome == "pass" else now


def _upstream(v: Verdict, why: Mapping[str, str]) -> Verdict:
    if v.outcome == "fail" and v.property in why:
        return Verdict(v.property, "upstream", f"{why[v.property]}. Seen: {v.message}", v.replay)
    return v


def _search_settings(max_examples: int | None) -> Any:
    import hypothesis

    from paramcheck._profiles import profile_name, settings_for

    profile = settings_for(profile_name())
    if max_examples is not None:
        return hypothesis.settings(profile, max_examples=max_examples)
    return hypothesis.settings(profile,
                               max_examples=max(1, round(profile.max_examples * SCAN_SHARE)))


def _config(module: nn.Module) -> tuple[object, ...]:
    """What configures a module of a chain besides its tensors: its class and the plain
    values it holds (spectral_norm's n_power_iterations and dim, orthogonal's map...)."""
    plain = (bool, int, float, str, type(None), tuple, enum.Enum)
    return (type(module), tuple(sorted((k, repr(v)) for k, v in vars(module).items()
                                       if not k.startswith("_") and isinstance(v, plain))))


def search_key(t: ParametrizedTensor, inference: Inference) -> tuple[object, ...]:
    """Tensors with equal keys hold the same code, configured the same way, at the same
    shape, dtype and device: the search around one is the search around each (it draws
    its inputs from the Spec's domain, not from the weights). Only the state their chains
    hold (an orthogonal base, spectral-norm vectors, a mask) and their current weights
    differ, and each tensor's own current weights are checked with its own state."""
    return (tuple(_config(m) for m in t.chain), repr(inference.specs), inference.kind,
            inference.label, inference.source, t.shape, t.dtype, t.device, t.implementation)


@dataclass
class SharedSearch:
    """Search verdicts per :func:`search_key`, and the tensor whose chain they ran on."""

    verdicts: dict[tuple[object, ...], dict[str, Verdict]] = field(default_factory=dict)
    first: dict[tuple[object, ...], str] = field(default_factory=dict)


def _verify_tensor(t: ParametrizedTensor, inference: Inference, *, max_examples: int | None,
                   seed: int | None, search: bool, shared: SharedSearch | None = None,
                   ) -> tuple[tuple[Verdict, ...], str, str]:
    import paramcheck

    assert t.shape is not None
    from paramcheck.properties import registry

    fresh = _factory(t.chain, inference)
    X = _current_input(t)
    # Every default property runs at the tensor's real size: the gradient law switches
    # from gradcheck's whole Jacobian to finite differences along a few random directions
    # above 256 entries (paramcheck._directional), a few dozen forward calls at any size.
    run = [p for p in registry() if p.default]
    common: dict[str, Any] = {
        "constraint": inference.constraint, "shape": tuple(X.shape), "dtypes": (t.dtype,),
        "device": t.device, "implementation": t.implementation, "properties": run,
    }
    try:
        now = paramcheck.verify(fresh, inputs=st.just(X), max_examples=1, **common)
    except UsageError as exc:
        return (Verdict("all", "could not test", str(exc)),), "", ""
    found = _verdicts(now, "the current weights")
    # A property that failed on the current weights has its counterexample already: the
    # search (and its shrinking, slow at real sizes) runs for the others only.
    rest = [p for p in run if found.get(p.name, Verdict(p.name, "pass")).outcome == "pass"]
    key = search_key(t, inference)
    known = shared.verdicts.setdefault(key, {}) if shared is not None else {}
    first = shared.first.setdefault(key, t.path) if shared is not None else t.path
    around = {p.name: known[p.name] for p in rest if p.name in known}
    todo = [p for p in rest if p.name not in known]
    if search and todo:
        found_now = _verdicts(paramcheck.verify(
            fresh, settings=_search_settings(max_examples), seed=seed,
            **{**common, "properties": todo}), f"the search around {t.path}")
        around.update(found_now)
        known.update(found_now)
    order = {p.name: i for i, p in enumerate(registry())}
    merged = tuple(sorted(
        (_upstream(_combine(v, around.get(k)), inference.upstream) for k, v in found.items()),
        key=lambda v: order.get(v.property, len(order))))
    note = ""
    if inference.source == "not inferred":
        note = (f"no constraint known for {inference.kind}: verified for the properties "
                f"that need none; pass constraints={{{t.path!r}: ...}} to check one")
    return merged, note, first if search and rest and first != t.path else ""


# ---------------------------------------------------------------------------------- API


def scan(
    model: nn.Module,
    *,
    constraints: Mapping[str, str | Callable[[Tensor], object]] | None = None,
    state_dict: Mapping[str, Any] | None = None,
    example_inputs: Sequence[Any] | None = None,
    max_examples: int | None = None,
    seed: int | None = None,
    search: bool = True,
    share_search: bool = True,
    progress: Callable[[str], None] | None = None,
) -> ScanReport:
    """Verify every parametrized tensor of ``model`` and look for known hazards.

    Args:
        model: the model, with its parametrizations registered (torch's or paramcheck's).
        constraints: tensor-name patterns (``fnmatch``: ``"encoder.*.weight"``) to a
            constraint name or callable; overrides what is inferred for those tensors.
        state_dict: a checkpoint to check against the model (legacy keys...); it is not
            loaded.
        example_inputs: positional arguments of one forward call, for the hazards that
            watch a forward (a tensor recomputed several times per step).
        max_examples: examples per search (the profile's by default).
        seed: seed of every search.
        search: False to check the current weights only (no Hypothesis search).
        share_search: search once per group of tensors with the same chain,
            configuration, shape, dtype and device (the transformer's 96 identical
            projections: one search, 96 checks of their own weights); False to search
            around every tensor.
        progress: called with one line per tensor (the CLI prints it on stderr).

    Returns:
        A :class:`ScanReport`; ``report.ok`` is False when a property failed.
    """
    from paramcheck._profiles import profile_name

    if not isinstance(model, nn.Module):
        raise UsageError(f"scan needs an nn.Module, got {type(model).__name__}")
    given = validate_constraints(constraints)
    start = time.perf_counter()
    found = find(model)
    rows = []
    shared = SharedSearch() if share_search else None
    for i, t in enumerate(found, 1):
        if progress is not None:
            progress(f"[{i}/{len(found)}] {t.path} ({t.chain_name}, "
                     f"{'x'.join(map(str, t.shape or ()))}, {dtype_name(t.dtype)})")
        began = time.perf_counter()
        inference = infer(t, given)
        if t.read_error:
            verdicts: tuple[Verdict, ...] = (Verdict(
                "forward", "fail", f"reading {t.path} from the model raised {t.read_error}"),)
            note = from_ = ""
        elif any(o.device.type == "meta" for o in t.originals):
            verdicts, note, from_ = (Verdict("all", "could not test",
                                             "the originals are on the meta device (no "
                                             "values)"),), "", ""
        else:
            verdicts, note, from_ = _verify_tensor(t, inference, max_examples=max_examples,
                                                   seed=seed, search=search, shared=shared)
        rows.append(TensorScan(t, inference, verdicts, time.perf_counter() - began, note,
                               from_))
    ctx = Context(model, found, find_hooks(model), state_dict,
                  None if example_inputs is None else tuple(example_inputs))
    return ScanReport(
        model=type(model).__name__, tensors=tuple(rows), hazards=tuple(hazards(ctx)),
        profile=profile_name(), seconds=time.perf_counter() - start,
        not_inferred=tuple(sorted({r.inference.kind for r in rows
                                   if r.inference.source == "not inferred"})),
    )
