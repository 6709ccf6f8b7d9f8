"""Unit norm: project onto the sphere along the last dimension(s)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from paramcheck.transforms._checks import check_input
from paramcheck.transforms._spec import ALL_FLOATS, Spec


class Sphere(nn.Module):
    r"""Unit Euclidean norm along ``dim``: ``f(X) = X / ‖X‖``, and ``f(0) = e₁``.

    ``dim`` is a negative dimension or a tuple of them, counted from the end so that
    leading dimensions stay a batch: the default ``-1`` normalises each row (each
    vector of a batch of vectors); ``(-2, -1)`` normalises each matrix in Frobenius
    norm. The norm is taken over those dimensions together.

    At a zero slice ``X / ‖X‖`` is undefined; ``f`` returns the first basis vector
    ``e₁`` there (1 at index 0 of each normalised dimension, 0 elsewhere), so the
    output has unit norm for every input. Gradients are finite everywhere (zero at a
    zero slice). ``right_inverse`` is the identity: exact on unit-norm tensors (the
    image), and assigning any nonzero tensor stores it, which ``f`` normalises.

    No underflow or overflow for tiny or huge entries (the norm is taken after dividing
    by the largest entry). Every floating dtype.

    Example::

        >>> Sphere()(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
        tensor([[0.6000, 0.8000],
                [1.0000, 0.0000]])
    """

    def __init__(self, dim: int | tuple[int, ...] = -1) -> None:
        super().__init__()
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if not dims or any(d >= 0 for d in dims) or len(set(dims)) != len(dims):
            raise ValueError(
                f"Sphere(dim=...) takes distinct negative dimensions (counted from the end, "
                f"so leading ones stay a batch), e.g. -1 or (-2, -1); got {dim!r}."
            )
        self.dims = tuple(sorted(dims))
        self.min_ndim = -self.dims[0]
        self._needs = f"a tensor with at least {self.min_ndim} dimensions (it normalises dim={dim})"
        self.spec = Spec(
            constraint="unit_norm",
            inputs="matrix",
            inverse_exact_on="tensors of unit norm along dim (the image)",
            min_ndim=self.min_ndim,
            dtypes=ALL_FLOATS,
            norm_dims=self.dims,
        )

    def _pole(self, X: Tensor) -> Tensor:
        """``e₁`` along ``self.dims``, shaped to broadcast against ``X``."""
        shape = [1] * X.ndim
        for d in self.dims:
            shape[d] = X.shape[d]
        pole = torch.zeros(shape, dtype=X.dtype, device=X.device)
        pole.view(-1)[0] = 1
        return pole

    def forward(self, X: Tensor) -> Tensor:
        check_input("Sphere", X, dtypes=ALL_FLOATS, min_ndim=self.min_ndim, needs=self._needs)
        # Divide by the largest |entry| first so the squares in the norm neither
        # underflow (entries ~1e-30 in float32) nor overflow (~1e30). f does not depend
        # on that scale, so detaching it leaves the gradient exact and cheaper.
        scale = X.detach().abs().amax(dim=self.dims, keepdim=True)
        is_zero = scale == 0
        scaled = X / scale.masked_fill(is_zero, 1)
        norm = torch.linalg.vector_norm(scaled, dim=self.dims, keepdim=True)
        unit = scaled / norm.masked_fill(is_zero, 1)
        return torch.where(is_zero, self._pole(X), unit)

    def right_inverse(self, A: Tensor) -> Tensor:
        check_input(
            "Sphere.right_inverse", A, dtypes=ALL_FLOATS, min_ndim=self.min_ndim, needs=self._needs
        )
        return A

    def extra_repr(self) -> str:
        return f"dim={self.dims if len(self.dims) > 1 else self.dims[0]}"
