"""Random unstructured pruning: a fixed 0/1 mask applied to the weight."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from paramcheck.errors import TransformShapeError
from paramcheck.transforms._checks import check_input
from paramcheck.transforms._spec import ALL_FLOATS, Spec


class Pruning(nn.Module):
    r"""Zero a fixed random subset of entries: ``f(X) = X ⊙ M``, ``M ∈ {0, 1}`` drawn once.

    Each entry is dropped (``M = 0``) with probability ``p_drop``, independently. The
    mask is drawn at construction from ``generator``, or from a fresh generator seeded
    with ``seed``, or else from torch's global generator (so ``torch.manual_seed``
    fixes it); it is drawn on the CPU, so a seed gives the same mask on every device.
    It is a bool buffer, ``self.mask``: ``state_dict``, ``copy.deepcopy`` and
    ``.to(device)`` carry it, and ``.to(dtype)`` leaves it alone (``X ⊙ M`` keeps
    ``X``'s dtype).

    Domain: tensors whose trailing shape is the mask's (leading dimensions are a
    batch sharing the mask); every floating dtype. There is no named constraint
    (``spec.constraint`` is ``None``): the output is zero wherever ``mask`` is False.
    ``right_inverse`` is the identity, exact on the image (tensors already zero where
    the mask is): ``f(g(A)) = A ⊙ M = A`` there, and for any other ``A`` assigning it
    prunes it, as the tutorial notes.

    Example::

        >>> layer = nn.Linear(3, 4)
        >>> prune = Pruning(layer.weight, p_drop=0.5, seed=0)
        >>> parametrize.register_parametrization(layer, "weight", prune)
        >>> bool((layer.weight[~prune.mask] == 0).all())
        True
    """

    mask: Tensor

    def __init__(
        self,
        shape: Tensor | Sequence[int],
        p_drop: float = 0.2,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= p_drop <= 1.0:
            raise ValueError(f"Pruning needs 0 <= p_drop <= 1; got p_drop={p_drop}.")
        if seed is not None and generator is not None:
            raise ValueError("Pruning takes a seed or a generator, not both.")
        if isinstance(shape, Tensor):
            size, device = tuple(shape.shape), shape.device
        else:
            size, device = tuple(int(s) for s in shape), torch.device("cpu")
        if generator is None and seed is not None:
            generator = torch.Generator().manual_seed(seed)
        draw_on = generator.device if generator is not None else torch.device("cpu")
        keep = torch.rand(size, generator=generator, device=draw_on) >= p_drop
        self.register_buffer("mask", keep.to(device))
        self.p_drop = p_drop
        self.spec = Spec(
            constraint=None,
            inputs="matrix",
            inverse_exact_on="tensors that are zero where mask is False (the image)",
            min_ndim=len(size),
            dtypes=ALL_FLOATS,
            shape=size,
            stateful=True,
            dimension=self._kept,
        )

    def _kept(self, shape: tuple[int, ...]) -> int:
        """The dimension of the image for inputs of ``shape``: the kept entries, per item."""
        return int(self.mask.sum()) * math.prod(shape[: len(shape) - self.mask.ndim])

    def _check(self, X: Tensor, what: str) -> None:
        check_input(what, X, dtypes=ALL_FLOATS, min_ndim=self.mask.ndim)
        if X.shape[X.ndim - self.mask.ndim :] != self.mask.shape:
            raise TransformShapeError(
                f"{what} was built for tensors of shape {tuple(self.mask.shape)} (its mask); "
                f"got shape {tuple(X.shape)}. Leading dimensions may be a batch, the trailing "
                "ones must match the mask."
            )
        if X.device != self.mask.device:
            raise ValueError(
                f"{what} holds its mask on {self.mask.device} but got a tensor on {X.device}; "
                "move the module with .to(device) (a layer's .to() does it for you)."
            )

    def forward(self, X: Tensor) -> Tensor:
        self._check(X, "Pruning")
        return torch.where(self.mask, X, 0.0)

    def right_inverse(self, A: Tensor) -> Tensor:
        self._check(A, "Pruning.right_inverse")
        return A

    def extra_repr(self) -> str:
        return f"shape={tuple(self.mask.shape)}, p_drop={self.p_drop}"
