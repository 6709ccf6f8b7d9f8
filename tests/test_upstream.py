"""The table of known torch defects: versions, the reproduction check, the workaround."""

from __future__ import annotations

import dataclasses
import datetime
import re

import pytest
import torch

from paramcheck import upstream
from paramcheck.upstream import KNOWN_DEFECTS, MATRIX_EXP_T8


def rotation(theta: float, dtype: torch.dtype, n: int = 4) -> torch.Tensor:
    A = torch.zeros(n, n, dtype=dtype)
    A[0, 1], A[1, 0] = -theta, theta
    return A


@pytest.mark.parametrize("defect", KNOWN_DEFECTS, ids=lambda d: d.issue)
def test_every_entry_is_dated_and_cites_its_issue(defect: upstream.UpstreamDefect) -> None:
    assert re.fullmatch(r"[\w.-]+/[\w.-]+#\d+", defect.issue)
    owner_repo, number = defect.issue.split("#")
    assert defect.url == f"https://github.com/{owner_repo}/issues/{number}"
    assert re.fullmatch(r"[\w.-]+/[\w.-]+#\d+", defect.fix)
    assert isinstance(defect.recorded, datetime.date)
    assert defect.ops and all(op.startswith("torch.") for op in defect.ops)
    assert defect.workaround and defect.summary


def test_affected_versions() -> None:
    assert MATRIX_EXP_T8.affects("2.13.0")
    assert MATRIX_EXP_T8.affects("2.13.0+cpu")
    assert MATRIX_EXP_T8.affects("2.14.0")  # where the issue was reported
    assert not MATRIX_EXP_T8.affects("1.6.0")  # before matrix_exp existed
    fixed = dataclasses.replace(MATRIX_EXP_T8, fixed_in="2.15.0")
    assert fixed.affects("2.14.1") and not fixed.affects("2.15.0")
    assert fixed.versions == ">= 1.7.0, < 2.15.0"
    assert MATRIX_EXP_T8 in upstream.affecting("2.13.0")


@pytest.mark.parametrize(("dtype", "theta"), [(torch.float32, 0.5), (torch.float64, 0.04)])
def test_the_lone_matrix_reproduces_and_the_workaround_does_not(dtype: torch.dtype,
                                                                theta: float) -> None:
    A = rotation(theta, dtype)
    assert MATRIX_EXP_T8.reproduces((A,), {})
    assert upstream.find("torch.linalg.matrix_exp", (A,), {}) is MATRIX_EXP_T8
    assert upstream.find("torch.matrix_exp", (A,), {}) is MATRIX_EXP_T8
    # A batch of two takes the accurate path: not the defect.
    assert not MATRIX_EXP_T8.reproduces((torch.stack([A, A]),), {})
    # Another op, or a norm off the T8 path, is not the defect.
    assert upstream.find("torch.linalg.solve", (A,), {}) is None
    assert not MATRIX_EXP_T8.reproduces((rotation(2.0, dtype),), {})


def test_routed_around_gives_the_batched_result_for_a_lone_matrix() -> None:
    A = rotation(0.5, torch.float32)
    exact = torch.linalg.matrix_exp(torch.stack([A, A]).double())[0]
    lone_error = (torch.linalg.matrix_exp(A).double() - exact).abs().max().item()
    with upstream.routed_around():
        routed = torch.linalg.matrix_exp(A)
        also = torch.matrix_exp(A)
        batch = torch.linalg.matrix_exp(torch.stack([A, 2 * A]))
    eps = torch.finfo(torch.float32).eps
    assert lone_error > 100 * eps  # the defect, for the record
    assert (routed.double() - exact).abs().max().item() <= 2 * eps
    assert torch.equal(routed, also)
    assert torch.equal(batch, torch.linalg.matrix_exp(torch.stack([A, 2 * A])))


def test_routed_around_nothing_when_no_defect_affects_the_running_torch() -> None:
    A = rotation(0.5, torch.float32)
    lone = torch.linalg.matrix_exp(A)
    with upstream.routed_around(defects=()):
        assert torch.equal(torch.linalg.matrix_exp(A), lone)
    with upstream.routed_around():
        assert not torch.equal(torch.linalg.matrix_exp(A), lone)
    assert "pytorch/pytorch#196592" in str(MATRIX_EXP_T8)
    assert "workaround" in str(MATRIX_EXP_T8)
