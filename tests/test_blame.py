"""Blame names the first torch op where a failing computation departs, by measurement.

Each planted departure (a batch-mixing ``.T``, a cancellation in float32, torch's own
lone-matrix matrix_exp) has a clean twin for which blame finds nothing, and the op is
named with the line of this file that called it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from paramcheck import _blame, _recording, upstream
from paramcheck.transforms._exponential import matrix_exp as paired_matrix_exp

HERE = "test_blame.py:"


def _line(fn: object, marker: str) -> str:
    """``test_blame.py:N`` for the line of ``fn``'s source containing ``marker``."""
    import inspect

    lines, start = inspect.getsourcelines(fn)  # type: ignore[arg-type]
    for k, text in enumerate(lines):
        if marker in text:
            return f"{HERE}{start + k}"
    raise AssertionError(marker)


def transpose_symmetric(X: Tensor) -> Tensor:
    return X.triu() + X.triu(1).T  # the bug: .T reverses every dimension of a batch


def mT_symmetric(X: Tensor) -> Tensor:
    return X.triu() + X.triu(1).mT


def test_batch_mixing_transpose_is_named_with_its_line() -> None:
    batch = torch.arange(64, dtype=torch.float64).reshape(4, 4, 4) / 64
    blame = _blame.against_batch(transpose_symmetric, batch[1], batch=batch, item=1)
    d = blame.divergence
    assert d is not None
    assert d.op == "torch.Tensor.T"
    assert d.location == _line(transpose_symmetric, ".T  #")
    assert str(blame).startswith(f"diverges first at torch.Tensor.T ({d.location}): lone ")
    assert "batched" in str(blame)


def test_clean_twin_of_the_transpose_departs_nowhere() -> None:
    batch = torch.arange(64, dtype=torch.float64).reshape(4, 4, 4) / 64
    blame = _blame.against_batch(mT_symmetric, batch[1], batch=batch, item=1)
    assert blame.divergence is None
    assert "no op departs" in str(blame)


def test_shape_that_stops_corresponding_is_named_before_the_error_it_causes() -> None:
    batch = torch.ones(2, 4, 4)
    blame = _blame.against_batch(transpose_symmetric, batch[0], batch=batch, item=0)
    assert blame.divergence is not None and blame.divergence.op == "torch.Tensor.T"
    assert "shape (4, 4, 2)" in str(blame) and "(4, 4)" in str(blame)
    assert "then raises RuntimeError at torch.Tensor.add" in str(blame)


def rotation(theta: float, dtype: torch.dtype) -> Tensor:
    """A 4x4 skew matrix whose exponential takes torch's T8 path when alone."""
    A = torch.zeros(4, 4, dtype=dtype)
    A[0, 1], A[1, 0] = -theta, theta
    return A


def lone_exp(X: Tensor) -> Tensor:
    return torch.linalg.matrix_exp(X)


def test_torch_matrix_exp_is_blamed_and_recognised_as_the_upstream_defect() -> None:
    for dtype, theta in ((torch.float32, 0.5), (torch.float64, 0.04)):
        blame, defect = _blame.explain(lone_exp, rotation(theta, dtype))
        d = blame.divergence
        assert d is not None, dtype
        assert d.op == "torch.linalg.matrix_exp"
        assert d.location == _line(lone_exp, "matrix_exp(X)")
        assert (d.test_label, d.reference_label) == ("lone", "batched")
        assert defect is upstream.MATRIX_EXP_T8


def test_matrix_exp_routed_around_departs_nowhere() -> None:
    X = rotation(0.5, torch.float32)
    blame, defect = _blame.explain(paired_matrix_exp, X)
    assert blame.divergence is None and defect is None
    with upstream.routed_around():
        blame, defect = _blame.explain(lone_exp, X)
    assert blame.divergence is None and defect is None


def test_blamed_op_that_is_not_a_known_defect_is_the_users() -> None:
    batch = torch.arange(64, dtype=torch.float64).reshape(4, 4, 4) / 64
    blame, defect = _blame.explain(transpose_symmetric, batch[1], batch=batch, item=1)
    assert blame.divergence is not None and defect is None


def naive_inverse_softplus(Y: Tensor) -> Tensor:
    return torch.log(torch.exp(Y) - 1)  # cancellation: exp(y) - 1 for small y


def stable_inverse_softplus(Y: Tensor) -> Tensor:
    return torch.log(torch.expm1(Y))


def test_float32_cancellation_is_located_against_a_float64_shadow() -> None:
    Y = torch.full((3,), 1e-3)
    blame = _blame.against_float64(naive_inverse_softplus, Y)
    d = blame.divergence
    assert d is not None
    assert d.op == "torch.Tensor.sub"
    assert d.location == _line(naive_inverse_softplus, "- 1)")
    assert (d.test_label, d.reference_label) == ("float32", "float64")
    # float32 loses ~3 digits here: far above rounding, below a wrong formula's O(1).
    assert 1e-6 < d.relative_gap < 1e-3


def test_clean_twin_and_a_wrong_formula_agree_with_their_float64_shadow() -> None:
    Y = torch.full((3,), 1e-3)
    assert _blame.against_float64(stable_inverse_softplus, Y).divergence is None

    def wrong(Z: Tensor) -> Tensor:  # wrong in every precision
        return torch.log(Z)

    blame = _blame.against_float64(wrong, Y)
    assert blame.divergence is None
    assert "in the formula, not in the precision" in str(blame)


def test_an_op_off_the_path_to_the_result_is_never_blamed() -> None:
    def forward(X: Tensor) -> Tensor:
        total = X.sum()  # over the whole batch: differs, but only decides a branch
        if bool(total > 1e9):
            return X
        return X.triu() + X.triu(1).T

    batch = torch.arange(64, dtype=torch.float64).reshape(4, 4, 4) / 64
    blame = _blame.against_batch(forward, batch[1], batch=batch, item=1)
    assert blame.divergence is not None and blame.divergence.op == "torch.Tensor.T"


def test_a_recording_over_the_memory_limit_says_it_could_not_locate(monkeypatch: object
                                                                      ) -> None:
    import pytest

    mp = monkeypatch
    assert isinstance(mp, pytest.MonkeyPatch)
    mp.setattr(_recording, "MEMORY_LIMIT", 64)
    blame = _blame.against_batch(lone_exp, rotation(0.04, torch.float64))
    assert blame.divergence is None
    assert str(blame).startswith("could not locate the departure")


def test_float32_state_in_a_float64_module_is_reported() -> None:
    class Based(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            q, _ = torch.linalg.qr(torch.randn(4, 4))  # drawn in float32
            self.register_buffer("base", q)
            self.register_buffer("eye", torch.eye(4))  # exact: fits in float16

        def forward(self, X: Tensor) -> Tensor:
            return self.base @ torch.linalg.matrix_exp(X - X.mT)

    m = Based().double()
    assert _blame.float32_state([m]) == ["Based.base (a buffer)"]
    blame, defect = _blame.explain(lambda X: m(X), torch.zeros(4, 4, dtype=torch.float64),
                                   modules=[m])
    assert defect is None
    assert "Based.base (a buffer) holds float32 numbers" in str(blame)

    native = Based()
    native.base = torch.linalg.qr(torch.randn(4, 4, dtype=torch.float64))[0]
    assert _blame.float32_state([native.double()]) == []


def test_values_are_printed_with_the_digits_that_tell_them_apart() -> None:
    assert _blame._distinct(0.53326, 0.53330) == ("0.53326", "0.5333")
    assert _blame._distinct(1.0, 1.0 + 2**-40) == ("1", "1.000000000001")
    assert _blame._distinct(math.pi, math.pi) == (repr(math.pi), repr(math.pi))


def test_a_stateful_forward_gradient_failure_says_so_instead_of_a_zero_difference() -> None:
    from paramcheck import _gradcheck
    from paramcheck import _target as tg

    class Drifting(nn.Module):
        """Adds a counter that grows at every call: not a function of its input."""

        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def forward(self, X: Tensor) -> Tensor:
            self.calls += 1
            return X * (1.0 + 1e-3 * self.calls)

    X = torch.ones(2, 2, dtype=torch.float64)
    message = _gradcheck.check_at(tg.Target(lambda: Drifting()), X, None)
    assert message is not None
    assert "does not return the same output for the same input" in message
    assert "|difference| = 0" not in message

    class Scaled(nn.Module):  # clean twin: deterministic, correct gradient
        def forward(self, X: Tensor) -> Tensor:
            return 2 * X

    assert _gradcheck.check_at(tg.Target(lambda: Scaled()), X, None) is None


def test_explain_says_a_wrong_formula_is_neither_batching_nor_precision() -> None:
    """A failure that reproduces inside a batch and in float64 (a wrong formula, as the
    tutorial's right_inverse) is said to be in the formula; its twin, a float32 rounding
    loss, still names the op where float32 departs from float64."""

    def wrong(Z: Tensor) -> Tensor:  # wrong in every precision, the same in a batch
        return torch.log(Z)

    Y = torch.full((3, 3), 1e-3)
    blame, defect = _blame.explain(wrong, Y)
    assert blame.divergence is None and defect is None
    assert "not in batching or precision" in str(blame)
    rounding, _ = _blame.explain(naive_inverse_softplus, Y)
    assert rounding.divergence is not None and rounding.divergence.op == "torch.Tensor.sub"
