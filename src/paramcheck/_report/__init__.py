"""What the ``paramcheck`` command writes: the verification table and the benchmark report.

The benchmark report's public face is :mod:`paramcheck.report`. One idea per module:

- ``_verification``: ``paramcheck verify``'s reports -> a table as text, markdown or JSON;

- ``_asv``: asv's results folder -> measurement rows;
- ``_pytest_benchmark``: pytest-benchmark JSON files -> measurement rows;
- ``_frame``: measurement rows -> the tidy DataFrame (one row per measured number);
- ``_tables``: the tidy frame -> cached speedups, paramcheck/torch cost ratios, history;
- ``_markdown``: frames -> markdown pipe tables with fixed number formatting;
- ``_plots``: frames -> reproducible PNG plots (matplotlib, Agg);
- ``_atomic``: build a folder beside its destination, then swap it in whole.
"""
