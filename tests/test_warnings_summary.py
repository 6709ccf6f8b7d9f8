"""Warnings from the checked code: collected, then one line per distinct warning."""

from __future__ import annotations

import warnings

from paramcheck import _warnings


def _noisy(k: int) -> None:
    for _ in range(k):
        warnings.warn("the user's module warns", UserWarning, stacklevel=1)
    warnings.warn("deprecated thing\nsecond line", DeprecationWarning, stacklevel=1)


def test_warnings_are_collected_and_summarised_once_each() -> None:
    with _warnings.collected() as caught:
        _noisy(5)
    lines = _warnings.summary(caught)
    assert lines[0] == "6 warnings from the checked code (2 distinct, each shown once):"
    assert lines[1].startswith("  5x UserWarning at test_warnings_summary.py:")
    assert lines[1].endswith(": the user's module warns")
    assert lines[2].startswith("  1x DeprecationWarning at test_warnings_summary.py:")
    assert lines[2].endswith(": deprecated thing")
    assert len(lines) == 3


def test_no_warnings_no_summary() -> None:
    with _warnings.collected() as caught:
        pass
    assert _warnings.summary(caught) == []
