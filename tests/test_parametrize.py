"""Differential tests: ``paramcheck.parametrize`` against ``torch.nn.utils.parametrize``.

Each scenario runs once per implementation from the same random seed, and everything a user
can observe is compared: values (bitwise: the same operations run in the same order),
gradients, parameter and buffer names, ``state_dict`` keys and values, class names, object
identities, exception types and the facts their messages state. Scenarios also assert the
documented behaviour outright, so a bug shared by both implementations fails too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import pytest
import torch
import torch.nn.utils.parametrize as torch_parametrize
from torch import Tensor, nn
from torch.nn.utils.parametrizations import _WeightNorm

import paramcheck.parametrize as paramcheck_parametrize

IMPLEMENTATIONS = (torch_parametrize, paramcheck_parametrize)

# Every test runs twice: with torch.__future__.set_swap_module_params_on_conversion(False),
# where tensors are updated in place by set_ / param.data =, and (True), by swap_tensors.
pytestmark = pytest.mark.usefixtures("swap")


@pytest.fixture(params=IMPLEMENTATIONS, ids=["torch", "paramcheck"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    """Either implementation, for tests that assert the same absolute facts of both."""
    module: ModuleType = request.param
    return module


# ----------------------------------------------------------------------------- comparing


def assert_same(torch_value: Any, paramcheck_value: Any, path: str = "observed") -> None:
    """Recursive equality; tensors must agree in type, dtype, shape, requires_grad and bits."""
    if isinstance(torch_value, Tensor):
        assert isinstance(paramcheck_value, Tensor), path
        assert type(torch_value) is type(paramcheck_value), path
        assert torch_value.dtype == paramcheck_value.dtype, path
        assert torch_value.shape == paramcheck_value.shape, path
        assert torch_value.requires_grad == paramcheck_value.requires_grad, path
        assert torch.equal(torch_value, paramcheck_value), path
    elif isinstance(torch_value, Mapping):
        assert isinstance(paramcheck_value, Mapping), path
        assert list(torch_value) == list(paramcheck_value), path
        for key in torch_value:
            assert_same(torch_value[key], paramcheck_value[key], f"{path}[{key!r}]")
    elif isinstance(torch_value, (list, tuple)):
        assert isinstance(paramcheck_value, (list, tuple)), path
        assert len(torch_value) == len(paramcheck_value), path
        for i, (a, b) in enumerate(zip(torch_value, paramcheck_value, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    else:
        assert torch_value == paramcheck_value, path


def on_both(scenario: Callable[[ModuleType], Any]) -> Any:
    """Run ``scenario(implementation)`` for both from seed 0, assert the same result, return it."""
    results = []
    for implementation in IMPLEMENTATIONS:
        torch.manual_seed(0)
        results.append(scenario(implementation))
    assert_same(*results)
    return results[1]


def snapshot(module: nn.Module) -> dict[str, Any]:
    """What a user sees of a module: class, names, state, and the value of its tensors."""
    return {
        "class": type(module).__name__,
        "parameters": dict(module.named_parameters()),
        "buffers": dict(module.named_buffers()),
        "state_dict": module.state_dict(),
        "repr": repr(module),
    }


# ----------------------------------------------------------------------------- parametrizations


class Symmetric(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        return X.triu() + X.triu(1).transpose(-1, -2)

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.triu()


class Skew(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        A = X.triu(1)
        return A - A.transpose(-1, -2)

    def right_inverse(self, A: Tensor) -> Tensor:
        return A.triu(1)


class MatrixExp(nn.Module):
    """No right_inverse: assignment is impossible, registration stores the tensor as is."""

    def forward(self, X: Tensor) -> Tensor:
        return torch.matrix_exp(X)


class Scale(nn.Module):
    def __init__(self, factor: float = 2.0) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, X: Tensor) -> Tensor:
        return X * self.factor

    def right_inverse(self, X: Tensor) -> Tensor:
        return X / self.factor


class RankOne(nn.Module):
    """The multi-tensor example of torch's docstring."""

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return x.unsqueeze(-1) @ y.unsqueeze(-2)

    def right_inverse(self, Z: Tensor) -> tuple[Tensor, Tensor]:
        U, S, Vh = torch.linalg.svd(Z, full_matrices=False)
        s0_sqrt = S[0].sqrt().unsqueeze(-1)
        return U[..., :, 0] * s0_sqrt, Vh[..., 0, :] * s0_sqrt


class Counting(nn.Module):
    """Identity that counts how often it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, X: Tensor) -> Tensor:
        self.calls += 1
        return X * 1


class Recording(nn.Module):
    """Identity that logs ``(name, grad enabled)`` for each right_inverse call."""

    def __init__(self, name: str, log: list[tuple[str, bool]]) -> None:
        super().__init__()
        self.name, self.log = name, log

    def forward(self, X: Tensor) -> Tensor:
        return X + 0

    def right_inverse(self, X: Tensor) -> Tensor:
        self.log.append((self.name, torch.is_grad_enabled()))
        return X + 0


class WithMask(nn.Module):
    """Has a buffer of its own, which lands in the state_dict under ``...weight.0.mask``."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.register_buffer("mask", torch.bernoulli(torch.full(shape, 0.5)))

    def forward(self, X: Tensor) -> Tensor:
        return X * self.mask

    def right_inverse(self, X: Tensor) -> Tensor:
        return X


class WithBuffer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("table", torch.randn(3, 3))

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.table


# ----------------------------------------------------------------------------- public names


def test_public_names_are_the_same() -> None:
    assert sorted(paramcheck_parametrize.__all__) == sorted(torch_parametrize.__all__)
    for name in torch_parametrize.__all__:
        assert callable(getattr(paramcheck_parametrize, name)), name


# ----------------------------------------------------------------------------- registering


def test_register_on_a_parameter(impl: ModuleType) -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        parameter = layer.weight
        assert P.register_parametrization(layer, "weight", Symmetric()) is layer
        assert layer.parametrizations.weight.original is parameter  # kept its identity
        assert isinstance(layer, nn.Linear)
        return {
            **snapshot(layer),
            "weight": layer.weight,
            "is_parametrized": [P.is_parametrized(layer, n) for n in (None, "weight", "bias")],
            "type_before": P.type_before_parametrizations(layer),
            "list_type": type(layer.parametrizations.weight).__name__,
        }

    seen = on_both(scenario)
    assert seen["class"] == "ParametrizedLinear"
    assert list(seen["parameters"]) == ["bias", "parametrizations.weight.original"]
    assert list(seen["state_dict"]) == ["bias", "parametrizations.weight.original"]
    assert torch.equal(seen["weight"], seen["weight"].T)
    assert torch.equal(
        seen["state_dict"]["parametrizations.weight.original"], seen["weight"].triu()
    )
    assert seen["is_parametrized"] == [True, True, False]
    assert seen["type_before"] is nn.Linear
    assert seen["list_type"] == "ParametrizationList"
    # An unparametrized module answers the same queries plainly.
    assert not impl.is_parametrized(nn.Linear(2, 2))
    assert impl.type_before_parametrizations(nn.Linear(2, 2)) is nn.Linear


def test_a_buffer_stays_a_buffer() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        norm = nn.BatchNorm1d(3)
        norm.running_mean.normal_()
        P.register_parametrization(norm, "running_mean", Scale())
        return {**snapshot(norm), "value": norm.running_mean}

    seen = on_both(scenario)
    assert "parametrizations.running_mean.original" in seen["buffers"]
    assert not any("running_mean" in name for name in seen["parameters"])
    assert "parametrizations.running_mean.original" in seen["state_dict"]


def test_right_inverse_that_is_not_implemented_counts_as_identity() -> None:
    class NotInvertible(nn.Module):
        def forward(self, X: Tensor) -> Tensor:
            return X * 3

        def right_inverse(self, X: Tensor) -> Tensor:
            raise NotImplementedError

    def scenario(P: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(2, 2)
        before = layer.weight.detach().clone()
        P.register_parametrization(layer, "weight", NotInvertible())
        return {"before": before, "original": layer.parametrizations.weight.original}

    seen = on_both(scenario)
    assert torch.equal(seen["before"], seen["original"].detach())


@pytest.mark.parametrize("on_buffer", [False, True], ids=["parameter", "buffer"])
def test_right_inverse_returning_several_tensors(on_buffer: bool) -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        module = nn.Module()
        if on_buffer:
            module.register_buffer("weight", torch.randn(4, 3))
        else:
            module.weight = nn.Parameter(torch.randn(4, 3))
        P.register_parametrization(module, "weight", RankOne())
        x, y = module.parametrizations.weight.original0, module.parametrizations.weight.original1
        return {**snapshot(module), "weight": module.weight, "types": [type(x), type(y)]}

    seen = on_both(scenario)
    names = ["parametrizations.weight.original0", "parametrizations.weight.original1"]
    assert list(seen["buffers" if on_buffer else "parameters"]) == names
    assert list(seen["state_dict"]) == names
    assert torch.linalg.matrix_rank(seen["weight"]).item() == 1
    assert seen["types"] == [torch.Tensor] * 2 if on_buffer else [nn.Parameter] * 2


def test_weight_norm_from_torch_parametrizations() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(4, 3)
        P.register_parametrization(layer, "weight", _WeightNorm(dim=0))
        layer(torch.randn(5, 4)).square().sum().backward()
        grads = {name: p.grad for name, p in layer.named_parameters()}
        return {**snapshot(layer), "weight": layer.weight, "grads": grads}

    seen = on_both(scenario)
    g = seen["parameters"]["parametrizations.weight.original0"]
    v = seen["parameters"]["parametrizations.weight.original1"]
    assert g.shape == (3, 1) and v.shape == (3, 4)
    torch.testing.assert_close(seen["weight"], g * v / v.norm(dim=1, keepdim=True))
    assert all(grad is not None for grad in seen["grads"].values())


def test_stacked_parametrizations_apply_in_registration_order() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        P.register_parametrization(layer, "weight", Skew())
        P.register_parametrization(layer, "weight", MatrixExp())
        original = layer.parametrizations.weight.original
        return {
            **snapshot(layer),
            "weight": layer.weight,
            "expected": torch.matrix_exp(Skew()(original)),
            "length": len(layer.parametrizations.weight),
        }

    seen = on_both(scenario)
    assert seen["length"] == 2
    assert torch.equal(seen["weight"], seen["expected"])
    torch.testing.assert_close(seen["weight"].T @ seen["weight"], torch.eye(3))


def test_gradients_reach_the_original() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        P.register_parametrization(layer, "weight", Symmetric())
        P.register_parametrization(layer, "bias", Scale(3.0))
        layer(torch.randn(4, 3)).pow(2).sum().backward()
        return {name: p.grad for name, p in layer.named_parameters()}

    grads = on_both(scenario)
    assert list(grads) == ["parametrizations.weight.original", "parametrizations.bias.original"]
    # d/dW of f(sym(W)) only reaches the upper triangle.
    assert torch.count_nonzero(grads["parametrizations.weight.original"].tril(-1)) == 0


def test_parametrizations_are_called_through_call_so_hooks_run() -> None:
    def scenario(P: ModuleType) -> int:
        layer = nn.Linear(2, 2)
        calls = []
        parametrization = Scale()
        parametrization.register_forward_hook(lambda *args: calls.append(1))
        P.register_parametrization(layer, "weight", parametrization)
        layer.weight  # noqa: B018
        layer.weight  # noqa: B018
        return len(calls)

    assert on_both(scenario) == 3  # the registration check, then two reads


def test_registration_sets_the_training_mode_and_train_eval_reach_it(impl: ModuleType) -> None:
    layer = nn.Linear(2, 2).eval()
    parametrization = Scale()
    assert parametrization.training
    impl.register_parametrization(layer, "weight", parametrization)
    assert not parametrization.training
    layer.train()
    assert parametrization.training
    layer.eval()
    assert not parametrization.training


def test_unsafe_allows_changing_shape_and_dtype_and_stays_unsafe() -> None:
    class FirstRow(nn.Module):
        def forward(self, X: Tensor) -> Tensor:
            return X[:1].double()

    def scenario(P: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        P.register_parametrization(layer, "weight", FirstRow(), unsafe=True)
        # Checked against the current weight, (1, 3) float64, and it stays unsafe.
        P.register_parametrization(layer, "weight", Scale())
        return {
            "weight": layer.weight,
            "unsafe": layer.parametrizations.weight.unsafe,
            "original": layer.parametrizations.weight.original,
        }

    seen = on_both(scenario)
    assert seen["weight"].shape == (1, 3) and seen["weight"].dtype == torch.float64
    assert seen["unsafe"] is True
    assert torch.equal(seen["weight"], 2 * seen["original"][:1].double())


# ----------------------------------------------------------------------------- assigning


def test_assignment_runs_right_inverses_in_reverse_without_grad(impl: ModuleType) -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        log: list[tuple[str, bool]] = []
        layer = nn.Linear(3, 3)
        P.register_parametrization(layer, "weight", Recording("first", log))
        P.register_parametrization(layer, "weight", Recording("second", log))
        del log[:]  # drop the registration checks
        original = layer.parametrizations.weight.original
        target = torch.randn(3, 3)
        layer.weight = target
        return {
            "log": log,
            "same_object": layer.parametrizations.weight.original is original,
            "weight": layer.weight,
            "target": target,
        }

    seen = on_both(scenario)
    assert seen["log"] == [("second", False), ("first", False)]
    assert seen["same_object"]
    assert torch.equal(seen["weight"], seen["target"])


def test_assignment_keeps_the_optimizer_in_charge(impl: ModuleType) -> None:
    torch.manual_seed(0)
    layer = nn.Linear(3, 3)
    impl.register_parametrization(layer, "weight", Symmetric())
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer.weight = torch.eye(3)
    layer(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    # The optimizer updated the very tensor the assignment wrote into.
    assert not torch.equal(layer.weight, torch.eye(3))
    assert torch.equal(layer.weight, layer.weight.T)


def test_the_parameter_keeps_its_identity_from_registration_to_removal() -> None:
    class Pass(nn.Module):
        """right_inverse returns its argument itself, so the assigned tensor is what is stored."""

        def forward(self, X: Tensor) -> Tensor:
            return X + 0

        def right_inverse(self, X: Tensor) -> Tensor:
            return X

    def scenario(P: ModuleType) -> dict[str, Any]:
        norm = nn.BatchNorm1d(3)  # a parameter, "weight", and a buffer, "running_mean"
        registered = {name: getattr(norm, name) for name in ("weight", "running_mean")}
        seen: dict[str, Any] = {}
        for name in registered:
            P.register_parametrization(norm, name, Pass())
            X = torch.randn(3)
            setattr(norm, name, X)
            # set_ makes the original share X's storage; swap_tensors swaps contents with X
            # (with a Parameter wrapping X for parameters, so X itself keeps its values).
            seen[f"{name} X"] = X.clone()
            X.add_(1.0)
            seen[name] = getattr(norm, name).detach().clone()
        for name, tensor in registered.items():
            P.remove_parametrizations(norm, name)
            seen[f"{name} is the registered object"] = getattr(norm, name) is tensor
            seen[f"{name} final"] = getattr(norm, name)  # the last value read
        return seen

    seen = on_both(scenario)
    for name in ("weight", "running_mean"):
        assert seen[f"{name} is the registered object"]
        assert torch.equal(seen[f"{name} final"], seen[name])


def test_assignment_with_several_originals_updates_each_in_place() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        module = nn.Module()
        module.weight = nn.Parameter(torch.randn(4, 3))
        P.register_parametrization(module, "weight", RankOne())
        stored = module.parametrizations.weight
        before = [stored.original0, stored.original1]
        target = torch.outer(torch.randn(4), torch.randn(3))
        module.weight = target
        same = [a is b for a, b in zip(before, [stored.original0, stored.original1], strict=True)]
        return {"same": same, "w": module.weight, "t": target}

    seen = on_both(scenario)
    assert seen["same"] == [True, True]
    torch.testing.assert_close(seen["w"], seen["t"])


# ----------------------------------------------------------------------------- caching


def test_cached_computes_once_per_outermost_block(impl: ModuleType) -> None:
    layer = nn.Linear(3, 3)
    counter = Counting()
    impl.register_parametrization(layer, "weight", counter)
    counter.calls = 0
    layer.weight  # noqa: B018
    layer.weight  # noqa: B018
    assert counter.calls == 2  # uncached: every read computes

    with impl.cached():
        first = layer.weight
        with impl.cached():
            assert layer.weight is first
        assert layer.weight is first  # the inner exit does not clear the cache
        layer(torch.ones(1, 3))
    assert counter.calls == 3

    with impl.cached():
        again = layer.weight
    assert counter.calls == 4  # emptied on exit: the next block computes afresh
    assert again is not first
    assert layer.weight is not layer.weight


def test_cache_is_emptied_when_the_block_raises(impl: ModuleType) -> None:
    layer = nn.Linear(3, 3)
    counter = Counting()
    impl.register_parametrization(layer, "weight", counter)
    with pytest.raises(KeyError), impl.cached():
        layer.weight  # noqa: B018
        raise KeyError
    with impl.cached():
        layer.weight  # noqa: B018
    assert counter.calls == 1 + 2  # registration check, then once per block


def test_cached_gives_the_same_values_and_gradients() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        rnn_cell = nn.Linear(3, 3)
        P.register_parametrization(rnn_cell, "weight", Skew())
        P.register_parametrization(rnn_cell, "weight", MatrixExp())
        out = torch.randn(2, 3)
        with P.cached():
            for _ in range(4):
                out = torch.tanh(rnn_cell(out))
        out.sum().backward()
        return {"out": out, "grads": {n: p.grad for n, p in rnn_cell.named_parameters()}}

    seen = on_both(scenario)
    assert seen["grads"]["parametrizations.weight.original"].abs().sum() > 0


def test_a_deep_copy_reads_its_own_value_inside_cached() -> None:
    """Deliberate divergence: torch keys its cache by the module the property was made for,
    which a deep copy shares, so inside ``cached()`` a copy can read its source's value."""
    layer = paramcheck_parametrize.register_parametrization(nn.Linear(2, 2), "weight", Scale())
    replica = copy.deepcopy(layer)
    with torch.no_grad():
        replica.parametrizations.weight.original.fill_(1.0)
    with paramcheck_parametrize.cached():
        assert torch.equal(layer.weight, 2 * layer.parametrizations.weight.original)
        assert torch.equal(replica.weight, torch.full((2, 2), 2.0))


# ----------------------------------------------------------------------------- removing


def test_remove_leaving_the_parametrized_value() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        parameter = layer.weight
        P.register_parametrization(layer, "weight", Skew())
        value = layer.weight.detach().clone()
        assert P.remove_parametrizations(layer, "weight") is layer
        return {
            **snapshot(layer),
            "value": value,
            "same_object": layer.weight is parameter,
            "type": type(layer),
            "has_parametrizations": hasattr(layer, "parametrizations"),
        }

    seen = on_both(scenario)
    assert seen["class"] == "Linear" and seen["type"] is nn.Linear
    assert not seen["has_parametrizations"]
    assert list(seen["state_dict"]) == ["bias", "weight"]  # re-registered, so now last
    assert seen["same_object"]
    assert torch.equal(seen["parameters"]["weight"], seen["value"])


def test_remove_going_back_to_the_original() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        P.register_parametrization(layer, "weight", Scale())
        original = layer.parametrizations.weight.original
        P.remove_parametrizations(layer, "weight", leave_parametrized=False)
        return {**snapshot(layer), "same_object": layer.weight is original}

    seen = on_both(scenario)
    assert seen["same_object"] and seen["class"] == "Linear"


def test_removing_one_of_two_keeps_the_module_parametrized() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        P.register_parametrization(layer, "weight", Skew())
        P.register_parametrization(layer, "bias", Scale())
        P.remove_parametrizations(layer, "weight")
        return {
            **snapshot(layer),
            "flags": [P.is_parametrized(layer, n) for n in ("weight", "bias")],
        }

    seen = on_both(scenario)
    assert seen["class"] == "ParametrizedLinear"
    assert seen["flags"] == [False, True]
    assert list(seen["state_dict"]) == ["weight", "parametrizations.bias.original"]


@pytest.mark.parametrize("on_buffer", [False, True], ids=["parameter", "buffer"])
def test_remove_several_originals_leaving_the_value(on_buffer: bool) -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        module = nn.Module()
        if on_buffer:
            module.register_buffer("weight", torch.randn(4, 3))
        else:
            module.weight = nn.Parameter(torch.randn(4, 3))
        P.register_parametrization(module, "weight", RankOne())
        value = module.weight.detach().clone()
        P.remove_parametrizations(module, "weight")
        return {**snapshot(module), "value": value}

    seen = on_both(scenario)
    assert list(seen["buffers" if on_buffer else "parameters"]) == ["weight"]
    assert torch.equal(seen["state_dict"]["weight"], seen["value"])


# ----------------------------------------------------------------------------- copying, state


def test_deepcopy_gives_an_independent_copy() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        layer = nn.Linear(3, 3)
        P.register_parametrization(layer, "weight", Symmetric())
        replica = copy.deepcopy(layer)
        assert_same(snapshot(layer), snapshot(replica))
        with torch.no_grad():
            replica.parametrizations.weight.original.zero_()
        return {
            "source": snapshot(layer),
            "shares_class": type(replica) is type(layer),
            "copy_weight": replica.weight,
        }

    seen = on_both(scenario)
    assert seen["shares_class"]
    assert torch.count_nonzero(seen["source"]["state_dict"]["parametrizations.weight.original"])
    assert torch.equal(seen["copy_weight"], torch.zeros(3, 3))


def build(P: ModuleType) -> nn.Module:
    """A model with one tensor of each kind: single, stacked, several originals, a buffer."""
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 4), nn.BatchNorm1d(4))
    P.register_parametrization(model[0], "weight", Symmetric())
    P.register_parametrization(model[0], "weight", WithMask((3, 3)))
    P.register_parametrization(model[1], "weight", RankOne())
    P.register_parametrization(model[2], "running_var", Scale())
    return model


@pytest.mark.parametrize(
    ("save_with", "load_with"),
    [(torch_parametrize, paramcheck_parametrize), (paramcheck_parametrize, torch_parametrize)],
    ids=["torch-to-paramcheck", "paramcheck-to-torch"],
)
def test_state_dict_loads_across_implementations(
    save_with: ModuleType, load_with: ModuleType
) -> None:
    torch.manual_seed(0)
    saved = build(save_with)
    state = saved.state_dict()
    torch.manual_seed(1)  # a different starting point, overwritten by the load
    loaded = build(load_with)
    assert list(loaded.state_dict()) == list(state)
    assert "0.parametrizations.weight.1.mask" in state
    assert "1.parametrizations.weight.original1" in state
    loaded.load_state_dict(state)
    assert_same(saved.state_dict(), loaded.state_dict())
    for index in (0, 1):
        assert torch.equal(saved[index].weight, loaded[index].weight)


# ----------------------------------------------------------------------------- transferring


def test_transfer_every_parametrization(impl: ModuleType) -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        source = nn.Linear(3, 3)
        P.register_parametrization(source, "weight", Symmetric())
        P.register_parametrization(source, "bias", Scale())
        target = nn.Linear(3, 3)
        assert P.transfer_parametrizations_and_params(source, target) is target
        return {
            **snapshot(target),
            "weight": (target.weight, source.weight),
            "shares_original": target.parametrizations.weight.original
            is source.parametrizations.weight.original,
            "shares_module": target.parametrizations.bias[0] is source.parametrizations.bias[0],
        }

    seen = on_both(scenario)
    assert seen["class"] == "ParametrizedLinear"
    assert torch.equal(*seen["weight"])
    assert seen["shares_original"] and seen["shares_module"]


def test_transfer_one_tensor_creates_it_when_missing() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        source = nn.Linear(3, 3)
        P.register_parametrization(source, "weight", Symmetric())
        P.register_parametrization(source, "bias", Scale())
        target = nn.Module()
        P.transfer_parametrizations_and_params(source, target, "weight")
        return {**snapshot(target), "weight": target.weight, "source": source.weight}

    seen = on_both(scenario)
    assert list(seen["state_dict"]) == ["parametrizations.weight.original"]
    assert torch.equal(seen["weight"], seen["source"])


def test_transfer_several_originals_and_from_an_unparametrized_module() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        source = nn.Linear(3, 4)
        P.register_parametrization(source, "weight", RankOne())
        target = P.transfer_parametrizations_and_params(source, nn.Linear(3, 4))
        untouched = P.transfer_parametrizations_and_params(nn.Linear(3, 4), nn.Linear(3, 4))
        return {**snapshot(target), "untouched": snapshot(untouched)}

    seen = on_both(scenario)
    assert "parametrizations.weight.original1" in seen["state_dict"]
    assert seen["untouched"]["class"] == "Linear"


# ----------------------------------------------------------------------------- conversions
# Module._apply (.to, .half, .double...) and load_state_dict write the stored tensors either
# through param.data = / copy_ (swap flag off) or through torch.utils.swap_tensors (on).

PARAMETRIZED = (("0", "weight"), ("1", "weight"), ("2", "running_var"))
"""The tensors :func:`build` parametrizes, as (submodule, name)."""

CONVERSIONS: dict[str, Callable[[nn.Module], object]] = {
    ".double()": lambda model: model.double(),
    ".half()": lambda model: model.half(),
    ".to(torch.bfloat16)": lambda model: model.to(torch.bfloat16),
    ".to(dtype=torch.float64).float()": lambda model: model.to(dtype=torch.float64).float(),
}


def stored_tensors(model: nn.Module) -> list[Tensor]:
    """The stored tensors of every parametrized tensor of ``model``, in a fixed order."""
    return [tensor for sub, name in PARAMETRIZED
            for tensor in getattr(model, sub).parametrizations[name].parameters(recurse=False)]


def parametrized_values(model: nn.Module) -> dict[str, Tensor]:
    return {f"{sub}.{name}": getattr(getattr(model, sub), name) for sub, name in PARAMETRIZED}


@pytest.mark.parametrize("leave_parametrized", [True, False], ids=["leave", "restore"])
@pytest.mark.parametrize("convert", list(CONVERSIONS))
def test_conversions_then_removal(convert: str, leave_parametrized: bool) -> None:
    """A converted model, and the same model after removing every parametrization."""

    def scenario(P: ModuleType) -> dict[str, Any]:
        model = build(P)
        stored = stored_tensors(model)
        for parameter in model.parameters():  # gradients are converted too
            parameter.grad = torch.ones_like(parameter)
        CONVERSIONS[convert](model)
        seen = {
            "converted": snapshot(model),
            "values": parametrized_values(model),
            "grads": [parameter.grad for parameter in model.parameters()],
            "stored objects kept": [a is b for a, b in zip(stored, stored_tensors(model),
                                                            strict=True)],
        }
        for sub, name in PARAMETRIZED:
            single = getattr(model, sub).parametrizations[name].is_tensor
            P.remove_parametrizations(getattr(model, sub), name,
                                      leave_parametrized=leave_parametrized or not single)
        seen["removed"] = snapshot(model)
        return seen

    seen = on_both(scenario)
    assert all(seen["stored objects kept"])  # in both swap modes
    dtype = {".double()": torch.float64, ".half()": torch.float16,
             ".to(torch.bfloat16)": torch.bfloat16}.get(convert, torch.float32)
    assert {value.dtype for value in seen["values"].values()} == {dtype}
    assert {tensor.dtype for tensor in seen["removed"]["state_dict"].values()
            if tensor.is_floating_point()} == {dtype}


def test_load_state_dict_with_assign(swap: bool) -> None:
    """``assign=True`` takes the loaded tensors' dtype. Swap flag off: the stored tensors are
    replaced by new Parameters (an optimizer holding the old ones no longer updates the
    model); on: swapped in place, the objects kept. Removing afterwards works either way."""

    def scenario(P: ModuleType) -> dict[str, Any]:
        model = build(P)
        stored = stored_tensors(model)
        loaded = {key: value.double() for key, value in build(P).state_dict().items()}
        result = model.load_state_dict(loaded, assign=True)
        seen = {
            "result": (result.missing_keys, result.unexpected_keys),
            "loaded": snapshot(model),
            "values": parametrized_values(model),
            "stored objects kept": [a is b for a, b in zip(stored, stored_tensors(model),
                                                            strict=True)],
        }
        for sub, name in PARAMETRIZED:
            P.remove_parametrizations(getattr(model, sub), name)
        seen["removed"] = snapshot(model)
        return seen

    seen = on_both(scenario)
    assert seen["result"] == ([], [])
    assert all(value.dtype == torch.float64 for value in seen["values"].values())
    assert set(seen["stored objects kept"]) == {swap}


def test_a_live_view_of_a_stored_tensor_blocks_only_the_swap(swap: bool) -> None:
    """``swap_tensors`` refuses a tensor that a view shares: ``.double()`` raises with the
    swap flag on and converts (leaving the view on the old storage) with it off."""

    def scenario(P: ModuleType) -> dict[str, Any]:
        layer = P.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
        view = layer.parametrizations.weight.original.view(9)
        try:
            layer.double()
        except RuntimeError as error:
            return {"raised": str(error), "view": view}
        return {"raised": None, "view": view, **snapshot(layer)}

    seen = on_both(scenario)
    assert (seen["raised"] is not None) == swap
    assert seen["view"].dtype == torch.float32


# ----------------------------------------------------------------------------- errors
# Every error, with its full message, is compared in tests/test_parametrize_errors.py.


def test_parametrization_list_built_directly() -> None:
    def scenario(P: ModuleType) -> dict[str, Any]:
        buffer = torch.randn(3, 3)
        parametrizations = P.ParametrizationList([Symmetric(), WithBuffer()], buffer)
        return {
            "state": parametrizations.state_dict(),
            "value": parametrizations(),
            "flags": (parametrizations.is_tensor, parametrizations.ntensors),
            "same_object": parametrizations.original is buffer,
        }

    seen = on_both(scenario)
    assert seen["flags"] == (True, 1) and seen["same_object"]
    assert list(seen["state"]) == ["original", "1.table"]
