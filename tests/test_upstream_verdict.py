"""A failure torch causes is the *upstream* verdict, not the user's; strict counts it.

The chains are correct: a user's skew -> ``torch.linalg.matrix_exp`` map (no route around
pytorch/pytorch#196592) and a symmetric -> SPD exponential with an ``eigh`` logarithm.
The inputs are rotations and symmetric matrices whose exponentials take torch's
lone-matrix T8 path, where the defect shows (norms near 0.5 in float32).
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st
from torch import Tensor, nn

import paramcheck
from paramcheck import transforms as T
from paramcheck.engine._results import Verdict


class Exp(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        return torch.linalg.matrix_exp(X)


class SPDExp(Exp):
    def right_inverse(self, A: Tensor) -> Tensor:
        L, U = torch.linalg.eigh(A)
        return (U * L.log().unsqueeze(-2)) @ U.mT


class WrongSPDExp(SPDExp):
    """The planted bug beside the defect: the logarithm's eigenvalues are halved."""

    def right_inverse(self, A: Tensor) -> Tensor:
        L, U = torch.linalg.eigh(A)
        return (U * (L.log() / 2).unsqueeze(-2)) @ U.mT


def _rotation(t: float) -> Tensor:
    X = torch.zeros(4, 4)
    X[0, 1] = t
    return X


def _symmetric(t: float) -> Tensor:
    X = _rotation(t)
    X[2, 2] = t / 2
    return X


ROTATIONS = st.floats(0.45, 0.55).map(_rotation)
SYMMETRIC = st.floats(0.3, 0.6).map(_symmetric)
COMMON = {"dtypes": (torch.float32,), "max_examples": 20, "seed": 0}


def _statuses(report: paramcheck.Report) -> dict[str, Verdict]:
    return {r.property: r.status for r in report.results}


def test_a_correct_chain_around_matrix_exp_passes_with_the_upstream_finding_shown() -> None:
    report = paramcheck.verify([T.Skew(), Exp()], constraint="special_orthogonal",
                               inputs=ROTATIONS, properties=["batch", "constraint"], **COMMON)
    assert report.ok, str(report)
    assert _statuses(report)["batch"] is Verdict.UPSTREAM
    assert not report.failures
    found = next(r for r in report.results if r.property == "batch")
    assert found.defect is not None and found.defect.issue == "pytorch/pytorch#196592"
    assert found.defect.op == "torch.linalg.matrix_exp"
    text = str(report)
    assert "UPSTREAM batch [float32]" in text
    assert "diverges first at torch.linalg.matrix_exp (test_upstream_verdict.py:" in text
    assert "workaround" in text


def test_strict_counts_the_upstream_finding_and_names_the_issue() -> None:
    report = paramcheck.verify([T.Skew(), Exp()], constraint="special_orthogonal",
                               inputs=ROTATIONS, properties=["batch"], strict=True, **COMMON)
    assert not report.ok
    assert "pytorch/pytorch#196592" in str(report)
    assert "strict, so they count" in str(report)


def test_a_correct_symmetric_to_spd_exponential_passes_with_the_upstream_finding() -> None:
    report = paramcheck.verify([T.Symmetric(), SPDExp()], constraint="spd", inputs=SYMMETRIC,
                               properties=["round_trip"], **COMMON)
    assert report.ok, str(report)
    assert _statuses(report)["round_trip"] is Verdict.UPSTREAM
    strict = paramcheck.verify([T.Symmetric(), SPDExp()], constraint="spd", inputs=SYMMETRIC,
                               properties=["round_trip"], strict=True, **COMMON)
    assert not strict.ok and "pytorch/pytorch#196592" in str(strict)


def test_the_users_own_bug_beside_the_defect_is_still_the_users_failure() -> None:
    report = paramcheck.verify([T.Symmetric(), WrongSPDExp()], constraint="spd",
                               inputs=SYMMETRIC, properties=["round_trip"], **COMMON)
    assert _statuses(report)["round_trip"] is Verdict.FAILED, str(report)
    assert not report.ok


def test_the_routed_around_chain_has_no_upstream_finding() -> None:
    report = paramcheck.verify([T.Skew(), T.MatrixExponential("skew")], inputs=ROTATIONS,
                               properties=["batch"], **COMMON)
    assert _statuses(report)["batch"] is Verdict.PASSED, str(report)
