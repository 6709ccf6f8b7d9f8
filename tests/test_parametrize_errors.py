"""Every error of ``paramcheck.parametrize`` is torch's: the same type, the same full message.

Users match these messages (``pytest.raises(match=...)``, ``assertRaisesRegex``), so a drop-in
must raise what ``torch.nn.utils.parametrize`` raises, word for word and with the same values
(rule 16 of :mod:`paramcheck.parametrize`). :data:`CASES` is a table of calls that fail, one or
more for each ``raise`` statement of ``parametrize.py``; each runs under both implementations
and both of torch's ways of writing tensors in place (``set_`` and ``swap_tensors``), and the
messages are compared whole. Where paramcheck adds to a misleading torch message, the case
states the addition, and paramcheck's message must be torch's followed by exactly that.

:func:`test_every_raise_statement_has_a_case` parses ``parametrize.py`` (``ast``) and finds,
from each case's traceback, the ``raise`` it reached: a new ``raise`` without a case fails it.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import pytest
import torch
import torch.nn.utils.parametrize as torch_parametrize
from torch import Tensor, nn
from torch._library.opaque_object import register_opaque_type
from torch._opaque_base import OpaqueBase

import paramcheck.parametrize as paramcheck_parametrize

IMPLEMENTATIONS = {"torch": torch_parametrize, "paramcheck": paramcheck_parametrize}


pytestmark = pytest.mark.usefixtures("swap")  # tests/conftest.py: set_ and swap_tensors


# ----------------------------------------------------------------------------- parametrizations


class Scale(nn.Module):
    def forward(self, X: Tensor) -> Tensor:
        return 2 * X

    def right_inverse(self, X: Tensor) -> Tensor:
        return X / 2


class Forward(nn.Module):
    """``forward = fn``, no right_inverse."""

    def __init__(self, fn: Callable[[Tensor], object]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *X: Tensor) -> object:
        return self.fn(X[0])


class Inverse(nn.Module):
    """Identity forward on the first stored tensor, ``right_inverse = fn``."""

    def __init__(self, fn: Callable[[Tensor], object]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *X: Tensor) -> Tensor:
        return X[0]

    def right_inverse(self, X: Tensor) -> object:
        return self.fn(X)


class Switching(Inverse):
    """A right_inverse that behaves at registration (one tensor or two) and then ``fn``."""

    def __init__(self, fn: Callable[[Tensor], object], several: bool = False) -> None:
        super().__init__(fn)
        self.several, self.registered = several, False

    def right_inverse(self, X: Tensor) -> object:
        if self.registered:
            return self.fn(X)
        self.registered = True
        return (X, X) if self.several else X


class RankOne(nn.Module):
    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return x.unsqueeze(-1) @ y.unsqueeze(-2)

    def right_inverse(self, Z: Tensor) -> tuple[Tensor, Tensor]:
        return Z[:, 0].clone(), Z[0].clone()


class ValueOpaque:
    """A value-type opaque object: torch refuses it as a stored object."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueOpaque)

    def __hash__(self) -> int:
        return 0

    def __fx_repr__(self) -> tuple[str, dict[str, type]]:
        return "ValueOpaque()", {"ValueOpaque": ValueOpaque}


register_opaque_type(ValueOpaque, typ="value")


class ReferenceOpaque(OpaqueBase):
    """A reference-type opaque object: torch stores it as ``originalI`` (rule 3)."""


register_opaque_type(ReferenceOpaque, typ="reference")


def linear(P: ModuleType, *parametrizations: nn.Module, unsafe: bool = False) -> nn.Module:
    layer = nn.Linear(3, 3)
    for parametrization in parametrizations:
        P.register_parametrization(layer, "weight", parametrization, unsafe=unsafe)
    return layer


def assign(P: ModuleType, parametrization: nn.Module, value: Tensor | None = None) -> None:
    layer = linear(P, parametrization, unsafe=True)
    layer.weight = torch.eye(3) if value is None else value


def set_original_to_none(P: ModuleType) -> None:
    layer = linear(P, Scale())
    layer.parametrizations.weight.original = None
    P.remove_parametrizations(layer, "weight")


def unsafe_dtype_change_then_remove(P: ModuleType, on_buffer: bool) -> None:
    module = nn.BatchNorm1d(3)
    name = "running_mean" if on_buffer else "weight"
    P.register_parametrization(module, name, Forward(lambda X: X.double()), unsafe=True)
    P.remove_parametrizations(module, name)


def with_a_live_view(P: ModuleType, action: str) -> None:
    """``action`` on a layer while a view of its stored (or to-be-stored) weight is alive:
    ``swap_tensors`` refuses such a tensor, ``set_`` does not mind."""
    layer = nn.Linear(3, 3)
    if action != "register":
        P.register_parametrization(layer, "weight", Scale())
    stored = layer.parametrizations.weight.original if action != "register" else layer.weight
    view = stored.view(-1)
    if action == "register":
        P.register_parametrization(layer, "weight", Scale())
    elif action == "assign":
        layer.weight = torch.eye(3)
    elif action == "remove":
        P.remove_parametrizations(layer, "weight")
    else:
        layer.double()
    del view


def trace_while_caching(P: ModuleType) -> None:
    layer = linear(P, Scale())
    with P.cached():
        torch.jit.trace(layer, torch.randn(1, 3))


def transfer(P: ModuleType, name: str) -> None:
    source = linear(P, Scale())
    P.transfer_parametrizations_and_params(source, nn.Linear(3, 3), name)


# ----------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    """A call that fails under both implementations.

    ``appended``: what paramcheck's message adds after torch's (rule 16). ``swap``: the swap
    modes in which it fails; in the others both implementations must succeed alike.
    """

    name: str
    call: Callable[[ModuleType], object]
    raises: type[BaseException]
    appended: str = ""
    swap: tuple[bool, ...] = (False, True)

    def __repr__(self) -> str:
        return self.name


SET_FAILED = "\nWhat failed: Could not set tensor of type double to a tensor of type float"
SWAP_FAILED = (
    "\nWhat failed: Expected use_count of t1 to be 1 or 2 with an AccumulateGrad node but got "
    "3 make sure you are not holding references to the tensor in other places."
)

CASES = [
    # ParametrizationList: built directly
    Case("list without modules", lambda P: P.ParametrizationList([], torch.zeros(2)), ValueError),
    # First registration: what the right_inverses return (even unsafe=True needs it usable)
    Case("first right_inverse returns neither tensor nor sequence",
         lambda P: linear(P, Inverse(lambda X: 3), unsafe=True), ValueError),
    Case("first right_inverse changes the dtype",
         lambda P: linear(P, Inverse(lambda X: X.double()), unsafe=True), ValueError),
    Case("first right_inverse changes the device",
         lambda P: linear(P, Inverse(lambda X: X.to("meta")), unsafe=True), ValueError),
    Case("first right_inverse returns a value-type opaque",
         lambda P: linear(P, Inverse(lambda X: (X, ValueOpaque())), unsafe=True), ValueError),
    Case("first right_inverse returns a sequence with a string",
         lambda P: linear(P, Inverse(lambda X: (X, "x")), unsafe=True), ValueError),
    Case("first right_inverse returns a string", lambda P: linear(P, Inverse(lambda X: "ab")),
         ValueError),
    # First registration, safe: what forward returns
    Case("first forward returns an int", lambda P: linear(P, Forward(lambda X: 1)), ValueError),
    Case("first forward changes the dtype", lambda P: linear(P, Forward(lambda X: X.double())),
         ValueError),
    Case("first forward changes the shape", lambda P: linear(P, Forward(lambda X: X[:1])),
         ValueError),
    # Stacked registration, safe
    Case("stacked forward returns an int",
         lambda P: linear(P, Scale(), Forward(lambda X: 1)), ValueError),
    Case("stacked forward changes the dtype",
         lambda P: linear(P, Scale(), Forward(lambda X: X.double())), ValueError),
    Case("stacked forward changes the shape",
         lambda P: linear(P, Scale(), Forward(lambda X: X[:1])), ValueError),
    Case("stacked right_inverse returns a tuple",
         lambda P: linear(P, Scale(), Inverse(lambda X: (X, X))), ValueError),
    Case("stacked right_inverse changes the dtype",
         lambda P: linear(P, Scale(), Inverse(lambda X: X.double())), ValueError),
    Case("stacked right_inverse changes the shape",
         lambda P: linear(P, Scale(), Inverse(lambda X: X[:1])), ValueError),
    Case("name is neither parameter nor buffer",
         lambda P: P.register_parametrization(nn.Linear(2, 2), "wieght", Scale()), ValueError),
    # Assignment: module.weight = X
    Case("assigning through a parametrization without right_inverse",
         lambda P: assign(P, Forward(lambda X: X)), RuntimeError),
    Case("assigning: one tensor registered, a tuple returned",
         lambda P: assign(P, Switching(lambda X: (X, X))), ValueError),
    Case("assigning: one tensor registered, another dtype returned",
         lambda P: assign(P, Switching(lambda X: X.double())), ValueError),
    Case("assigning: a pair registered, a tensor returned",
         lambda P: assign(P, Switching(lambda X: X, several=True)), ValueError),
    Case("assigning: a pair registered, three returned",
         lambda P: assign(P, Switching(lambda X: (X, X, X), several=True)), ValueError),
    Case("assigning: a pair registered, an int element returned",
         lambda P: assign(P, Switching(lambda X: (X, 1), several=True)), ValueError),
    Case("assigning: a pair registered, a value-type opaque element returned",
         lambda P: assign(P, Switching(lambda X: (X, ValueOpaque()), several=True)), ValueError),
    Case("assigning: a pair registered, an element of another dtype returned",
         lambda P: assign(P, Switching(lambda X: (X, X.double()), several=True)), ValueError),
    # Removing
    Case("removing from a module that is not parametrized",
         lambda P: P.remove_parametrizations(nn.Linear(2, 2), "weight"), ValueError),
    Case("removing a tensor that is not parametrized",
         lambda P: P.remove_parametrizations(linear(P, Scale()), "bias"), ValueError),
    Case("removing after the original was set to None", set_original_to_none, AssertionError),
    Case("removing, leaving a parameter at a value of another dtype",
         lambda P: unsafe_dtype_change_then_remove(P, on_buffer=False), RuntimeError,
         appended=SET_FAILED, swap=(False,)),
    Case("removing, leaving a buffer at a value of another dtype",
         lambda P: unsafe_dtype_change_then_remove(P, on_buffer=True), RuntimeError,
         swap=(False,)),
    Case("removing, leaving the value, while a view of the stored tensor is alive",
         lambda P: with_a_live_view(P, "remove"), RuntimeError, appended=SWAP_FAILED,
         swap=(True,)),
    Case("registering while a view of the weight is alive",
         lambda P: with_a_live_view(P, "register"), RuntimeError, swap=(True,)),
    Case("assigning while a view of the stored tensor is alive",
         lambda P: with_a_live_view(P, "assign"), RuntimeError, swap=(True,)),
    Case(".double() while a view of the stored tensor is alive",
         lambda P: with_a_live_view(P, "convert"), RuntimeError, swap=(True,)),
    Case("leaving unparametrized a tensor stored as two",
         lambda P: P.remove_parametrizations(
             P.register_parametrization(nn.Linear(3, 3), "weight", RankOne()), "weight",
             leave_parametrized=False), ValueError),
    # Copying, caching, transferring
    Case("pickling", lambda P: pickle.dumps(linear(P, Scale())), RuntimeError),
    Case("torch.save of the module", lambda P: torch.save(linear(P, Scale()), io.BytesIO()),
         RuntimeError),
    Case("tracing while caching", trace_while_caching, RuntimeError),
    Case("transferring a name the source lacks", lambda P: transfer(P, "missing"),
         AttributeError),
    Case("transferring a name the source does not parametrize", lambda P: transfer(P, "bias"),
         KeyError),
]


def run(case: Case, P: ModuleType) -> BaseException | None:
    """``case.call(P)`` from seed 0; the exception it raised, or None."""
    torch.manual_seed(0)
    try:
        case.call(P)
    except Exception as error:
        return error
    return None


@pytest.mark.filterwarnings("ignore:`torch.jit.trace")
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_error_is_torchs(case: Case, swap: bool) -> None:
    errors = {side: run(case, P) for side, P in IMPLEMENTATIONS.items()}
    if swap not in case.swap:
        assert errors == {"torch": None, "paramcheck": None}, errors
        return
    theirs, ours = errors["torch"], errors["paramcheck"]
    assert type(theirs) is case.raises, f"torch raised {theirs!r}, not {case.raises.__name__}"
    assert type(ours) is case.raises, f"paramcheck raised {ours!r}, not {case.raises.__name__}"
    assert str(ours) == str(theirs) + case.appended


# ----------------------------------------------------------------------------- coverage


def test_a_reference_type_opaque_is_stored_as_torch_stores_it() -> None:
    """Rule 3: torch keeps a reference-type opaque object as ``originalI``, at registration and
    on assignment; so does paramcheck (the cases above only check the value-type refusal)."""
    seen = {}
    for side, P in IMPLEMENTATIONS.items():
        torch.manual_seed(0)
        handles = [ReferenceOpaque(), ReferenceOpaque()]
        layer = nn.Linear(3, 3)
        P.register_parametrization(layer, "weight", Inverse(lambda X, h=handles: (X, h[0])))
        stored = layer.parametrizations.weight
        at_registration = stored.original1 is handles[0]
        handles.reverse()
        layer.weight = torch.ones(3, 3)
        seen[side] = (at_registration, stored.original1 is handles[0], sorted(layer.state_dict()),
                      torch.equal(layer.weight, torch.ones(3, 3)), stored.ntensors)
    assert seen["paramcheck"] == seen["torch"]
    assert seen["torch"][:2] == (True, True), "torch no longer stores opaque objects as is"
