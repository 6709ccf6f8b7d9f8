"""verify at real sizes: counterexamples read as descriptions, and the tool's limits are
never the user's failure.

Each check comes with a planted bug and its clean twin. Every test here runs in a few
seconds: the large shapes use elementwise parametrizations (cheap at any size) or one
or two examples; the tutorial's bug at 256 to 1024 is in properties/test_sizes.py.
"""

from __future__ import annotations

import time

import pytest
import torch
from torch import Tensor, nn

import paramcheck
from paramcheck import strategies
from paramcheck._described import dense
from paramcheck.errors import UsageError
from paramcheck.known_bugs import NaivePositive, TransposeSymmetric
from paramcheck.transforms import Positive, Symmetric

F32 = (torch.float32,)
NAMESPACE = {name: getattr(strategies, name) for name in strategies.__all__}


def _rebuild(line: str) -> Tensor:
    """The tensor a report's ``rebuild:`` line makes."""
    code = line.split("rebuild: ", 1)[1].split("; ", 1)[1]
    _, expression = code.split(" = ", 1)
    built: Tensor = eval(expression, {**NAMESPACE, "torch": torch})
    return built


# ------------------------------------------------------------------ counterexamples


def test_a_large_counterexample_prints_as_the_description_that_rebuilds_it() -> None:
    report = paramcheck.verify(NaivePositive, shape=(16, 16), dtypes=F32,
                               properties=["round_trip"], max_examples=10, seed=0)
    (result,) = report.results
    assert result.failed, str(report)
    text = str(report)
    # one line for X, one to rebuild it: not 16384 numbers
    assert len(text) < 4000, text
    line = next(x for x in text.splitlines() if "counterexample X" in x)
    assert line.strip().startswith("counterexample X (shape (16, 16), float32): 16×16 "), line
    rebuild = next(x for x in text.splitlines() if "rebuild: " in x)
    assert torch.equal(_rebuild(rebuild), result.inputs["X"])
    assert report.to_frame().loc[0, "counterexample"] == str(result.descriptions["X"])


def test_the_correct_twin_at_the_same_size_passes() -> None:
    report = paramcheck.verify(Positive, shape=(16, 16), dtypes=F32,
                               properties=["round_trip"], max_examples=10, seed=0)
    assert report.ok and report.results[0].passed, str(report)


def test_a_dense_counterexample_is_searched_again_for_the_simplest_one() -> None:
    """NaivePositive fails wherever one entry of softplus(X) passes 88.7 (exp overflows):
    the report shows zeros (or a multiple of the identity) with that entry set, not the
    dense input the search met first."""
    report = paramcheck.verify(NaivePositive, shape=(16, 16), dtypes=F32,
                               properties=["round_trip"], max_examples=10, seed=0)
    (result,) = report.results
    X = result.descriptions["X"]
    assert result.failed and isinstance(X, strategies.Entrywise), str(report)
    assert isinstance(X.base, strategies.Zeros | strategies.Identity), str(X)
    assert len(X.entries) <= 2 and not dense(X), str(X)


class DenseOnlyBug(nn.Module):
    """Right only while at most 16 entries off the diagonal are nonzero: no input with
    a few entries set shows it, so the dense counterexample must stand."""

    def forward(self, X: Tensor) -> Tensor:
        return X

    def right_inverse(self, W: Tensor) -> Tensor:
        off = W - torch.diag_embed(W.diagonal(dim1=-2, dim2=-1))
        return W if int((off != 0).sum()) <= 16 else W + 1


def test_a_failure_only_dense_inputs_show_keeps_its_dense_counterexample() -> None:
    report = paramcheck.verify(DenseOnlyBug, shape=(16, 16), dtypes=F32,
                               properties=["round_trip"], max_examples=10, seed=0)
    (result,) = report.results
    assert result.failed and dense(result.descriptions["X"]), str(report)


def test_a_batched_counterexample_prints_each_item() -> None:
    report = paramcheck.verify(TransposeSymmetric, shape=(16, 16), dtypes=F32,
                               properties=["batch"], max_examples=5, seed=0)
    (result,) = report.results
    assert result.failed, str(report)
    assert isinstance(result.descriptions["X"], strategies.Batched)
    line = next(x for x in str(report).splitlines() if "counterexample X" in x)
    assert "a batch of 2: [0] 16×16 square" in line and "; [1] 16×16 square" in line
    rebuild = next(x for x in str(report).splitlines() if "rebuild: " in x)
    assert torch.equal(_rebuild(rebuild), result.inputs["X"])
    twin = paramcheck.verify(Symmetric, shape=(16, 16), dtypes=F32, properties=["batch"],
                             max_examples=5, seed=0)
    assert twin.ok, str(twin)


def test_a_large_input_without_a_description_is_never_printed_in_full() -> None:
    ones = strategies.matrices((1, 1)).map(lambda t: torch.ones(16, 16) * 0 + 1e3)
    report = paramcheck.verify(NaivePositive, inputs=ones, shape=(16, 16), dtypes=F32,
                               properties=["round_trip"], max_examples=2, seed=0)
    assert report.results[0].failed, str(report)
    assert "256 entries, too many to print" in str(report) and len(str(report)) < 4000


# ---------------------------------------------------------------- the tool's limits


class DenseOperatorSymmetric(nn.Module):
    """``(X + Xᵀ)/2`` computed as the dense (n², n²) matrix of the map applied to vec(X).

    Correct, and fine at 4×4; at n = 4096 the operator has 2⁴⁸ entries (a petabyte),
    more than any machine can allocate: the search runs out of memory, which says nothing
    about the law.
    """

    def forward(self, X: Tensor) -> Tensor:
        n = X.shape[-1]
        eye = torch.eye(n * n, dtype=X.dtype, device=X.device)
        swap = eye.reshape(n, n, n, n).transpose(0, 1).reshape(n * n, n * n)
        return ((eye + swap) / 2 @ X.reshape(*X.shape[:-2], n * n, 1)).reshape(X.shape)

    def right_inverse(self, W: Tensor) -> Tensor:
        return W


def test_running_out_of_memory_is_could_not_test_never_a_failure() -> None:
    report = paramcheck.verify(DenseOperatorSymmetric, constraint="symmetric",
                               shape=(4096, 4096), dtypes=F32, properties=["constraint"],
                               max_examples=2, seed=0)
    (result,) = report.results
    assert result.status is paramcheck.Verdict.COULD_NOT_TEST, str(report)
    assert report.ok and "out of memory at shape (4096, 4096)" in result.message
    assert "smaller shape" in result.message
    assert "could not test symmetric [float32]" in str(report)


def test_the_same_operator_where_it_fits_gets_a_verdict() -> None:
    report = paramcheck.verify(DenseOperatorSymmetric, constraint="symmetric",
                               shape=(4, 4), dtypes=F32, properties=["constraint"],
                               max_examples=5, seed=0)
    assert report.results[0].passed, str(report)


class SlowSymmetric(Symmetric):
    """Correct, and 20 ms per call."""

    def forward(self, X: Tensor) -> Tensor:
        time.sleep(0.02)
        return super().forward(X)


class SlowNaivePositive(NaivePositive):
    """NaivePositive's overflow, 20 ms per call."""

    def forward(self, X: Tensor) -> Tensor:
        time.sleep(0.02)
        return super().forward(X)


def test_a_search_out_of_time_is_could_not_test() -> None:
    report = paramcheck.verify(SlowSymmetric, shape=(4, 4), dtypes=F32,
                               properties=["round_trip"], max_examples=100, seed=0,
                               time_limit=0.3)
    (result,) = report.results
    assert result.status is paramcheck.Verdict.COULD_NOT_TEST, str(report)
    assert report.ok and "time limit of 0.3 s was reached" in result.message
    assert result.examples < 100


def test_a_failure_found_before_the_time_limit_is_still_a_failure() -> None:
    report = paramcheck.verify(SlowNaivePositive, shape=(4, 4), dtypes=F32,
                               properties=["round_trip"], max_examples=100, seed=0,
                               time_limit=1.0)
    (result,) = report.results
    assert result.failed and not report.ok, str(report)
    assert "inf" in str(report)


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), "10", True])
def test_time_limit_must_be_a_positive_number(bad: object) -> None:
    with pytest.raises(UsageError, match="time_limit must be a positive finite number"):
        paramcheck.verify(Symmetric, time_limit=bad)


def test_the_command_line_reports_a_search_out_of_time_as_untested(
        capsys: pytest.CaptureFixture[str]) -> None:
    from paramcheck._cli import main

    argv = ["verify", "paramcheck.transforms:Skew", "--time-limit", "1e-9", "--shape", "8x8",
            "--properties", "round_trip", "--dtypes", "float32", "-q"]
    assert main(argv) == 0  # nothing failed: the tool's limit is no failure of Skew
    out = capsys.readouterr().out
    assert "untested" in out and "time limit of 1e-09 s was reached" in out
    assert "all properties hold" not in out and "could not test have no verdict" in out


def test_a_failure_at_a_large_shape_is_also_reported_at_the_smallest_that_fails() -> None:
    report = paramcheck.verify(NaivePositive, shape=(256, 256), dtypes=F32,
                               properties=["round_trip"], max_examples=5, seed=0)
    (result,) = report.results
    assert result.failed and result.smaller is not None, str(report)
    assert tuple(result.smaller.inputs["X"].shape) == (2, 2), str(report)
    assert "also fails at the smaller shape (2, 2)" in str(report)


def test_a_parametrization_built_for_its_size_is_not_resized() -> None:
    from paramcheck.known_bugs import TutorialCayleyMap
    from paramcheck.transforms import Skew

    report = paramcheck.verify(lambda: [Skew(), TutorialCayleyMap(96)], shape=(96, 96),
                               dtypes=F32, properties=["round_trip"], max_examples=5, seed=0)
    (result,) = report.results
    assert result.failed and result.smaller is None, str(report)
