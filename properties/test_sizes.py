"""The tutorial's bug at the sizes users train, found with a counterexample a person can read.

``paramcheck.verify`` on the seed tutorial's ``CayleyMap`` chain at 64×64 and 256×256
(the thorough profile adds 1024×1024), float32, five examples: the round trip fails, and
the counterexample is the simplest description, zeros or a multiple of the identity with
at most two entries set ("256×256 square: zeros, with 1.0 at [0, 1]"), printed as such.
Measured on 2 shared cores: 1.4 s at 64 and at 256, 40 s at 1024.
"""

from __future__ import annotations

import pytest
import torch

import paramcheck
from paramcheck import strategies
from paramcheck._profiles import profile_name
from paramcheck.known_bugs import TutorialCayleyMap
from paramcheck.transforms import Skew

SIZES = (64, 256, 1024) if profile_name() == "thorough" else (64, 256)


@pytest.mark.parametrize("n", SIZES)
def test_the_tutorial_bug_is_found_with_a_readable_counterexample(n: int) -> None:
    report = paramcheck.verify(lambda: [Skew(), TutorialCayleyMap(n)], shape=(n, n),
                               dtypes=(torch.float32,), max_examples=5, seed=0,
                               properties=["round_trip"])
    failed = report.failures
    assert failed and not report.ok, str(report)
    X = failed[0].descriptions["X"]
    assert isinstance(X, strategies.Entrywise), str(report)
    assert isinstance(X.base, strategies.Zeros | strategies.Identity), str(X)
    assert len(X.entries) <= 2, str(X)
    assert f"counterexample X (shape ({n}, {n}), float32): {X}" in str(report)
