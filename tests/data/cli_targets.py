"""Parametrizations that tests/test_cli.py names on the command line as ``cli_targets:ATTR``.

``Symmetric`` is correct; ``LossySymmetric``'s ``right_inverse`` keeps only the lower
triangle, so ``forward(right_inverse(A))`` is ``diag(A)``, not ``A``: ``round_trip``
fails on any symmetric ``A`` with a nonzero off-diagonal entry.
"""

from __future__ import annotations

from torch import Tensor, nn


class Symmetric(nn.Module):
    """``f(X) = triu(X) + triu(X, 1)ᵀ``; ``right_inverse(A) = triu(A)``, exact on symmetric A."""

    def forward(self, X: Tensor) -> Tensor:
        return X.triu() + X.triu(1).transpose(-1, -2)

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.triu()


class LossySymmetric(Symmetric):
    """A planted bug: ``right_inverse`` returns the wrong triangle."""

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.tril()


class Double(nn.Module):
    """``f(X) = 2X``, ``right_inverse(A) = A / 2``: any shape, no constraint."""

    def forward(self, X: Tensor) -> Tensor:
        return 2 * X

    def right_inverse(self, A: Tensor) -> Tensor:
        return A / 2


def make_symmetric() -> Symmetric:
    """A zero-argument factory."""
    return Symmetric()


symmetric = Symmetric()
chain = [Symmetric()]
not_a_parametrization = 42


def make_pruned() -> nn.Module:
    """A factory for a transform built for one weight shape, (3, 5): its Spec says so."""
    from paramcheck.transforms import Pruning

    return Pruning((3, 5), seed=0)
