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
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

_DPI = 100
_ROW_INCHES = 0.22  # height of one bar, so that every label stays readable


#: One panel of grouped bars: heading, table (row labels x series), x label.
Panel = tuple[str, pd.DataFrame, str]
#: One panel of a dot plot: heading, a label per row, then value, low, high per row.
Dots = tuple[str, list[str], pd.Series, pd.Series, pd.Series]


def speedup_vs_k(path: Path, panels: Sequence[tuple[str, pd.DataFrame]], title: str) -> None:
    """Speedup against the number of reads ``k``: a panel per size, a line per family.

    Each panel is ``(heading, rows)`` with columns ``line`` (its label), ``k``, ``speedup``,
    ``low``, ``high``; the bars span ``low``-``high`` where the run took several samples. The
    dashed line ``y = k`` is the ideal: k reads for the price of one.
    """
    with _style():
        fig = Figure(figsize=(4.2 * len(panels) + 1.8, 4.6), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
        for ax, (heading, rows) in zip(axes, panels, strict=True):
            ks = sorted(int(k) for k in rows["k"].unique())
            ax.plot(ks, ks, color="black", linestyle="--", linewidth=1, label="ideal: y = k")
            ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
            for name, line in rows.groupby("line", sort=True):
                line = line.sort_values("k")
                y = line["speedup"].astype(float).to_numpy()
                low = (y - line["low"].astype(float).to_numpy()).clip(min=0)
                high = (line["high"].astype(float).to_numpy() - y).clip(min=0)
                errors = None if line["low"].isna().all() else [low, high]
                ax.errorbar(line["k"].astype(int).to_numpy(), y, yerr=errors, marker="o",
                            markersize=4, capsize=3, linewidth=1.2, label=str(name))
            ax.set_xscale("log", base=2)
            ax.set_yscale("log", base=2)
            _plain_ticks(ax.yaxis)
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.set_xlabel("reads per cached() block, k")
            ax.set_title(_wrap(heading), fontsize=9)
        axes[0].set_ylabel("speedup: uncached time / cached time")
        axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.suptitle(title)
        _save(fig, path)


def dots(path: Path, sections: Sequence[Dots], title: str, xlabel: str) -> None:
    """A dot per ratio with its spread as a horizontal bar, a panel per section, par at 1.

    Log axis: 2x and 0.5x lie at the same distance on either side of par.
    """
    rows = sum(len(labels) for _, labels, *_ in sections)
    height = 1.2 + len(sections) * 0.8 + rows * _ROW_INCHES
    with _style():
        fig = Figure(figsize=(9, height), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(sections), 1, squeeze=False,
                            height_ratios=[max(len(s[1]), 1) for s in sections])[:, 0]
        for ax, (heading, labels, values, low, high) in zip(axes, sections, strict=True):
            positions = list(range(len(labels)))
            y = values.astype(float).to_numpy()
            lo = (y - low.astype(float).to_numpy()).clip(min=0)
            hi = (high.astype(float).to_numpy() - y).clip(min=0)
            ax.errorbar(y, positions, xerr=[lo, hi], fmt="o", color="tab:blue",
                        markersize=4, capsize=2, linewidth=1)
            ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
            ax.set_xscale("log")
            _plain_ticks(ax.xaxis)
            ax.set_yticks(positions, labels, fontsize=7)
            ax.set_ylim(len(labels) - 0.5, -0.5)
            ax.grid(axis="x", which="both", color="0.9", linewidth=0.5)
            ax.set_title(_wrap(heading), fontsize=8)
            ax.set_xlabel(f"{xlabel} (log scale)")
        fig.suptitle(title)
        _save(fig, path)


def grouped_bars(path: Path, panels: Sequence[Panel], title: str, log: bool = False) -> None:
    """Horizontal bars, a panel per table: rows are labels, columns are the bars' series.

    Each panel is ``(heading, table, xlabel)``, ``table`` indexed by the row labels with
    one numeric column per series (a missing value draws no bar).
    """
    rows = sum(len(table) for _, table, _ in panels)
    height = 1.2 + len(panels) * 1.0 + rows * 0.3
    with _style():
        fig = Figure(figsize=(9, height), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(panels), 1, squeeze=False,
                            height_ratios=[max(len(t), 1) for _, t, _ in panels])[:, 0]
        for ax, (heading, table, xlabel) in zip(axes, panels, strict=True):
            width = 0.8 / max(len(table.columns), 1)
            for i, column in enumerate(table.columns):
                positions = [r - 0.4 + width * (i + 0.5) for r in range(len(table))]
                values = table[column].astype(float).fillna(1.0 if log else 0.0).to_numpy()
                ax.barh(positions, values, height=width, label=str(column))
                for x, y, v in zip(values, positions, table[column], strict=True):
                    if v == v:  # not NaN: print the value at the bar's end
                        ax.text(x, y, f" {v:g}", va="center", fontsize=6)
            ax.set_yticks(range(len(table)), [str(i) for i in table.index], fontsize=7)
            ax.set_ylim(len(table) - 0.5, -0.5)
            if log:
                ax.set_xscale("log")
                _plain_ticks(ax.xaxis)
                ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
            elif not (table.fillna(0) != 0).to_numpy().any():
                ax.set_xlim(0, 1)  # all zero (no graph break): a count axis, not +-0.04
            ax.set_xlabel(f"{xlabel} (log scale)" if log else xlabel)
            ax.set_title(_wrap(heading), fontsize=8)
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
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
            _plain_ticks(ax.yaxis)
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


def _plain_ticks(axis: Axis) -> None:
    """Tick labels of a log axis as plain numbers (``0.9``, ``16``), not powers."""
    def minor(value: float, _: object) -> str:
        # Label the minor ticks too where the axis spans less than a decade (else the
        # major ticks, powers of ten, are enough and minor labels would collide).
        low, high = sorted(axis.get_view_interval())
        return f"{value:.2g}" if low > 0 and high / low < 10 else ""

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(FuncFormatter(minor))


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=70)


@contextmanager
def _style() -> Iterator[None]:
    """matplotlib's default style, whatever the user's matplotlibrc says."""
    with matplotlib.style.context("default"):
        yield


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, format="png", dpi=_DPI, metadata={"Software": None})


def label(columns: pd.Index, row: tuple[object, ...]) -> str:
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
