"""The laws of :mod:`paramcheck.contexts` as properties of the registry, group ``contexts``.

``verify(parametrization, properties=["contexts"])`` (``paramcheck verify ... --properties
contexts``) runs them, per dtype, like the core properties; a plain ``verify`` leaves them
out (``default=False``): they build networks, compile and train, and cost seconds where
the core properties cost milliseconds. One of them by name (``properties=["compile"]``)
runs alone.

Each adapts a context law to the engine's ``law(subject, *drawn)``: the subject brings
the parametrization, the parametrize implementation hosting it (both run in the property
suite: every one of these is ``hosted``) and the constraint. A context torch lacks, or
one that cannot apply (autocast of a float64 network, re-initialising without a
``right_inverse``) is *not applicable*, with the reason, never a failure.

Cost, which sets the shares below (a share of the profile's examples, at least five):

- ``compile`` compiles once per (parametrization, implementation, backend, shape, dtype):
  the compiled network is kept for the run (``_ARTEFACTS``) and each example loads its
  originals into it. The backend is ``aot_eager`` (≈ 4 s for a tiny network on two
  cores); ``inductor`` (≈ 20 s) is added under the thorough profile only.
- ``recompile`` counts frames over 8 fresh networks × 3 steps; the counts are dynamo's
  guard decisions, which do not depend on the drawn values, so it is measured once per
  (parametrization, implementation, shape, dtype) and the other examples reuse the
  verdict (``_RECOMPILES``).
- The others build a few networks per example and are cheap at the default sizes.

The context laws are imported when a law first runs, so importing paramcheck does not
import ``torch._dynamo`` (seconds).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from paramcheck import _target as tg
from paramcheck._profiles import profile_name
from paramcheck.engine._property import ORIGINAL, PAIR, Property, Subject

GROUP = "contexts"

#: Compiled networks kept across the examples of a run, per parametrization.
_ARTEFACTS: weakref.WeakKeyDictionary[tg.Target, dict[Any, Any]] = \
    weakref.WeakKeyDictionary()
#: The recompile verdict per parametrization: (implementation, shape, dtype) -> the
#: failure's message, or None when it held.
_RECOMPILES: weakref.WeakKeyDictionary[tg.Target, dict[Any, str | None]] = \
    weakref.WeakKeyDictionary()


def _check(subject: Subject) -> Callable[[Tensor], object] | None:
    return None if subject.constraint is None else subject.constraint[2]


def _unsupported(feature: str) -> str | None:
    """Why the running torch lacks ``feature``, or None when it has it."""
    if feature == "compile":
        from torch._dynamo.eval_frame import is_dynamo_supported

        if not is_dynamo_supported():
            return (f"torch.compile is not supported here (torch {torch.__version__}, this "
                    f"Python or platform): torch._dynamo.is_dynamo_supported() is False")
    if feature == "export" and not hasattr(torch, "export"):
        return f"torch {torch.__version__} has no torch.export"
    if feature == "functional" and not hasattr(torch, "func"):
        return f"torch {torch.__version__} has no torch.func"
    return None


def _applies(context: str, feature: str | None = None) -> Callable[[Subject], str | None]:
    """``applies`` of a context property: torch has the feature, and what
    ``paramcheck.contexts.not_applicable`` knows before drawing (meta without
    right_inverse, training on a domain a step leaves) does not rule it out. The dtype's
    reasons (autocast of float64) come from the law itself, per dtype."""

    def applies(subject: Subject) -> str | None:
        missing = _unsupported(feature) if feature is not None else None
        if missing is not None:
            return missing
        from paramcheck import contexts

        return contexts.not_applicable(context, subject.target, torch.float32)

    applies.__qualname__ = f"applies_{context}"
    return applies


def _backends() -> tuple[str, ...]:
    return ("aot_eager", "inductor") if profile_name() == "thorough" else ("aot_eager",)


def compile_law(s: Subject, X: Tensor) -> None:
    """torch.compile's network gives eager's value and gradients (aot_eager; inductor too
    in the thorough profile), compiled once per run and reused by every example."""
    from paramcheck.contexts import compiled

    artefacts = _ARTEFACTS.setdefault(s.target, {})
    for backend in _backends():
        compiled(s.target, X, implementation=s.implementation, backend=backend,
                 artefacts=artefacts)


def fullgraph_law(s: Subject, X: Tensor) -> None:
    """torch.compile(fullgraph=True) traces the network as one graph (dynamo's reason if not)."""
    from paramcheck.contexts import fullgraph

    fullgraph(s.target, X, implementation=s.implementation)


def recompile_law(s: Subject, X: Tensor) -> None:
    """Training a compiled network for 3 steps does not recompile (measured once per run)."""
    from paramcheck.contexts import recompiles

    known = _RECOMPILES.setdefault(s.target, {})
    key = (s.implementation.__name__, tuple(X.shape), X.dtype, str(X.device))
    if key not in known:
        try:
            recompiles(s.target, X, implementation=s.implementation, across_instances=False)
        except AssertionError as exc:
            known[key] = str(exc)
        else:
            known[key] = None
    message = known[key]
    if message is not None:
        raise AssertionError(message)


def export_law(s: Subject, X: Tensor, X2: Tensor) -> None:
    """torch.export matches eager inside and outside cached(), and follows its originals."""
    from paramcheck.contexts import exported

    exported(s.target, X, X2, implementation=s.implementation)


def functional_law(s: Subject, X: Tensor, X2: Tensor) -> None:
    """functional_call with a dict of originals is the module; vmap over them is a loop."""
    from paramcheck.contexts import functional

    functional(s.target, X, X2, implementation=s.implementation)


def autocast_law(s: Subject, X: Tensor) -> None:
    """CPU bfloat16 autocast runs, and keeps the constraint at bfloat16's tolerance."""
    from paramcheck.contexts import autocast

    autocast(s.target, X, _check(s), implementation=s.implementation)


def meta_law(s: Subject, X: Tensor) -> None:
    """Built on the meta device, to_empty, re-initialised through right_inverse: it holds."""
    from paramcheck.contexts import meta_init

    exact = all(spec.inverse_exact for spec in s.specs)
    meta_init(s.target, X, _check(s), implementation=s.implementation, exact=exact)


def conversion_law(s: Subject, X: Tensor) -> None:
    """.to(float64), .to(device) and .half() keep it working, swapping off and on."""
    from paramcheck.contexts import conversion

    conversion(s.target, X, _check(s), implementation=s.implementation)


def train_law(s: Subject, X: Tensor) -> None:
    """20 SGD and 20 Adam steps keep the constraint; two forwards, one backward work."""
    from paramcheck.contexts import train

    for optimizer in ("sgd", "adam"):
        train(s.target, X, _check(s), implementation=s.implementation, optimizer=optimizer)


def resume_law(s: Subject, X: Tensor, X2: Tensor) -> None:
    """Save, load with weights_only=True into a fresh network, continue: bit-identical."""
    from paramcheck.contexts import resume

    resume(s.target, X, X2, implementation=s.implementation)


def _replay(call: str, *, check: bool = False) -> Callable[[Subject], str]:
    def replay(subject: Subject) -> str:
        args = "parametrization, X"
        if check and subject.constraint is not None:
            given = subject.constraint[1]
            shown = f", constraint={given!r}" if isinstance(given, str) else ""
            args += f", paramcheck.Subject.of(parametrization{shown}).constraint[2]"
        return f"paramcheck.contexts.{call.format(args=args)}"

    return replay


def _property(name: str, law: Callable[..., None], replay: str, *, share: float = 0.05,
              check: bool = False, feature: str | None = None, pair: bool = False) -> Property:
    return Property(name, law, draws=PAIR if pair else ORIGINAL,
                    applies=_applies(name, feature), share=share, group=GROUP,
                    default=False, hosted=True, replay=_replay(replay, check=check))


#: The context properties, in the order reports list them (that of
#: ``paramcheck.contexts.CONTEXTS``). Share 0.05 each: the profile's minimum of five
#: examples in ci, 50 in thorough; these laws test plumbing more than values.
PROPERTIES: tuple[Property, ...] = (
    _property("compile", compile_law, "compiled({args})", feature="compile"),
    _property("fullgraph", fullgraph_law, "fullgraph({args})", feature="compile"),
    _property("recompile", recompile_law, "recompiles({args}, across_instances=False)",
              feature="compile"),
    _property("export", export_law, "exported({args}, X2)", feature="export", pair=True),
    _property("functional", functional_law, "functional({args}, X2)", feature="functional",
              pair=True),
    _property("autocast", autocast_law, "autocast({args})", check=True),
    _property("meta", meta_law, "meta_init({args})", check=True),
    _property("conversion", conversion_law, "conversion({args})", check=True),
    _property("train", train_law, "train({args})", check=True),
    _property("resume", resume_law, "resume({args}, X2)", pair=True),
)
