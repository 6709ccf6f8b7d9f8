"""Positive entries by softplus, with a numerically stable inverse."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from paramcheck.transforms._checks import check_input
from paramcheck.transforms._spec import ALL_FLOATS, Spec


class Positive(nn.Module):
    r"""Entrywise softplus: ``f(x) = log(1 + eˣ)``, with ``right_inverse(y) = y + log(-expm1(-y))``.

    Domain: any real tensor, any shape (0-D included); elementwise, so batches are
    free. ``f(x) > 0`` wherever it does not underflow: for ``x`` above about -103 in
    float32 and -745 in float64 (the log of the smallest subnormal); the spec's
    bound, 100, keeps drawn inputs inside that.

    ``right_inverse`` solves ``y = log(1 + eˣ)`` for ``x = log(eʸ - 1)``, rewritten as
    ``y + log(1 - e⁻ʸ)`` with ``expm1``: ``eʸ`` never appears, so it cannot overflow
    (the naive form gives ``inf`` for ``y > 88.7`` in float32), and ``expm1`` keeps
    every digit of ``1 - e⁻ʸ`` for small ``y`` (where ``eʸ - 1`` cancels). It is exact
    on positive tensors (the image). ``y <= 0`` has no preimage; it is first raised to
    the smallest positive (subnormal) number, so registering ``Positive`` on a weight with
    non-positive entries (a freshly initialised bias) gives finite originals and
    ``f(g(y)) = max(y, 2⁻¹⁴⁹)`` (float32) instead of NaN.

    Round trips are exact to ``(|x| + c)·eps`` relative, ``x = g(y)``: softplus's
    ``exp`` turns the rounding of ``x`` (absolute ``|x|·eps``) into that relative error
    of ``y``, up to 87 eps near float32's smallest normal numbers.

    Every floating dtype runs; float16 and bfloat16 underflow to 0 below
    ``x ≈ -17`` and ``x ≈ -92``, so only float32/float64 are declared in ``spec``.

    Example::

        >>> Positive()(torch.tensor([-100.0, 0.0, 100.0]))
        tensor([3.7835e-44, 6.9315e-01, 1.0000e+02])
    """

    # Bound 100 on entries: wide enough to reach float32's exp overflow (88.7), where a
    # naive inverse log(exp(y) - 1) fails, while softplus(-100) ≈ 3.7e-44 is still > 0.
    spec = Spec(
        constraint="positive",
        inputs="matrix",
        bound=100.0,
        inverse_exact_on="positive tensors (the image)",
        min_ndim=0,
    )

    def forward(self, X: Tensor) -> Tensor:
        check_input("Positive", X, dtypes=ALL_FLOATS, min_ndim=0)
        # torch returns x itself above `threshold` (default 20). That is exact to
        # float32 (e⁻²⁰ ≈ 2e-9 < eps·20) but not float64, which needs e⁻ᵗ < 2.2e-16·t,
        # t ≈ 37: use 40 there. log1p(exp(40)) cannot overflow in float64.
        return F.softplus(X, threshold=40.0 if X.dtype == torch.float64 else 20.0)

    def right_inverse(self, Y: Tensor) -> Tensor:
        check_input("Positive.right_inverse", Y, dtypes=ALL_FLOATS, min_ndim=0)
        finfo = torch.finfo(Y.dtype)
        Y = Y.clamp_min(finfo.tiny * finfo.eps)  # y <= 0 has no preimage: see docstring
        return Y + torch.log(-torch.expm1(-Y))
