"""``parametrize.cached()`` under ``torch.compile``: a cached read stays in the graph (rule 10).

The getter refuses a cached read while ``torch.jit.trace`` records (a trace would freeze the
cached tensor into the model). paramcheck asked ``torch._C._is_tracing()``, which dynamo
cannot put in a graph (a torch function returning a bool): every cached read under
``torch.compile`` broke the graph, and the resumed frame guarded on the cache's keys, one per
module instance, so a compiled step that met a few instances hit dynamo's recompile limit.
torch's getter asks ``torch._C._get_tracing_state()``, which dynamo folds to ``None``.
Both implementations are run: the same compiled code must compile in one graph under each.
Dynamo's ``eager`` backend traces without compiling (about a second per case).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
import torch
import torch.nn.utils.parametrize as torch_parametrize
from torch import nn

from paramcheck import parametrize as paramcheck_parametrize

IMPLEMENTATIONS = {"paramcheck": paramcheck_parametrize, "torch": torch_parametrize}


class _Symmetric(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.triu() + x.triu(1).mT


def _model(implementation: ModuleType) -> nn.Linear:
    layer = nn.Linear(4, 4)
    implementation.register_parametrization(layer, "weight", _Symmetric())
    return layer


@pytest.fixture(autouse=True)
def _fresh_dynamo() -> Iterator[None]:
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.parametrize("name", sorted(IMPLEMENTATIONS))
def test_a_cached_forward_compiles_in_one_graph(name: str) -> None:
    implementation = IMPLEMENTATIONS[name]

    def step(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
        with implementation.cached():
            return layer(x) + layer(x)  # the second read is a cache hit

    layer, x = _model(implementation), torch.randn(2, 4)
    # fullgraph=True: a graph break raises instead of falling back to Python.
    compiled = torch.compile(step, backend="eager", fullgraph=True)
    torch.testing.assert_close(compiled(layer, x), step(layer, x))


@pytest.mark.filterwarnings(r"ignore:`torch\.jit\.trace(_method)?` is deprecated")
@pytest.mark.parametrize("name", sorted(IMPLEMENTATIONS))
def test_jit_trace_inside_cached_is_refused(name: str) -> None:
    implementation = IMPLEMENTATIONS[name]
    layer = _model(implementation)
    with implementation.cached(), pytest.raises(RuntimeError, match="Cannot trace"):
        torch.jit.trace(layer, torch.randn(2, 4))
