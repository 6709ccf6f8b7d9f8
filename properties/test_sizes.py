"""Every shipped transform and chain at the sizes users train: no false alarm at 256×256,
and the tutorial's bug found there with a counterexample a person can read.

``paramcheck.verify`` at real shapes, as a user calls it: every default property of every
entry of :func:`paramcheck.transforms.catalog` at 256×256 (and, for those that take any
shape, a convolution kernel 64×32×3×3), float32 in the ci profile with
:data:`EXAMPLES` examples per search; the thorough profile adds float64 and 1024×1024.
The tutorial's ``CayleyMap`` bug is found at each size and its counterexample is the
simplest description: zeros or a multiple of the identity with at most two entries set.
"""

from __future__ import annotations

from typing import Any

import _cases as cases
import pytest
import torch

import paramcheck
from paramcheck import strategies
from paramcheck._profiles import profile_name
from paramcheck.errors import UsageError
from paramcheck.known_bugs import TutorialCayleyMap
from paramcheck.transforms import Skew, catalog

THOROUGH = profile_name() == "thorough"
#: Examples per search: at 256×256 one example of a solve or a matrix exponential costs
#: milliseconds, the hosted laws (cache, state, differential) a few registrations: two
#: examples per property keep the whole file near a minute on one core (measured), and
#: the 4×4 suite (properties/test_transforms.py) does the broad search.
EXAMPLES = 10 if THOROUGH else 2
SIZES = (256, 1024) if THOROUGH else (256,)
DTYPES = (torch.float32, torch.float64) if THOROUGH else (torch.float32,)
#: A convolution's weight: (out_channels, in_channels, kernel, kernel).
CONV = (64, 32, 3, 3)


def _verify(build: Any, shape: tuple[int, ...], **options: Any) -> paramcheck.Report:
    with cases.seeded(0):  # torch's spectral norm draws u, v when built
        return paramcheck.verify(lambda: build(shape), shape=shape, dtypes=DTYPES,
                                 max_examples=EXAMPLES, seed=0, **options)


def _entries() -> list[Any]:
    found = []
    for entry in catalog():
        for n in SIZES:
            found.append(pytest.param(entry, (n, n), id=f"{cases.id_of(entry.name)}-{n}x{n}"))
        found.append(pytest.param(entry, CONV, id=f"{cases.id_of(entry.name)}-conv"))
    return found


@pytest.mark.parametrize(("entry", "shape"), _entries())
def test_shipped_transform_is_clean_at_real_size(entry: Any, shape: tuple[int, ...]) -> None:
    try:
        report = _verify(entry.build, shape)
    except UsageError as exc:  # a transform for square matrices, asked for a conv kernel
        assert shape == CONV and "square" in str(exc), str(exc)
        return
    assert report.ok, str(report)
    assert not [r for r in report.results if r.could_not_test], str(report)


@pytest.mark.parametrize("n", (64, *SIZES))
def test_the_tutorial_bug_is_found_with_a_readable_counterexample(n: int) -> None:
    report = _verify(lambda shape: [Skew(), TutorialCayleyMap(n)], (n, n),
                     properties=["round_trip"])
    failed = report.failures
    assert failed and not report.ok, str(report)
    X = failed[0].descriptions["X"]
    assert isinstance(X, strategies.Entrywise), str(report)
    assert isinstance(X.base, strategies.Zeros | strategies.Identity), str(X)
    assert len(X.entries) <= 2, str(X)
    assert f"counterexample X (shape ({n}, {n}), float32): {X}" in str(report)
