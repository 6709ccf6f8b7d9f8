"""Image-side inputs: draw points of the constraint set and pull them back.

Manifold libraries are used from the image side: ``layer.weight = Q`` (an orthogonal
``Q``), then train. verify can draw that way too (``inputs="image"``): a point ``A`` of
the constraint set is drawn and pulled back through ``right_inverse`` to the original
``X`` the laws start from, so the original is one the library itself would produce.
Where ``A`` comes from, first found:

- the constraint's own set, for the named constraints (:data:`IMAGE_OF`): orthogonal,
  special orthogonal, SPD, PSD, symmetric, skew, unit norm, positive;
- the parametrization's own sampler, a ``sample()`` method returning a point of its
  manifold (geotorch's convention), seeded from the draw so Hypothesis can replay it.

When the first parametrization takes several originals (``forward(X1, X2, X3)``,
``right_inverse(A) -> (X1, X2, X3)``), the drawn weight *is* ``A``: the engine pulls it
back itself (:func:`paramcheck._target.originals`), so a weight in the image is exactly
what it needs. State a ``right_inverse`` stores (geotorch's ``base``) stays in the
module it was pulled back with; the laws build their own fresh modules.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from torch import Tensor, nn

from paramcheck import _target as tg
from paramcheck import strategies

__all__ = ["IMAGE_OF", "image_points", "pulled_back"]

#: Constraint name -> the strategy domain drawing points of its set.
IMAGE_OF: dict[str, str] = {
    "orthogonal": "orthogonal",
    "special_orthogonal": "special_orthogonal",
    "spd": "spd",
    "psd": "psd",
    "symmetric": "symmetric",
    "skew": "skew",
    "unit_norm": "unit_norm",
    "positive": "positive",
}

#: Bound of the drawn image points: SPD eigenvalues in [1/4, 4], PSD in [0, 4],
#: symmetric and skew spectral norms up to 3 (below π, the branch cut of the
#: logarithms that invert exp), entries of positive tensors in [1/10, 4]...: the scale of
#: a trained weight, with condition numbers the tolerances' κ ≤ 16 allows.
IMAGE_BOUND = 4.0
_SPECTRAL_BOUND = 3.0


def image_points(constraint: object, shape: tuple[int, ...], dtype: torch.dtype,
                 device: torch.device | str, sampler: Callable[[], Tensor] | None = None
                 ) -> SearchStrategy[Tensor] | None:
    """Points of the constraint set of ``shape``, or None when there is no way to draw them."""
    domain = IMAGE_OF.get(constraint) if isinstance(constraint, str) else None
    if domain == "unit_norm":
        return strategies.nonzero(shape, dtype=torch.float64, bound=IMAGE_BOUND).map(
            lambda X: (X / torch.linalg.vector_norm(X, dim=-1, keepdim=True)).to(
                device=device, dtype=dtype))
    if domain == "positive":
        return strategies.nonzero(shape, dtype=dtype, device=device,
                                  bound=IMAGE_BOUND).map(torch.abs)
    if domain is not None and (len(shape) >= 2 and (
            shape[-1] == shape[-2] or domain == "orthogonal")):
        bound = _SPECTRAL_BOUND if domain in ("symmetric", "skew") else IMAGE_BOUND
        return strategies.domain(domain, shape, dtype=dtype, device=device, bound=bound)
    if sampler is not None:
        return st.integers(0, 2**32 - 1).map(lambda seed: _sample(sampler, seed, dtype,
                                                                  device))
    return None


def _sample(sampler: Callable[[], Tensor], seed: int, dtype: torch.dtype,
            device: torch.device | str) -> Tensor:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        with torch.no_grad():
            point = sampler()
    return point.detach().to(device=device, dtype=dtype)


def sampler_of(chain: list[nn.Module]) -> Callable[[], Tensor] | None:
    """The last parametrization's ``sample()``, if it has one taking no arguments."""
    sample = getattr(chain[-1], "sample", None)
    return sample if callable(sample) else None


def pulled_back(target: tg.Target, points: SearchStrategy[Tensor]
                ) -> SearchStrategy[Tensor]:
    """Originals ``X = right_inverse(A)`` for drawn image points ``A`` (or ``A`` itself
    when the first parametrization takes several originals: the engine pulls it back)."""
    chain = target.modules
    if tg.arity(chain[0]) > 1:
        return points

    def pull(A: Tensor) -> Tensor:
        # A failure here (right_inverse raising on a point of the set) is reported as
        # the property's failure, with A as the drawn input.
        originals = tg.right_inverse(target.fresh(A), A)
        return originals[0].detach()

    return points.map(pull)
