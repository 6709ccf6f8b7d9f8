"""Each known bug breaks the property it names, and its correct twin does not.

These are local demonstrations with torch's parametrize; the property suite checks the
same bugs through ``paramcheck.verify``. Tolerances: ``C · n · eps · κ`` as in
``test_transforms.py``; a bug shows as an error of order one, far above them.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.utils.parametrize as torch_parametrize
from torch import Tensor, nn

from paramcheck import known_bugs
from paramcheck.known_bugs import (
    DetachedNormSphere,
    ElementwiseLogSPD,
    GradNormalizingSkew,
    HostBoundCayleyMap,
    MemoizedTopK,
    NaivePositive,
    TopKMagnitude,
    TransposeSymmetric,
    TutorialCayleyMap,
    UnsavedBaseOrthogonal,
    UpcastCayleyMap,
)
from paramcheck.transforms import (
    CayleyMap,
    MatrixExponential,
    Positive,
    Skew,
    Sphere,
    Symmetric,
)

C = 10.0
PROPERTIES = {
    "constraint",
    "round_trip",
    "cache",
    "gradient",
    "batch",
    "dtype",
    "device",
    "state",
    "differential",
}
requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def eps(dtype: torch.dtype) -> float:
    return torch.finfo(dtype).eps


def max_abs(X: Tensor) -> float:
    return float(X.detach().abs().max())


def rotation(n: int, seed: int = 0) -> Tensor:
    """A special orthogonal float64 matrix away from the eigenvalue -1: exp of a skew, ‖·‖₂ = 2."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, n, generator=g, dtype=torch.float64)
    S = X - X.mT
    return torch.matrix_exp(S / torch.linalg.matrix_norm(S, ord=2) * 2)


def test_every_known_bug_names_one_property_and_carries_a_spec() -> None:
    bugs = known_bugs.instances(4)
    assert set(bugs) == {bug.__name__ for bug in known_bugs.KNOWN_BUGS}
    for name, bug in bugs.items():
        breaks, spec = bug.breaks, bug.spec
        assert breaks in PROPERTIES, name
        assert spec.inputs, name
        assert f"Breaks ``{breaks}``" in (type(bug).__doc__ or ""), name


# --- round_trip ---------------------------------------------------------------------------------


def test_tutorial_cayley_map_returns_the_transpose() -> None:
    Q = rotation(4)
    bug = TutorialCayleyMap(4)
    back = bug(bug.right_inverse(Q))
    assert max_abs(back - Q.mT) <= C * 4 * eps(torch.float64) * 5
    assert max_abs(back - Q) > 0.1  # the round trip fails...
    right = CayleyMap(4)  # ...and here it holds
    assert max_abs(right(right.right_inverse(Q)) - Q) <= C * 4 * eps(torch.float64) * 5
    X = Skew()(torch.randn(4, 4, dtype=torch.float64))
    assert max_abs(bug(X) - right(X)) <= C * 4 * eps(torch.float64) * 5  # forward is right


def test_tutorial_cayley_map_through_registration() -> None:
    layer = nn.Linear(4, 4).double()
    torch_parametrize.register_parametrization(layer, "weight", Skew())
    torch_parametrize.register_parametrization(layer, "weight", TutorialCayleyMap(4).double())
    Q = rotation(4, seed=1)
    layer.weight = Q
    assert max_abs(layer.weight - Q.mT) <= 1e-12


def test_naive_softplus_inverse_overflows_in_float32() -> None:
    y = Positive()(torch.tensor([100.0]))
    assert torch.isinf(NaivePositive().right_inverse(y)).all()
    assert not torch.equal(NaivePositive()(NaivePositive().right_inverse(y)), y)
    assert torch.equal(Positive()(Positive().right_inverse(y)), y)


def test_elementwise_log_is_not_the_matrix_log() -> None:
    g = torch.Generator().manual_seed(0)
    X = torch.randn(4, 4, generator=g, dtype=torch.float64)
    A = MatrixExponential("symmetric")(X + X.mT)
    back = ElementwiseLogSPD()(ElementwiseLogSPD().right_inverse(A))
    assert not bool(torch.isfinite(back).all()) or max_abs(back - A) > 0.1
    good = MatrixExponential("symmetric")
    tolerance = C * 4 * eps(torch.float64) * float(torch.linalg.cond(A)) * max_abs(A)
    assert max_abs(good(good.right_inverse(A)) - A) <= tolerance


# --- batch --------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:The use of `x.T`")  # torch warns once per process
def test_transpose_symmetric_is_right_on_a_matrix_and_wrong_on_a_batch() -> None:
    X = torch.randn(3, 3)
    assert torch.equal(TransposeSymmetric()(X), Symmetric()(X))
    batch = torch.randn(3, 3, 3)  # b == n: broadcasts, and mixes the batch
    assert not torch.equal(TransposeSymmetric()(batch), Symmetric()(batch))
    with pytest.raises(RuntimeError):
        TransposeSymmetric()(torch.randn(2, 3, 3))  # b != n: does not even broadcast


# --- dtype --------------------------------------------------------------------------------------


def test_upcast_cayley_map_changes_the_dtype_of_float32_only() -> None:
    X = Skew()(torch.randn(4, 4))
    assert UpcastCayleyMap()(X).dtype == torch.float64
    assert torch.allclose(UpcastCayleyMap()(X).float(), CayleyMap()(X), atol=1e-5)
    assert UpcastCayleyMap()(X.double()).dtype == torch.float64
    assert torch.autograd.gradcheck(UpcastCayleyMap(), (X.double().requires_grad_(),))
    layer = nn.Linear(4, 4)
    with pytest.raises(ValueError, match="dtype"):
        torch_parametrize.register_parametrization(layer, "weight", UpcastCayleyMap())


# --- device -------------------------------------------------------------------------------------


def test_host_bound_cayley_map_keeps_its_identity_out_of_the_module_state() -> None:
    bug = HostBoundCayleyMap(3)
    assert "Id" not in dict(bug.named_buffers())  # so .to(device) cannot move it
    X = Skew()(torch.randn(3, 3, dtype=torch.float64))
    assert max_abs(bug(X) - CayleyMap()(X)) <= C * 3 * eps(torch.float64) * 5  # CPU: right


@requires_cuda
def test_host_bound_cayley_map_returns_cuda_input_on_the_cpu() -> None:
    X = Skew()(torch.randn(3, 3, device="cuda"))
    assert HostBoundCayleyMap(3).to("cuda")(X).device.type == "cpu"
    assert CayleyMap().to("cuda")(X).device.type == "cuda"


# --- gradient -----------------------------------------------------------------------------------


def test_detached_norm_sphere_has_right_values_and_wrong_gradients() -> None:
    X = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.equal(DetachedNormSphere()(X), Sphere()(X))
    assert torch.autograd.gradcheck(Sphere(), (X,))
    assert not torch.autograd.gradcheck(DetachedNormSphere(), (X,), raise_exception=False)


# --- cache --------------------------------------------------------------------------------------


def gradient_after_two_reads(transform: nn.Module, cached: bool) -> Tensor:
    torch.manual_seed(0)
    layer = nn.Linear(3, 3).double()
    R1, R2 = torch.randn(2, 3, 3, dtype=torch.float64)
    torch_parametrize.register_parametrization(layer, "weight", transform)
    if cached:
        with torch_parametrize.cached():
            loss = (layer.weight * R1).sum() + (layer.weight * R2).sum()
    else:
        loss = (layer.weight * R1).sum() + (layer.weight * R2).sum()
    loss.backward()
    grad = layer.parametrizations.weight.original.grad
    assert grad is not None
    return grad


def test_grad_normalizing_skew_differs_inside_and_outside_cached() -> None:
    uncached = gradient_after_two_reads(GradNormalizingSkew(), cached=False)
    cached = gradient_after_two_reads(GradNormalizingSkew(), cached=True)
    # uncached: R₁/‖R₁‖ + R₂/‖R₂‖ (each read normalised); cached: (R₁+R₂)/‖R₁+R₂‖.
    assert max_abs(uncached - cached) > 0.1
    right_uncached = gradient_after_two_reads(Skew(), cached=False)
    assert torch.equal(right_uncached, gradient_after_two_reads(Skew(), cached=True))
    # Values and finite-difference gradients are untouched.
    X = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.equal(GradNormalizingSkew()(X), Skew()(X))
    assert torch.autograd.gradcheck(GradNormalizingSkew(), (X,))


def after_one_step(transform: nn.Module) -> tuple[nn.Module, Tensor]:
    """A layer pruned by ``transform`` and its weight after one in-place SGD step.

    The loss ``½‖W‖²`` with learning rate 1 drives the kept entries to zero (their
    gradient is themselves; the dropped ones get none), so the largest entries of the
    updated original are the ones the first mask dropped.
    """
    torch.manual_seed(0)
    layer = nn.Linear(6, 6).double()
    torch_parametrize.register_parametrization(layer, "weight", transform)
    opt = torch.optim.SGD(layer.parameters(), lr=1.0)
    (layer.weight.square().sum() / 2).backward()
    opt.step()
    return layer, layer.weight.detach()


def test_memoized_top_k_keeps_the_first_mask_and_a_deep_copy_keeps_it_too() -> None:
    layer, stale = after_one_step(MemoizedTopK())
    current = TopKMagnitude()(layer.parametrizations.weight.original.detach())
    assert max_abs(stale) == 0 < max_abs(current)  # the mask did not follow the step...
    assert torch.equal(copy.deepcopy(layer).weight, stale)  # ...nor does a deep copy's
    original = layer.parametrizations.weight.original.detach()
    assert torch.equal(MemoizedTopK()(original), current)  # a fresh instance's does
    right, weight = after_one_step(TopKMagnitude())
    assert torch.equal(weight, TopKMagnitude()(right.parametrizations.weight.original.detach()))
    assert max_abs(weight) > 0


# --- state --------------------------------------------------------------------------------------


def test_unsaved_base_is_lost_by_a_state_dict_round_trip() -> None:
    torch.manual_seed(0)
    layer = nn.Linear(4, 4).double()
    torch_parametrize.register_parametrization(layer, "weight", UnsavedBaseOrthogonal())
    W = layer.weight.detach()
    assert max_abs(W.mT @ W - torch.eye(4, dtype=torch.float64)) <= C * 4 * eps(torch.float64)
    Q = rotation(4, seed=2)
    layer.weight = Q  # round trip is exact
    assert max_abs(layer.weight - Q) <= C * 4 * eps(torch.float64)
    assert torch.equal(copy.deepcopy(layer).weight, layer.weight)  # deepcopy carries it
    fresh = nn.Linear(4, 4).double()
    torch_parametrize.register_parametrization(fresh, "weight", UnsavedBaseOrthogonal())
    fresh.load_state_dict(layer.state_dict())
    assert max_abs(fresh.weight - layer.weight) > 0.1  # the checkpoint lost the base


def test_known_bug_constraint_still_holds() -> None:
    """The bugs break their one property, not the constraint their spec claims."""
    X = torch.randn(4, 4, dtype=torch.float64)
    S = Skew()(X) / 4
    eye = torch.eye(4, dtype=torch.float64)
    for bug in (TutorialCayleyMap(4), UpcastCayleyMap(), HostBoundCayleyMap(4)):
        Q = bug(S)
        assert max_abs(Q.mT @ Q - eye) <= C * 4 * eps(torch.float64) * 5
    assert torch.equal(TransposeSymmetric()(X), TransposeSymmetric()(X).mT)
    norms = torch.linalg.vector_norm(DetachedNormSphere()(X), dim=-1)
    assert max_abs(norms - 1) <= 4 * 6 * eps(torch.float64)
    assert bool((NaivePositive()(X * 40) > 0).all())
    assert math.isfinite(float(ElementwiseLogSPD()(X + X.mT).sum()))
