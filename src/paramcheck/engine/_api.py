"""``paramcheck.verify`` and ``paramcheck.check``: every property, searched by Hypothesis.

For each property of the registry (:func:`paramcheck.properties.registry`) and each
dtype, verify runs one Hypothesis search over the input domain (see
:mod:`paramcheck.engine._search`) and records its verdict in a :class:`Report`.

>>> import paramcheck
>>> from paramcheck.transforms import Skew, CayleyMap
>>> report = paramcheck.verify([Skew(), CayleyMap(4)], constraint="orthogonal")
>>> report.ok
True
"""

from __future__ import annotations

import math
import time
from typing import Any

from paramcheck.engine._options import Options
from paramcheck.engine._plan import make_plan
from paramcheck.engine._property import BATCH_SIZE
from paramcheck.engine._results import Report
from paramcheck.engine._search import private_storage, small_work
from paramcheck.engine._sizes import searched
from paramcheck.errors import VerificationFailed

__all__ = ["check", "verify"]


def verify(parametrization: object, options: Options | None = None, /,
           **changes: Any) -> Report:
    """Search for counterexamples to every property of ``parametrization``.

    Args:
        parametrization: an ``nn.Module``, a sequence of modules (a chain, applied in
            order as stacked registrations would be), or a zero-argument callable
            returning either (called afresh for each example).
        options: an :class:`Options`; keyword arguments change its fields:

            - ``constraint``: a name from :mod:`paramcheck.constraints`, a callable taking
              the output tensor and returning a bool (or a bool tensor), or None: the
              transform's ``Spec`` decides (the last module's, or a ``Chain``'s own).
            - ``shape``: the shape of the original tensor (``(4, 4)`` or ``"4x4"``);
              leading dimensions are a batch. Default: the shape the transform was built
              for (its Spec's), else ``(4, 4)``.
            - ``dtypes``: the floating dtypes to check (default float32 and float64);
              each gets its own searches.
            - ``device``: where inputs and modules live (``"cpu"``, ``"cuda"``).
            - ``max_examples``: examples per search; by default the profile's (see
              ``PARAMCHECK_PROFILE``), shared out between properties (``Property.share``).
            - ``seed``: seed of every search, for a reproducible run.
            - ``inputs``: a Hypothesis strategy for the original tensor, to restrict the
              domain; a domain's name (``"nonzero"``, ``"spd"``...:
              ``paramcheck.strategies.DOMAIN_NAMES``); or ``"image"``: points of the
              constraint set (or the parametrization's own ``sample()``) pulled back
              through ``right_inverse``, as ``layer.weight = Q`` does. By default the
              first module's ``Spec.inputs`` domain, else bounded matrices; image
              points when no Spec says and the first parametrization takes several
              originals (they are computed from a weight in its image).
            - ``implementation``: the parametrize module hosting the chain for the
              hosted properties: ``"torch"`` (default), ``"paramcheck"`` or a module.
            - ``settings``: Hypothesis settings to use instead of the profile's.
            - ``properties``: run only these (properties, their names, or group names).
            - ``strict``: count a failure traced to a known torch defect (an *upstream*
              verdict, :mod:`paramcheck.upstream`) against ``Report.ok``; by default
              it is shown but does not fail the report.
            - ``contexts``: also run the execution contexts (compile, export,
              torch.func, autocast, meta, conversion, train, resume: the opt-in group
              ``"contexts"``, :mod:`paramcheck.contexts`) after the others. They build
              networks, compile and train: seconds per property, so off by default.
            - ``time_limit``: seconds each search (one property at one dtype) may take;
              a search that reaches it before anything failed is *could not test*
              (the tool's limit, not a failure); one that found a failure reports it
              with the smallest counterexample reached. An allocation that fails (out
              of memory) is *could not test* too. Default: no limit.

    Returns:
        A :class:`Report`. A parametrization that raises, returns a wrong shape, NaN or
        not a tensor gives failing results; verify itself raises only
        :class:`~paramcheck.errors.UsageError`, for arguments it cannot use.
    """
    start = time.perf_counter()
    plan = make_plan(parametrization, Options.build(options, **changes))
    results = []
    with small_work(math.prod(plan.shape) * BATCH_SIZE), private_storage(plan.settings):
        for prop in plan.properties:
            for dtype in plan.dtypes:
                results.append(searched(plan, prop, dtype))
    constraint = plan.subject.constraint
    return Report(
        parametrization=plan.subject.name,
        results=tuple(results),
        constraint=constraint[0] if constraint is not None else None,
        inputs=plan.describe_inputs(),
        shape=plan.shape,
        device=str(plan.device),
        profile=plan.profile,
        seed=plan.seed,
        seconds=time.perf_counter() - start,
        strict=plan.strict,
    )


def check(parametrization: object, options: Options | None = None, /,
          **changes: Any) -> Report:
    """:func:`verify`, raising :class:`~paramcheck.errors.VerificationFailed` (an
    ``AssertionError`` carrying the report) when anything fails. For pytest::

        def test_my_parametrization():
            paramcheck.check([Skew(), MyCayley(4)], constraint="orthogonal")
    """
    report = verify(parametrization, options, **changes)
    if not report.ok:
        raise VerificationFailed(report)
    return report
