"""paramcheck.properties, called directly: inside a user's @given test, and their messages."""

from __future__ import annotations

import contextlib
import types
from typing import Any

import pytest
import torch
import torch.nn.utils.parametrize as torch_parametrize
from hypothesis import HealthCheck, given, settings
from torch import Tensor, nn

from paramcheck import properties, strategies
from paramcheck.properties import NotApplicable

QUICK = settings(max_examples=15, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow])


class Skew(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        U = X.triu(1)
        return U - U.mT

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.triu(1)


class Cayley(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        eye = torch.eye(X.shape[-1], dtype=X.dtype, device=X.device)
        return torch.linalg.solve(eye - X, eye + X)

    def right_inverse(self, Q: Tensor) -> Tensor:
        eye = torch.eye(Q.shape[-1], dtype=Q.dtype, device=Q.device)
        return torch.linalg.solve(Q + eye, Q - eye)


class WrongSignCayley(Cayley):
    def right_inverse(self, Q: Tensor) -> Tensor:
        return -super().right_inverse(Q)


class Detached(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        return X.detach() * 2


class Abs(nn.Module):
    """Has a kink at 0, where hypothesis likes to look; its gradient is still right."""

    def forward(self, X: Tensor) -> Tensor:
        return X.abs()


class WrongBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, X: Tensor) -> Tensor:
        return X * X

    @staticmethod
    def backward(ctx: Any, G: Tensor) -> Tensor:
        return G  # should be 2·X·G


class Square(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        out: Tensor = WrongBackward.apply(X)
        return out


class NoInverse(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        return X + X.mT


SKEW_CAYLEY = [Skew(), Cayley()]


# ------------------------------------------------------------------ in a user's test


@QUICK
@given(strategies.matrices((4, 4), dtype=torch.float32))
def test_properties_run_inside_a_users_given_test(X: Tensor) -> None:
    properties.constraint(SKEW_CAYLEY, X, "special_orthogonal")
    properties.round_trip(SKEW_CAYLEY, X)
    properties.gradient(SKEW_CAYLEY, X)
    properties.dtype(SKEW_CAYLEY, X)
    properties.device(SKEW_CAYLEY, X)
    properties.differential(SKEW_CAYLEY, X)


@QUICK
@given(strategies.matrices((4, 4)), strategies.matrices((4, 4)))
def test_cache_and_state_take_a_second_input(X: Tensor, X2: Tensor) -> None:
    properties.cache(lambda: [Skew(), Cayley()], X, X2)
    properties.state(lambda: [Skew(), Cayley()], X, X2)


@QUICK
@given(strategies.matrices((3, 4, 4)))
def test_batch_on_a_batched_input(X: Tensor) -> None:
    properties.batch(SKEW_CAYLEY, X)
    properties.constraint(SKEW_CAYLEY, X, "orthogonal")


def test_the_users_modules_are_never_touched() -> None:
    chain = [Skew(), Cayley()]
    properties.state(chain, torch.ones(4, 4), torch.zeros(4, 4))
    assert not torch_parametrize.is_parametrized(chain[0])
    assert all(not list(m._forward_hooks) for m in chain)


# ------------------------------------------------------------------------- messages


def test_round_trip_message_says_what_where_and_how_far() -> None:
    X = torch.zeros(4, 4)
    X[0, 1] = 1.0
    with pytest.raises(AssertionError) as caught:
        properties.round_trip([Skew(), WrongSignCayley()], X)
    message = str(caught.value)
    assert "forward(right_inverse(A)) differs from A = forward(X) by 2 at [0, 1]" in message
    assert "tolerance" in message and "n = 4" in message and "eps = 1.19e-07" in message
    assert "A = torch.tensor(" in message


def test_round_trip_without_right_inverse_is_not_applicable() -> None:
    with pytest.raises(NotApplicable, match="NoInverse has none"):
        properties.round_trip(NoInverse(), torch.eye(3))


def test_constraint_message() -> None:
    with pytest.raises(AssertionError, match=r"forward\(X\) is not skew: skew: max\|A \+ Aᵀ\|"):
        properties.constraint(NoInverse(), torch.eye(3), "skew")


def test_gradient_detects_detached_and_wrong_backward_but_not_a_kink() -> None:
    with pytest.raises(AssertionError, match="does not depend on the original through autograd"):
        properties.gradient(Detached(), torch.ones(2, 2))
    with pytest.raises(AssertionError, match=r"analytical .* numerical") as caught:
        properties.gradient(Square(), torch.full((2, 2), 3.0))
    assert "gradcheck in float64" in str(caught.value)
    properties.gradient(Abs(), torch.zeros(3, 3))  # kink at 0: confirmed elsewhere, passes


def test_gradient_projects_onto_structured_domains() -> None:
    class UpperOnly(nn.Module):
        """Reads one triangle, like eigh: only defined on symmetric input."""

        def forward(self, X: Tensor) -> Tensor:
            eigenvalues, vectors = torch.linalg.eigh(X)
            return (vectors * eigenvalues.exp().unsqueeze(-2)) @ vectors.mT

    S = torch.tensor([[2.0, 0.3, 0.0], [0.3, 1.0, 0.1], [0.0, 0.1, -1.0]], dtype=torch.float64)
    properties.gradient(UpperOnly(), S, domain="symmetric")
    with pytest.raises(AssertionError):
        properties.gradient(UpperOnly(), S, domain="matrix")


def test_cache_counts_forward_calls_per_block() -> None:
    no_cache = types.ModuleType("no_cache")
    no_cache.register_parametrization = torch_parametrize.register_parametrization  # type: ignore[attr-defined]
    no_cache.cached = contextlib.nullcontext  # type: ignore[attr-defined]
    with pytest.raises(AssertionError, match=r"ran Skew\.forward 3 times"):
        properties.cache(Skew(), torch.ones(3, 3), implementation=no_cache)


def test_batch_message_names_the_item() -> None:
    class WholeNorm(nn.Module):
        def forward(self, X: Tensor) -> Tensor:
            return X / X.norm()

    with pytest.raises(AssertionError, match=r"forward\(X\)\[0\] on the batch differs"):
        properties.batch(WholeNorm(), torch.ones(2, 3, 3))


def test_dtype_and_device_messages() -> None:
    class ToDouble(nn.Module):
        def forward(self, X: Tensor) -> Tensor:
            return X.double()

    class ToCPU(nn.Module):
        def forward(self, X: Tensor) -> Tensor:
            return X.cpu()

    with pytest.raises(AssertionError, match=r"has dtype torch\.float64, but X has dtype"):
        properties.dtype(ToDouble(), torch.ones(2, 2))
    with pytest.raises(AssertionError, match="moves a tensor to a fixed device"):
        properties.device(ToCPU(), torch.ones(2, 2))


def test_state_message() -> None:
    class PlainAttribute(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.offset = torch.zeros(())

        def forward(self, X: Tensor) -> Tensor:
            return X + self.offset

        def right_inverse(self, A: Tensor) -> Tensor:
            self.offset = A.mean()
            return A - self.offset

    with pytest.raises(AssertionError, match="twin loaded from the state_dict differs"):
        properties.state(PlainAttribute(), torch.ones(2, 2), torch.zeros(2, 2))


def test_errors_inside_the_parametrization_become_assertion_errors() -> None:
    class Raises(nn.Module):
        def forward(self, X: Tensor) -> Tensor:
            raise ValueError("bad input")

    with pytest.raises(AssertionError, match=r"Raises\.forward raised ValueError: bad input"):
        properties.dtype(Raises(), torch.ones(2, 2))


def test_non_tensor_input_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="X must be a tensor"):
        properties.round_trip(Skew(), [[1.0]])  # type: ignore[arg-type]


# ----------------------------------------------------- stateful and multi-original


def test_stateful_and_multi_original_transforms_pass_the_plumbing_properties() -> None:
    from paramcheck.transforms import TorchSpectralNorm, TorchWeightNorm

    X = torch.tensor([[1.0, -2.0, 0.5], [0.3, 1.5, -1.0], [2.0, 0.2, 0.7]])
    X2 = X.flip(0) * 0.5

    def spectral() -> nn.Module:
        torch.manual_seed(0)
        return TorchSpectralNorm((3, 3))

    for parametrization in (spectral, TorchWeightNorm):
        properties.cache(parametrization, X, X2)
        properties.state(parametrization, X, X2)
        properties.differential(parametrization, X)
        properties.gradient(parametrization, X)
