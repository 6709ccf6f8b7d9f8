"""Scan a model: find every parametrized tensor, verify it as it is there, warn of hazards.

>>> import torch, paramcheck
>>> from torch.nn.utils.parametrizations import orthogonal
>>> model = torch.nn.Sequential(orthogonal(torch.nn.Linear(4, 4)))
>>> paramcheck.scan(model, search=False).ok
True
"""

from paramcheck._scan._find import HookReparametrization, ParametrizedTensor, find, find_hooks
from paramcheck._scan._hazards import CHECKS, Hazard, legacy_renames
from paramcheck._scan._infer import Inference, infer
from paramcheck._scan._run import ScanReport, TensorScan, Verdict, scan

__all__ = [
    "CHECKS",
    "Hazard",
    "HookReparametrization",
    "Inference",
    "ParametrizedTensor",
    "ScanReport",
    "TensorScan",
    "Verdict",
    "find",
    "find_hooks",
    "infer",
    "legacy_renames",
    "scan",
]
