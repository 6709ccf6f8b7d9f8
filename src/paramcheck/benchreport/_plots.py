"""Reproducible PNG plots of the report's tables (matplotlib, Agg, no pyplot).

Figures are drawn under matplotlib's default style, whatever the user's matplotlibrc
says, and saved without the ``Software`` PNG metadata (which names the matplotlib
version): the same tables on the same machine give the same bytes.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib.style
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: A panel of bars: heading, the key columns labelling each bar, the ratios.
Bars = tuple[str, pd.DataFrame, pd.Series]

_DPI = 100
_ROW_INCHES = 0.22  # height of one bar, so that every label stays readable


def ratio_bars(path: Path, sections: Sequence[Bars], title: str, xlabel: str) -> None:
    """One horizontal bar per ratio, a panel per section, a dashed line at 1 (par).

    Each section is ``(heading, keys, ratios)``: bar ``i`` has length ``ratios[i]`` and
    is labelled by row ``i`` of the ``keys`` frame.
    """
    rows = sum(len(keys) for _, keys, _ in sections)
    height = 1.2 + len(sections) * 0.8 + rows * _ROW_INCHES
    with _style():
        fig = Figure(figsize=(9, height), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(sections), 1, squeeze=False,
                            height_ratios=[max(len(k), 1) for _, k, _ in sections])[:, 0]
        for ax, (heading, keys, ratios) in zip(axes, sections, strict=True):
            labels = [_label(keys.columns, row) for row in keys.itertuples(index=False)]
            positions = list(range(len(keys)))
            # Ratios are multiplicative: bars grow from 1 on a log axis, so 2× and 0.5×
            # are bars of the same length on either side of par.
            values = ratios.astype(float).to_numpy()
            ax.barh(positions, values - 1.0, left=1.0, color="tab:blue")
            ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
            ax.set_xscale("log")
            ax.set_yticks(positions, labels, fontsize=7)
            ax.invert_yaxis()
            ax.set_title(_wrap(heading), fontsize=8)
            ax.set_xlabel(f"{xlabel} (log scale)")
        fig.suptitle(title)
        _save(fig, path)


def history_lines(path: Path, sections: Sequence[tuple[str, pd.DataFrame, list[str]]]) -> None:
    """One line per benchmark across commits (x), relative to the first commit (y, log).

    Each section is ``(heading, summary, commit labels)`` with ``summary`` benchmark x
    commit, as ``History.summary``.
    """
    with _style():
        fig = Figure(figsize=(9, 1.5 + 3.5 * len(sections)), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(sections), 1, squeeze=False)[:, 0]
        for ax, (heading, summary, labels) in zip(axes, sections, strict=True):
            positions = list(range(len(labels)))
            for benchmark, row in summary.iterrows():
                ax.plot(positions, row.astype(float).to_numpy(), marker="o", label=str(benchmark))
            ax.axhline(1.0, color="black", linestyle="--", linewidth=1)
            ax.set_yscale("log")
            ax.set_xticks(positions, labels, rotation=45, ha="right", fontsize=7)
            ax.set_ylabel("relative to the first commit")
            ax.set_title(_wrap(heading), fontsize=8)
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.suptitle("Benchmark history: geometric mean per benchmark (below 1: faster or smaller)")
        _save(fig, path)


def short_name(benchmark: str) -> str:
    """A benchmark's own name: ``time_reads`` for asv's ``bench.TimeReads.time_reads``
    or pytest-benchmark's ``benchmarks/test_x.py::test_reads``."""
    return benchmark.rsplit("::", 1)[-1].rsplit(".", 1)[-1]


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=70)


@contextmanager
def _style() -> Iterator[None]:
    """matplotlib's default style, whatever the user's matplotlibrc says."""
    with matplotlib.style.context("default"):
        yield


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, format="png", dpi=_DPI, metadata={"Software": None})


def _label(columns: pd.Index, row: tuple[object, ...]) -> str:
    """``time_reads skew n=64 k=8 cpu``: the benchmark's own name, text as is, numbers named."""
    parts = []
    for column, value in zip(columns, row, strict=True):
        if value is None or value is pd.NA or value != value:
            continue
        if column == "benchmark":
            parts.append(short_name(str(value)))
        elif isinstance(value, str):
            parts.append(value)
        else:
            parts.append(f"{column}={value}")
    return " ".join(parts)
