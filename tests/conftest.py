"""Shared fixtures for the package's own tests."""

from __future__ import annotations

import pytest
import torch

from paramcheck._profiles import load_profile

load_profile()

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
