"""Warnings raised by the checked code, collected during a run and summarised once.

verify runs a parametrization hundreds of times; a warning from it (torch's deprecation
of ``x.T`` on batches, a ``UserWarning`` from the user's own module) would otherwise be
printed in the middle of the command's table, or once per example. The command line
collects them while it verifies (:func:`collected`) and prints one line per distinct
warning, with how often it came, after the table (:func:`summary`).
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collected", "summary"]


@contextmanager
def collected() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning raised inside the block instead of printing it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def summary(caught: list[warnings.WarningMessage]) -> list[str]:
    """One line per distinct warning (category, place, first line of the message), most
    frequent first; empty when there were none."""
    counts = Counter(
        (w.category.__name__, f"{os.path.basename(w.filename)}:{w.lineno}",
         str(w.message).strip().splitlines()[0] if str(w.message).strip() else "")
        for w in caught)
    if not counts:
        return []
    total = sum(counts.values())
    lines = [f"{total} warning{'s' if total != 1 else ''} from the checked code "
             f"({len(counts)} distinct, each shown once):"]
    for (category, where, message), count in counts.most_common():
        lines.append(f"  {count}x {category} at {where}: {message}")
    return lines
