"""The list of everything paramcheck ships, for the tools that check it all.

``paramcheck verify`` (no target), the package's tests and the property suite walk this
list, so a transform added here is verified everywhere at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from paramcheck.transforms._cayley import CayleyMap
from paramcheck.transforms._chains import Chain, orthogonal_cayley, orthogonal_exp, spd_exp
from paramcheck.transforms._exponential import MatrixExponential
from paramcheck.transforms._positive import Positive
from paramcheck.transforms._pruning import Pruning
from paramcheck.transforms._sphere import Sphere
from paramcheck.transforms._stiefel import Stiefel
from paramcheck.transforms._symmetric import Skew, Symmetric
from paramcheck.transforms._torch_builtins import (
    TorchOrthogonal,
    TorchSpectralNorm,
    TorchWeightNorm,
)

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Entry:
    """A shipped parametrization: its display name and how to build it for a weight shape.

    ``build(shape)`` returns a fresh module or :class:`Chain`; ``shape`` matters only to
    those that hold per-weight state (Pruning's mask, torch's adapters).
    """

    name: str
    build: Callable[[Shape], nn.Module | Chain]


def catalog() -> tuple[Entry, ...]:
    """Every shipped transform and ready chain, then torch's built-ins through their adapters."""
    return (
        Entry("Symmetric", lambda shape: Symmetric()),
        Entry("Skew", lambda shape: Skew()),
        Entry("CayleyMap", lambda shape: CayleyMap()),
        Entry("MatrixExponential('skew')", lambda shape: MatrixExponential("skew")),
        Entry("MatrixExponential('symmetric')", lambda shape: MatrixExponential("symmetric")),
        Entry("MatrixExponential()", lambda shape: MatrixExponential()),
        Entry("Pruning", lambda shape: Pruning(shape[-2:], seed=0)),
        Entry("Stiefel", lambda shape: Stiefel()),
        Entry("Sphere", lambda shape: Sphere()),
        Entry("Sphere((-2, -1))", lambda shape: Sphere((-2, -1))),
        Entry("Positive", lambda shape: Positive()),
        Entry("orthogonal_cayley()", lambda shape: orthogonal_cayley()),
        Entry("orthogonal_exp()", lambda shape: orthogonal_exp()),
        Entry("spd_exp()", lambda shape: spd_exp()),
        Entry("TorchOrthogonal('matrix_exp')", lambda shape: TorchOrthogonal(shape, "matrix_exp")),
        Entry("TorchOrthogonal('cayley')", lambda shape: TorchOrthogonal(shape, "cayley")),
        Entry("TorchOrthogonal('householder')",
              lambda shape: TorchOrthogonal(shape, "householder")),
        Entry("TorchSpectralNorm", lambda shape: TorchSpectralNorm(shape)),
        Entry("TorchWeightNorm", lambda shape: TorchWeightNorm()),
    )
