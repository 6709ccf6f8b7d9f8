"""Shared fixtures for the package's own tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
import torch

from paramcheck._profiles import load_profile

load_profile()

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@contextmanager
def _swap_mode(on: bool) -> Iterator[None]:
    """``torch.__future__.set_swap_module_params_on_conversion(on)`` inside the block, the
    previous flag restored after (xdist workers are processes: no test sees another's flag)."""
    before = torch.__future__.get_swap_module_params_on_conversion()
    torch.__future__.set_swap_module_params_on_conversion(on)
    try:
        yield
    finally:
        torch.__future__.set_swap_module_params_on_conversion(before)


@pytest.fixture(params=[False, True], ids=["set_", "swap_tensors"])
def swap(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Run a test under both of torch's ways of updating a module's tensors in place:
    ``Tensor.set_`` / ``param.data =`` and ``torch.utils.swap_tensors`` (PyTorch runs its own
    parametrization tests both ways). Use it with ``pytestmark = usefixtures("swap")``."""
    with _swap_mode(request.param):
        yield request.param


@pytest.fixture
def swap_mode() -> Callable[[bool], AbstractContextManager[None]]:
    """``with swap_mode(True): ...``: a block under another swap flag than the test's."""
    return _swap_mode
