"""The network every context runs: a parametrized layer inside a container, as users have it.

A context (compile, export, torch.func, autocast, meta, conversion, training, resume)
acts on a whole ``nn.Module``, not on a parametrization alone. :class:`Net` is the
smallest realistic one: ``net.layer`` holds the weight, registered through a parametrize
implementation (``torch.nn.utils.parametrize`` or ``paramcheck.parametrize``), and
``net(x) = net.layer.weight @ x``, so the output and its gradients go through the
parametrization as a linear layer's do. Every context builds it with :func:`build`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

import torch
from torch import Tensor, nn

from paramcheck import _numerics as num
from paramcheck import _target as tg

#: Columns of the probe input: ``net(x)`` is the weight applied to this many vectors.
PROBE_COLUMNS = 3


class Net(nn.Module):
    """``forward(x) = layer.weight @ x`` with the parametrization registered on ``layer``."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: Tensor) -> Tensor:
        return weight(self) @ x


def target_of(parametrization: object) -> tg.Target:
    """``parametrization`` as a :class:`paramcheck._target.Target` (itself if it is one)."""
    if isinstance(parametrization, tg.Target):
        return parametrization
    return tg.Target(parametrization)


def weight(net: nn.Module) -> Tensor:
    """``net.layer.weight``, typed (a parametrized read runs the parametrization).

    Plain attribute access, not ``getattr(net.layer, "weight", None)``: under
    torch.compile (dynamo, torch 2.13, any backend) the getattr with a default gives
    another value than eager when the read has side effects (spectral norm's power
    iteration: 0.8% apart, while ``net.layer.weight`` matches eager bit for bit).
    """
    layer = net.layer
    assert isinstance(layer, nn.Module)
    value = layer.weight
    if not isinstance(value, Tensor):
        raise AssertionError(f"net.layer.weight is a {type(value).__name__}, not a tensor")
    return value


def build(target: tg.Target, X: Tensor, impl: ModuleType) -> Net:
    """A fresh :class:`Net` whose weight is ``forward(X)`` (the original set to ``X``).

    Registered with ``unsafe=True``, as the cache and state properties do: registration's
    own consistency checks are judged by the core properties, not by each context.
    """
    return Net(tg.host(target.fresh(X), X, impl, unsafe=True, set_original=True))


def probe(X: Tensor) -> Tensor:
    """A fixed input ``x`` for ``net(x)``: ``PROBE_COLUMNS`` irregular columns."""
    like = torch.empty(X.shape[-1], PROBE_COLUMNS, dtype=X.dtype, device=X.device)
    return tg.gradient_pattern(like)


def loss(out: Tensor) -> Tensor:
    """``Σ G·out`` with the fixed irregular pattern ``G`` (see ``_target.gradient_pattern``)."""
    return (out * tg.gradient_pattern(out.detach())).sum()


def originals(net: nn.Module) -> list[tuple[str, Tensor]]:
    """The trainable tensors of ``net`` by name (the originals, and any other parameter)."""
    return [(name, p) for name, p in net.named_parameters() if p.requires_grad]


def grads(net: nn.Module) -> list[Tensor | None]:
    return [p.grad for _, p in originals(net)]


def forward_backward(net: nn.Module, x: Tensor) -> tuple[Tensor, list[Tensor | None]]:
    """``net(x)`` and the gradients of :func:`loss` with respect to the originals."""
    net.zero_grad(set_to_none=True)
    out = net(x)
    torch.autograd.backward(loss(out))
    return out.detach(), [None if g is None else g.detach().clone() for g in grads(net)]


def compare(what: str, reference: str, got: Sequence[Tensor | None],
            expected: Sequence[Tensor | None], names: Sequence[str], n: int, e: float,
            slack: float) -> None:
    """Every tensor of ``got`` equals its twin in ``expected`` up to ``slack·n·eps·scale``."""
    for name, g, x in zip(names, got, expected, strict=True):
        if (g is None) != (x is None):
            raise AssertionError(f"{name} gets a gradient {'only' if x is None else 'not'} "
                                 f"{what}")
        if g is not None and x is not None:
            num.assert_close(f"{what}: {name}", f"{reference}: {name}", g, x, n, e, slack=slack)


def state_of(net: nn.Module) -> dict[str, Tensor]:
    """A detached copy of ``net.state_dict()``."""
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """torch's CPU generator set to ``seed`` inside, restored after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
