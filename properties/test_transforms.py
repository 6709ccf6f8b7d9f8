"""Every property of the registry over every shipped transform, ready chain and torch built-in.

One test, parametrized by ``_cases.items``: each (property, transform, implementation,
dtype, shape, device) is its own test id, e.g.
``test_law[cache-orthogonal_exp-paramcheck-float32-2x4x4-cpu]`` (the implementation
appears for the hosted properties only). The property says what it draws and how many
examples it gets; Hypothesis draws them from the domain the transform's spec names, and
a seed for torch's global generator, so every failure is replayable and independent of
test order. A property registered with ``paramcheck.register_property`` before
collection is run here like a built-in.
"""

from __future__ import annotations

import _cases as cases
import pytest


@pytest.mark.parametrize(("item", "device"), cases.items())
def test_law(item: cases.Item, device: str) -> None:
    """The law of ``item.prop`` holds on drawn inputs."""
    cases.run(item, device)
