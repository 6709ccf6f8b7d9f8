"""Every property over every shipped transform, ready chain and torch built-in.

One test function per property of :mod:`paramcheck.properties`, parametrized by
``_catalog.items``: each (transform, implementation, dtype, shape, device) is its own
test id, e.g. ``test_cache[orthogonal_exp-paramcheck-float32-2x4x4-cpu]``. Hypothesis
draws the originals from the domain the transform's spec names, and a seed for torch's
global generator (some of torch's parametrizations draw from it), so every failure is
replayable and independent of test order.
"""

from __future__ import annotations

from typing import Any

import _catalog as catalog
import pytest
from hypothesis import given
from hypothesis import strategies as st

from paramcheck import properties


def _seed(data: Any) -> int:
    seed: int = data.draw(catalog.SEEDS, label="torch seed")
    return seed


@pytest.mark.parametrize(("item", "device"), catalog.items("constraint"))
@catalog.budget("constraint")
@given(data=st.data())
def test_constraint(item: catalog.Item, device: str, data: Any) -> None:
    """forward(X) satisfies the constraint the spec names (or the case's own check)."""
    with catalog.seeded(_seed(data)):
        parametrization = item.build()
        X = data.draw(item.inputs(device), label="X")
        properties.constraint(parametrization, X, item.check(parametrization))


@pytest.mark.parametrize(("item", "device"), catalog.items("round_trip"))
@catalog.budget("round_trip")
@given(data=st.data())
def test_round_trip(item: catalog.Item, device: str, data: Any) -> None:
    """forward(right_inverse(A)) = A on the image A = forward(X)."""
    with catalog.seeded(_seed(data)):
        parametrization = item.build()
        X = data.draw(item.inputs(device), label="X")
        properties.round_trip(parametrization, X)


@pytest.mark.parametrize(("item", "device"), catalog.items("cache"))
@catalog.budget("cache")
@given(data=st.data())
def test_cache(item: catalog.Item, device: str, data: Any) -> None:
    """Reads inside cached() match uncached ones, one forward per block, fresh after it."""
    with catalog.seeded(_seed(data)):
        parametrization = item.build()
        X = data.draw(item.inputs(device), label="X")
        X2 = data.draw(item.inputs(device), label="X2")
        properties.cache(parametrization, X, X2, implementation=item.implementation)


@pytest.mark.parametrize(("item", "device"), catalog.items("gradient"))
@catalog.budget("gradient")
@given(data=st.data())
def test_gradient(item: catalog.Item, device: str, data: Any) -> None:
    """Gradients reach the originals, are finite, and match finite differences."""
    with catalog.seeded(_seed(data)):
        parametrization = item.build()
        X = data.draw(item.inputs(device), label="X")
        properties.gradient(parametrization, X, domain=item.spec.inputs)


@pytest.mark.parametrize(("item", "device"), catalog.items("batch"))
@catalog.budget("batch")
@given(data=st.data())
def test_batch(item: catalog.Item, device: str, data: Any) -> None:
    """forward of a stack equals the stack of forwards (a leading batch of BATCH inputs)."""
    with catalog.seeded(_seed(data)):
        parametrization = item.build()
        X = data.draw(item.inputs(device, batch=catalog.BATCH), label="X")
        properties.batch(parametrization, X)


@pytest.mark.parametrize(("item", "device"), catalog.items("dtype"))
@catalog.budget("dtype")
@given(data=st.data())
def test_dtype(item: catalog.Item, device: str, data: Any) -> None:
    """forward and right_inverse keep the input's dtype."""
    with catalog.seeded(_seed(data)):
        parametrization = item.build()
        X = data.draw(item.inputs(device), label="X")
        properties.dtype(parametrization, X)


@pytest.mark.parametrize(("item", "device"), catalog.items("device"))
@catalog.budget("device")
@given(data=st.data())
def test_device(item: catalog.Item, device: str, data: Any) -> None:
    """forward and right_inverse stay on the input's device (and on meta, from the CPU)."""
    with catalog.seeded(_seed(data)):
        parametrization = item.build()
        X = data.draw(item.inputs(device), label="X")
        properties.device(parametrization, X)


@pytest.mark.parametrize(("item", "device"), catalog.items("state"))
@catalog.budget("state")
@given(data=st.data())
def test_state(item: catalog.Item, device: str, data: Any) -> None:
    """A state_dict round trip into a fresh twin, and copy.deepcopy, keep the weight."""
    with catalog.seeded(_seed(data)):
        parametrization = item.build()
        X = data.draw(item.inputs(device), label="X")
        X2 = data.draw(item.inputs(device), label="X2")
        properties.state(parametrization, X, X2, implementation=item.implementation)


@pytest.mark.parametrize(("item", "device"), catalog.items("differential"))
@catalog.budget("differential")
@given(data=st.data())
def test_differential(item: catalog.Item, device: str, data: Any) -> None:
    """paramcheck.parametrize and torch.nn.utils.parametrize agree on this chain."""
    with catalog.seeded(_seed(data)):
        parametrization = item.build()
        X = data.draw(item.inputs(device), label="X")
        properties.differential(parametrization, X, reference="paramcheck", baseline="torch")
