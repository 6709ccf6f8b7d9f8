"""asv: a parametrized model through ``torch.export``, and pytorch/pytorch#167645.

``torch.export`` traces the parametrization into the exported graph of aten ops, so
``cached()`` at run time changes nothing: an RNN that reads its kernel at every step
evaluates the transform at every step. Exporting inside a ``cached()`` block traces one
evaluation instead. Model: ``_workloads.RecurrentModel`` (8 steps, 64 x 64 orthogonal
weight, Cayley map); its twin "plain" has an ordinary weight. One asv process per
benchmark (``processes = 1``): an export takes seconds to tens of seconds on 2 cores.
"""

from __future__ import annotations

from ._grid import IMPLS, STEP_FAMILY


class ExportedRun:
    """Seconds per forward of the exported program; ``export`` outside or inside ``cached()``."""

    processes = 1  # see the module docstring
    params = ([STEP_FAMILY, "plain"], ["outside", "inside"], list(IMPLS))
    param_names = ("family", "export", "impl")
    timeout = 300

    def setup(self, family: str, export: str, impl: str) -> None:
        if family == "plain" and (impl != "paramcheck" or export != "outside"):
            raise NotImplementedError("the plain twin is measured once")
        from ._workloads import Exported

        self.exported = Exported(family, export, impl)

    def time_exported_forward(self, family: str, export: str, impl: str) -> None:
        self.exported()


class Issue167645:
    """pytorch/pytorch#167645: the exported model against the eager model in ``cached()``.

    ``track_exported_over_eager_cached``: forward of the program exported as usual (outside
    ``cached()``) over the eager forward inside ``cached()``, timed alternately in this
    process (above 1: export lost what caching saves; the issue reports 25x).
    ``track_export_seconds``: wall time of ``torch.export.export`` itself.
    """

    processes = 1  # see the module docstring
    params = (list(IMPLS),)
    param_names = ("impl",)
    timeout = 300

    def setup(self, impl: str) -> None:
        from ._workloads import Exported

        self.exported = Exported(STEP_FAMILY, "outside", impl)

    def track_exported_over_eager_cached(self, impl: str) -> float:
        from ._workloads import cost_ratio

        return cost_ratio(self.exported, self.exported.eager("cached"))

    track_exported_over_eager_cached.unit = "ratio"  # type: ignore[attr-defined]

    def track_export_seconds(self, impl: str) -> float:
        return round(self.exported.seconds, 3)

    track_export_seconds.unit = "seconds"  # type: ignore[attr-defined]
