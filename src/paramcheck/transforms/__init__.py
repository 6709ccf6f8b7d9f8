"""Parametrizations done right: the tutorial's, with a correct ``right_inverse``, and more.

Each transform is an ``nn.Module`` for ``torch.nn.utils.parametrize`` (or
``paramcheck.parametrize``) with a ``spec`` (:class:`Spec`) saying what its output
satisfies and where its ``right_inverse`` is exact. All work on batches (leading
dimensions), in float32 and float64, on any device. Needs torch only.

==========================  ======================  ==============================
transform                   constraint              input domain
==========================  ======================  ==============================
:class:`Symmetric`          symmetric               square matrices
:class:`Skew`               skew                    square matrices
:class:`CayleyMap`          special_orthogonal      skew matrices
:class:`MatrixExponential`  special_orthogonal/spd  skew/symmetric (``domain=``)
:class:`Pruning`            (zero where masked)     tensors of the mask's shape
:class:`Stiefel`            orthogonal              any matrix (tall or wide)
:class:`Sphere`             unit_norm               any tensor
:class:`Positive`           positive                any tensor
:class:`TorchOrthogonal`    orthogonal              torch's ``orthogonal``
:class:`TorchSpectralNorm`  (none guaranteed)       torch's ``spectral_norm``
:class:`TorchWeightNorm`    (none)                  torch's ``weight_norm``
==========================  ======================  ==============================

Everything shipped, for tools that check it all: :func:`catalog`.

Chains: :func:`orthogonal_cayley`, :func:`orthogonal_exp`, :func:`spd_exp` return a
fresh :class:`Chain`; :func:`register_chain` registers one on a module.
"""

from __future__ import annotations

from paramcheck.transforms._catalog import Entry, catalog
from paramcheck.transforms._cayley import CayleyMap, cayley_inverse
from paramcheck.transforms._chains import (
    Chain,
    orthogonal_cayley,
    orthogonal_exp,
    register_chain,
    spd_exp,
)
from paramcheck.transforms._exponential import MatrixExponential, orthogonal_log, spd_log
from paramcheck.transforms._positive import Positive
from paramcheck.transforms._pruning import Pruning
from paramcheck.transforms._spec import ALL_FLOATS, DOMAINS, FLOATS, Spec
from paramcheck.transforms._sphere import Sphere
from paramcheck.transforms._stiefel import Stiefel
from paramcheck.transforms._symmetric import Skew, Symmetric
from paramcheck.transforms._torch_builtins import (
    TorchOrthogonal,
    TorchSpectralNorm,
    TorchWeightNorm,
)

__all__ = [
    "ALL_FLOATS",
    "DOMAINS",
    "FLOATS",
    "CayleyMap",
    "Chain",
    "Entry",
    "MatrixExponential",
    "Positive",
    "Pruning",
    "Skew",
    "Spec",
    "Sphere",
    "Stiefel",
    "Symmetric",
    "TorchOrthogonal",
    "TorchSpectralNorm",
    "TorchWeightNorm",
    "catalog",
    "cayley_inverse",
    "orthogonal_cayley",
    "orthogonal_exp",
    "orthogonal_log",
    "register_chain",
    "spd_exp",
    "spd_log",
]
