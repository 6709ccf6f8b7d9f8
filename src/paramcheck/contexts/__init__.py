"""Will it train? The laws of a parametrization in the contexts where real training meets it.

paramcheck's core properties check a parametrization as a function in eager mode; these
check the network holding it (:class:`Net`: a parametrized layer in a container) where
users' parametrizations break (see the issue links in each module):

- :func:`compiled` (``compile``): ``torch.compile`` gives eager's value and gradients;
- :func:`fullgraph`: it compiles as one graph, or dynamo's reason is reported;
- :func:`recompiles` (``recompile``): training it, or building it again, does not recompile;
- :func:`exported` (``export``): ``torch.export`` matches eager inside and outside
  ``cached()``, and follows its originals;
- :func:`functional`: ``torch.func.functional_call`` with originals equals the module,
  ``vmap`` over stacked originals equals a loop;
- :func:`autocast`: CPU bfloat16 autocast runs and keeps the constraint at bfloat16's
  tolerance;
- :func:`meta_init` (``meta``): meta build, ``to_empty``, re-initialisation through
  ``right_inverse``;
- :func:`conversion`: ``.to(float64)``, ``.to(device)``, ``.half()``, swapping off and on;
- :func:`train`: k ≥ 20 SGD or Adam steps keep the constraint; two forwards, one backward;
- :func:`resume`: save, load with ``weights_only=True``, continue: bit-identical.

Each takes the parametrization (a module, a chain, or a factory, as every paramcheck
entry point), a drawn original ``X`` (and ``X2`` where a second point is needed), and
``implementation`` (``"torch"`` or ``"paramcheck"``); each returns None when the law
holds, raises ``AssertionError`` saying what broke, and ``NotApplicable`` with the reason
where the context does not apply. They need torch only (no Hypothesis).
"""

from __future__ import annotations

import torch

from paramcheck import _target as _tg
from paramcheck.contexts import _model
from paramcheck.contexts._autocast import autocast
from paramcheck.contexts._compile import (
    Recompiles,
    compiled,
    fullgraph,
    recompile_counts,
    recompiles,
)
from paramcheck.contexts._conversion import conversion
from paramcheck.contexts._export import exported
from paramcheck.contexts._functional import functional
from paramcheck.contexts._meta import meta_init
from paramcheck.contexts._model import Net
from paramcheck.contexts._resume import resume
from paramcheck.contexts._train import STEP_CLOSED, train, two_forwards

__all__ = [
    "CONTEXTS",
    "Net",
    "Recompiles",
    "autocast",
    "compiled",
    "conversion",
    "exported",
    "fullgraph",
    "functional",
    "meta_init",
    "not_applicable",
    "recompile_counts",
    "recompiles",
    "resume",
    "train",
    "two_forwards",
]

#: The context properties, in the order reports list them.
CONTEXTS: tuple[str, ...] = (
    "compile",
    "fullgraph",
    "recompile",
    "export",
    "functional",
    "autocast",
    "meta",
    "conversion",
    "train",
    "resume",
)


def not_applicable(context: str, parametrization: object, dtype: torch.dtype,
                   like: torch.Tensor | None = None) -> str | None:
    """Why ``context`` does not apply to ``parametrization`` in ``dtype``, or None.

    ``like``: a tensor of the weight's shape; with it, a ``right_inverse`` that exists but
    raises ``NotImplementedError`` (torch's untrivialized orthogonal maps) counts as none.

    The same reasons the laws raise ``NotApplicable`` with, known before drawing anything,
    so that a suite or a report can leave the cell out instead of calling the law.
    """
    if context not in CONTEXTS:
        raise ValueError(f"unknown context {context!r}; one of {', '.join(CONTEXTS)}")
    target = _model.target_of(parametrization)
    spec = target.spec_for_inputs()
    if context == "autocast" and dtype != torch.float32:
        return f"CPU autocast lowers float32 operations; a {dtype} network is left as it is"
    if context == "meta":
        missing = _tg.has_right_inverse(target.modules)
        if missing is None and like is not None:
            missing = _right_inverse_unimplemented(target, like)
        if missing is not None:
            return (f"re-initialising after to_empty assigns the weight through right_inverse, "
                    f"and {missing} has none")
    if context == "train" and spec is not None and spec.inputs not in STEP_CLOSED:
        return (f"its originals live in the {spec.inputs!r} domain, which an optimizer step "
                f"leaves (train it after a map onto that domain, as in a chain)")
    return None


def _right_inverse_unimplemented(target: _tg.Target, like: torch.Tensor) -> str | None:
    """The first module whose right_inverse raises NotImplementedError on ``like``'s image."""
    chain = target.fresh(like)
    try:
        with torch.no_grad():
            value: object = _tg.forward(chain, _tg.originals(chain, like))
    except Exception:
        return None
    for module in reversed(chain):
        inverse = getattr(module, "right_inverse", None)
        if not callable(inverse):
            return None
        try:
            with torch.no_grad():
                value = inverse(value)
        except NotImplementedError:
            return f"{type(module).__name__} (right_inverse raises NotImplementedError)"
        except Exception:
            return None  # other errors belong to the law, not to applicability
    return None
