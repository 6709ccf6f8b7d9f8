"""Which description a drawn tensor was built from, so a report can print it.

The strategies draw a small description (:mod:`paramcheck._descriptions`) and torch
builds the tensor from it. The tensor a law receives is what a report must show when the
law fails, and at 1024×1024 its million numbers say nothing: the description that
rebuilt it does ("1024×1024 square: zeros, with 1.0 at [0, 1]"). :func:`attach` records
the description on the built tensor (a plain attribute: a tensor is a Python object), and
:func:`described` reads it back; any tensor derived from it (``detach``, ``to``, an
operation) is a new object without one. :class:`Batched` describes a stack of described
tensors (a batch drawn item by item). Needs torch only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from paramcheck._descriptions import Description, Entrywise, LowRank, Sparse, Spectral, Uniform

__all__ = ["Batched", "attach", "dense", "described"]

_ATTRIBUTE = "_paramcheck_description"


@dataclass(frozen=True)
class Batched:
    """``items`` built and stacked into leading dimensions ``batch`` (row-major)."""

    batch: tuple[int, ...]
    items: tuple[Description, ...]

    def build(self, dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu"
              ) -> Tensor:
        out = torch.stack([item.build(dtype, device) for item in self.items])
        return out.reshape(*self.batch, *out.shape[1:])

    def __str__(self) -> str:
        size = "×".join(str(b) for b in self.batch)
        return f"a batch of {size}: " + "; ".join(
            f"[{k}] {item}" for k, item in enumerate(self.items))


Drawn = Description | Batched


def attach(tensor: Tensor, description: Drawn) -> Tensor:
    """Record on ``tensor`` the description it was built from; ``tensor`` itself."""
    setattr(tensor, _ATTRIBUTE, description)
    return tensor


def described(tensor: object) -> Drawn | None:
    """The description ``tensor`` was built from (by :func:`attach`), or None."""
    found = getattr(tensor, _ATTRIBUTE, None)
    return found if isinstance(found, Entrywise | Spectral | Batched) else None


def dense(description: object) -> bool:
    """True for an entrywise description built on a dense base (uniform entries, a
    low-rank product, a sparse pattern), or a batch holding one: an input whose failure
    is worth searching again among the simplest descriptions (engine._sizes)."""
    if isinstance(description, Batched):
        return any(dense(item) for item in description.items)
    return isinstance(description, Entrywise) and isinstance(
        description.base, Uniform | LowRank | Sparse)
