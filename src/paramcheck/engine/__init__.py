"""The verification engine: properties as a type, the plan of a run, the search, results.

- :mod:`._property`: :class:`Property` (one law: what it draws, when it applies, its
  share of the examples, how to replay it), :class:`Draws` and :class:`Subject`.
- :mod:`._options`: :class:`Options`, every argument of ``verify`` in one frozen object.
- :mod:`._plan`: options and a parametrization checked against each other, made into a
  :class:`Plan`: which properties, dtypes, inputs and Hypothesis settings.
- :mod:`._search`: one Hypothesis search of one property at one dtype, and its verdict.
- :mod:`._results`: :class:`Verdict`, :class:`Result`, :class:`Report` and their text.
- :mod:`._api`: ``verify`` and ``check``.

The built-in properties are defined in :mod:`paramcheck.properties`, which holds the
registry. This package's ``__init__`` imports nothing, so that the laws can import the
:class:`Property` type without pulling in the search.
"""
