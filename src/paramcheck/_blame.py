"""Blame: the first torch operation at which a failing computation departs from a reference.

When a numerical law fails (``batch``: an item of a batch differs from the lone matrix;
``round_trip`` or a constraint in float32), the question a user asks is *where*. Blame
answers it by measurement, not by guessing at the user's mistake: the computation is
run twice, once as it failed (the *test* run) and once as a reference that should agree
with it, and every torch call of both runs is recorded with
:class:`torch.overrides.TorchFunctionMode` (torch's own hook for exactly this: it sees
``torch.linalg.matrix_exp``, ``X.mT``, ``A @ B`` as the user wrote them, one level deep,
not the aten ops they decompose into). The two recordings are aligned op by op
(:class:`difflib.SequenceMatcher` over ``(op, source line)``, so a branch taken in one run
only does not derail the rest) and the first op on the path to the result whose output
departs while its inputs still agree is the one named::

    diverges first at torch.linalg.matrix_exp (mymodel.py:41): lone 0.53326 vs batched 0.53330

The references (see :func:`against_batch`, :func:`against_float64`):

- *batched vs lone*: the same computation on a matrix alone and as an item of a batch.
  A correct op gives the same numbers up to rounding (``2·n·eps``, a different blocking of
  the same sums); one that does not is either the user's batch handling (``X.T``
  transposing the batch, a norm over the whole tensor) or a torch defect.
- *float32 vs a float64 shadow*: the same computation on the same numbers in float64,
  with the modules converted. The op where float32 first loses accuracy is named.

"Departs" is measured relative to the failure itself: with ``G`` the relative gap of the
two final results, an op departs when the relative gap of its output exceeds
``τ = max(2·n·eps, G/16)`` while every input it got from an earlier op is within ``τ``.
Ops whose output is not on the path to the result (a norm taken only for an ``if``) are
never blamed. Since the inputs of the runs agree (gap 0) and the result differs by
``G > τ``, some op on the path crosses ``τ``; if the runs take paths too different to align,
blame says it cannot locate the departure rather than naming a wrong op.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import difflib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from paramcheck import _numerics as num
from paramcheck import _recording as rec
from paramcheck import _target as tg
from paramcheck import upstream
from paramcheck.upstream import UpstreamDefect

__all__ = ["Blame", "Divergence", "against_batch", "against_float64", "explain",
           "first_divergence", "float32_state", "for_law"]

#: ``τ = max(SLACK·n·eps, G/FRACTION)`` (see the module docstring). SLACK is
#: ``SAME_COMPUTATION_SLACK``: two evaluations of one op on equal inputs differ by at most
#: a reordering of its sums. FRACTION: an op that accounts for less than 1/16 of the final
#: gap is rounding on the way, not the departure; 1/16 leaves room for an amplification
#: of 16 by the ops after it (the MAP_SLACK reasoning of _numerics, κ_f·κ_g ≤ 16).
SLACK = num.SAME_COMPUTATION_SLACK
FRACTION = 16.0

@dataclass(frozen=True)
class Divergence:
    """The op at which two runs part: its name, the caller's line, the values there."""

    op: str
    location: str
    path: str
    index: tuple[int, ...]
    test_value: float
    reference_value: float
    relative_gap: float
    test_label: str
    reference_label: str
    shape_note: str = ""
    args: tuple[Any, ...] = field(default=(), repr=False, compare=False)
    kwargs: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __str__(self) -> str:
        where = f"{self.op} ({self.location})"
        if self.shape_note:
            return f"diverges first at {where}: {self.shape_note}"
        a, b = _distinct(self.test_value, self.reference_value)
        return (f"diverges first at {where}: {self.test_label} {a} vs "
                f"{self.reference_label} {b} (entry {list(self.index)}, relative gap "
                f"{self.relative_gap:.2g})")


@dataclass(frozen=True)
class Blame:
    """What blame found: a :class:`Divergence`, or why there is none.

    ``divergence`` is None when the two runs agree (``note`` says what that means: for a
    float64 shadow, the failure is in the formula, not in rounding) or when the
    recordings could not be aligned.
    """

    divergence: Divergence | None
    note: str = ""

    def __str__(self) -> str:
        if self.divergence is None:
            return self.note
        return f"{self.divergence} {self.note}".rstrip()


def _distinct(a: float, b: float) -> tuple[str, str]:
    """``a`` and ``b`` printed with the fewest significant digits (≥ 5) that tell them apart."""
    for digits in range(5, 18):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb:
            return sa, sb
    return f"{a!r}", f"{b!r}"


# ----------------------------------------------------------------------------- comparing


#: Maps a reference run's tensor to the entries comparable with a test run's tensor, or
#: None when the two cannot be compared (shapes that do not correspond).
Projection = Callable[[Tensor, Tensor], "Tensor | None"]


def _relative_gap(test: Tensor, ref: Tensor) -> tuple[float, num.Gap]:
    gap = num.largest_gap(test, ref)
    return gap.value / num.magnitude(test, ref), gap


def _compare(a: rec.Op, b: rec.Op, project: Projection) -> tuple[float, num.Gap, int] | None:
    """Worst relative gap over the outputs of a matched pair of ops (and which output)."""
    if len(a.outputs) != len(b.outputs):
        return None
    worst: tuple[float, num.Gap, int] | None = None
    for k, (ta, tb) in enumerate(zip(a.outputs, b.outputs, strict=True)):
        tb_cmp = project(tb, ta)
        if tb_cmp is None:
            return None
        # Masks and indices compare exactly (largest_gap: an infinite gap where they differ).
        rel, gap = _relative_gap(ta, tb_cmp)
        if worst is None or rel > worst[0]:
            worst = (rel, gap, k)
    return worst


def first_divergence(
    test: Callable[[], object],
    reference: Callable[[], object],
    *,
    project: Projection,
    labels: tuple[str, str],
    reference_note: str,
) -> Blame:
    """Run ``test`` and ``reference`` under a recorder and name the op where they part.

    ``project(ref_tensor, test_tensor)`` gives the part of a reference tensor that should
    equal the test tensor. ``reference_note`` says what agreement of the two runs means.
    """
    t_trace, r_trace = rec.record(test), rec.record(reference)
    for trace, label in ((t_trace, labels[0]), (r_trace, labels[1])):
        if trace.truncated:
            return Blame(None, f"could not locate the departure: recording the {label} run "
                               f"would take over {rec.MEMORY_LIMIT // 2**20} MiB")
    if t_trace.error:
        return Blame(None, f"could not locate the departure: the {labels[0]} run raised "
                           f"{t_trace.error}")
    if r_trace.error:
        # Compare what both runs did before the reference raised: a shape that stopped
        # corresponding on the way is the departure; otherwise, where it raised.
        found = _walk(t_trace, r_trace, project, labels, final=math.inf, every_op=True)
        if found is not None:
            return Blame(found, f"(the {labels[1]} run then raises {r_trace.error})")
        return Blame(None, f"the {labels[1]} run raises {r_trace.error}")
    if len(t_trace.result) != len(r_trace.result) or not t_trace.result:
        return Blame(None, "could not locate the departure: the runs return different things")
    final = 0.0
    for ta, tb in zip(t_trace.result, r_trace.result, strict=True):
        tb_cmp = project(tb, ta)
        if tb_cmp is None:
            return Blame(None, "could not locate the departure: the results of the runs "
                               "do not correspond")
        final = max(final, _relative_gap(ta, tb_cmp)[0])

    found = _walk(t_trace, r_trace, project, labels, final=final, every_op=False)
    if found is not None:
        return Blame(found)
    n_result = max(num.inner_dim(t.shape) for t in t_trace.result)
    if final <= SLACK * n_result * num.eps(num.coarsest(*(t.dtype for t in t_trace.result))):
        return Blame(None, reference_note)
    return Blame(None, "could not locate the departure: the two runs take paths too "
                       "different to align op by op")


def _walk(t_trace: rec.Trace, r_trace: rec.Trace, project: Projection, labels: tuple[str, str],
          *, final: float, every_op: bool) -> Divergence | None:
    """The first op of the test run that departs while its inputs agree (see the module
    docstring); ``every_op`` also considers ops off the path to the result (when the
    reference run raised, there is no result to trace back from)."""
    matcher = difflib.SequenceMatcher(a=[op.key for op in t_trace.ops],
                                      b=[op.key for op in r_trace.ops], autojunk=False)
    partner: dict[int, int] = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            partner[block.a + k] = block.b + k
    path = set(range(len(t_trace.ops))) if every_op else t_trace.on_path()
    gaps: dict[int, float | None] = {}
    for i, op in enumerate(t_trace.ops):
        j = partner.get(i)
        compared = None if j is None else _compare(op, r_trace.ops[j], project)
        gaps[i] = None if compared is None else compared[0]
        if i not in path:
            continue
        inputs = [gaps[p] for p in op.producers]
        if any(g is None for g in inputs):
            continue  # an input from an op without a counterpart: no verdict on this one
        eps = num.eps(num.coarsest(*(t.dtype for t in op.outputs)))
        n = max((num.inner_dim(t.shape) for t in op.outputs), default=1)
        tau = max(SLACK * n * eps, final / FRACTION)
        if any(g is not None and g > tau for g in inputs):
            continue
        if j is not None and compared is None:
            ref_shapes = [tuple(t.shape) for t in r_trace.ops[j].outputs]
            test_shapes = [tuple(t.shape) for t in op.outputs]
            return Divergence(
                op.name, op.location, op.path, (), float("nan"), float("nan"), float("inf"),
                labels[0], labels[1], args=op.args, kwargs=op.kwargs,
                shape_note=(f"its inputs agree, but the {labels[1]} output has shape "
                            f"{_shapes(ref_shapes)}, which does not correspond to the "
                            f"{labels[0]} output's {_shapes(test_shapes)}"))
        if compared is not None and compared[0] > tau:
            rel, gap, _ = compared
            return Divergence(op.name, op.location, op.path, gap.index, gap.left,
                              gap.right, rel, labels[0], labels[1], args=op.args,
                              kwargs=op.kwargs)
    return None


def _shapes(shapes: Iterable[tuple[int, ...]]) -> str:
    listed = [str(s) for s in shapes]
    return listed[0] if len(listed) == 1 else "(" + ", ".join(listed) + ")"


# --------------------------------------------------------------------------- references


def against_batch(run: Callable[[Tensor], object], X: Tensor, *, batch: Tensor | None = None,
                  item: int = 0) -> Blame:
    """Blame the op where ``run`` on ``X`` alone departs from ``run`` on a batch holding X.

    ``batch`` is the batch ``X`` is item ``item`` of; by default ``X`` stacked twice (a
    batch of two equal matrices: whatever a batched kernel does differently, it does to
    both). ``run`` builds its modules afresh on each call.
    """
    if batch is None:
        batch = torch.stack([X, X])
    size = batch.shape[0]

    def project(ref: Tensor, test: Tensor) -> Tensor | None:
        if ref.shape == (size, *test.shape):
            return ref[item]
        if ref.shape == test.shape:
            return ref
        return None

    return first_divergence(
        lambda: run(X), lambda: run(batch), project=project, labels=("lone", "batched"),
        reference_note=("no op departs: each op gives the same numbers on the lone matrix "
                        "and inside a batch"))


def against_float64(run: Callable[[Tensor], object], X: Tensor) -> Blame:
    """Blame the op where ``run`` on ``X`` (float32, float16...) departs from a float64
    shadow run on the same numbers (``run`` converts its modules to its input's dtype)."""
    X64 = X.detach().to(torch.float64)

    def project(ref: Tensor, test: Tensor) -> Tensor | None:
        return ref if ref.shape == test.shape else None

    return first_divergence(
        lambda: run(X), lambda: run(X64), project=project,
        labels=(str(X.dtype).replace("torch.", ""), "float64"),
        reference_note=("the float64 shadow run agrees with this one to rounding: the "
                        "failure is in the formula, not in the precision"))


# ------------------------------------------------------------------------------ verdicts


def float32_state(modules: Iterable[nn.Module]) -> list[str]:
    """The float64 parameters and buffers of ``modules`` that hold float32 numbers.

    A module built in float32 and converted with ``.double()`` keeps the float32 rounding
    of what it drew or computed at construction (geotorch draws its manifolds' ``base``
    that way), so its results are float32-accurate however the input is given. A
    float64 tensor whose every entry is a float32 number, and at least one of them needs
    more than float16's 11 significant bits, is such a tensor: a float64 computation
    lands on float32 numbers with probability ~2⁻²⁹ per entry, while exact small values
    (0, 1, an identity) fit in float16 and are not reported.
    """
    found = []
    for m in modules:
        for kind, named in (("parameter", m.named_parameters()), ("buffer", m.named_buffers())):
            for name, t in named:
                if not isinstance(t, Tensor) or t.dtype != torch.float64 or t.numel() == 0:
                    continue
                v = t.detach()
                if torch.equal(v.float().double(), v) and not torch.equal(
                        v.half().double(), v):
                    found.append(f"{type(m).__name__}.{name} (a {kind})")
    return found


def explain(run: Callable[[Tensor], object], X: Tensor, *, batch: Tensor | None = None,
            item: int = 0, batched: bool = True, modules: Iterable[nn.Module] = ()
            ) -> tuple[Blame, UpstreamDefect | None]:
    """Blame a failure of ``run`` at ``X``, and the known torch defect behind it, if any.

    ``batch``/``item``: the failure compared ``X`` alone with item ``item`` of ``batch``
    (the batch law), so that is the reference. Otherwise the lone ``X`` is compared with
    a batch holding it (when ``batched``: leading dimensions are a batch for this
    parametrization), then, for a dtype coarser than float64, with a float64 shadow run.
    In float64, when no op departs, ``modules``' state is checked for float32 numbers
    (:func:`float32_state`).
    """
    blame = against_batch(run, X, batch=batch, item=item) if (
        batch is not None or batched) else None
    if batch is None and (blame is None or blame.divergence is None) and \
            X.dtype != torch.float64 and X.is_floating_point():
        shadow = against_float64(run, X)
        if blame is None or shadow.divergence is not None or blame.note.startswith(
                "could not"):
            blame = shadow
        elif not shadow.note.startswith("could not"):  # both references agree with X's run
            blame = Blame(None, (
                "no op departs from the same run inside a batch, nor from a float64 shadow "
                "run: the failure is in the formula, not in batching or precision"))
    if blame is None:
        blame = Blame(None, "no reference to compare with")
    if blame.divergence is None and X.dtype == torch.float64:
        rounded = float32_state(modules)
        if rounded:
            blame = Blame(None, (
                f"{', '.join(rounded)} holds float32 numbers in a float64 module (made in "
                f"float32, then converted): float64 results are only float32-accurate"))
    d = blame.divergence
    defect = None if d is None else upstream.find(d.op, d.args, d.kwargs)
    return blame, defect


#: Whether the laws blame their failures. The engine turns it off while Hypothesis
#: searches and shrinks (a failing law may run dozens of times), then replays the shrunk
#: counterexample once with blame on; a law called directly always blames.
ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("paramcheck_blame",
                                                                default=True)


def disabled() -> contextlib.AbstractContextManager[None]:
    """The laws do not blame inside the block (see ENABLED)."""
    return rec.flag(ENABLED, False)


def for_law(target: tg.Target, X: Tensor, law: str, *, item: int | None = None
            ) -> tuple[str, UpstreamDefect | None]:
    """Blame a failure of the value law ``law`` (``constraint``, ``round_trip``,
    ``batch``) at the drawn ``X``: the sentence to add to the failure, and the known
    torch defect behind it, if any. ``item``: for ``batch``, the item that differed.

    The runs build fresh modules, as the laws do, so state left by one run never reaches
    the other. Returns ``("", None)`` while blame is :func:`disabled`.
    """
    if not ENABLED.get():
        return "", None
    # One state for every run (a factory may draw its modules' state at random):
    # each run gets a copy, converted to its input's dtype, built outside the recording.
    base = target.fresh(X)

    def fresh(Z: Tensor) -> list[nn.Module]:
        with rec.untraced():
            return [m.to(dtype=Z.dtype) for m in copy.deepcopy(base)]

    def forward(Z: Tensor) -> Tensor:
        chain = fresh(Z)
        return tg.forward(chain, tg.originals(chain, Z))

    def round_trip(Z: Tensor) -> Tensor:
        chain = fresh(Z)
        A = tg.forward(chain, tg.originals(chain, Z)).detach()
        return tg.forward(chain, tg.right_inverse(chain, A))

    batched = all(s.batched for s in target.specs())
    modules = fresh(X)
    if law == "batch" and item is not None:
        blame, defect = explain(forward, X[item], batch=X, item=item, modules=modules)
    else:
        run = round_trip if law == "round_trip" else forward
        blame, defect = explain(run, X, batched=batched, modules=modules)
    text = f"blame: {blame}"
    if defect is not None:
        text += (f"\nthat op meets {defect.issue}, a known defect of torch "
                 f"{torch.__version__} (paramcheck.upstream)")
    return text, defect
