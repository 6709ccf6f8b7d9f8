"""asv ``track_`` benchmarks: dimensionless cost ratios, each measured in one process.

Both costs of a ratio are timed in alternation in the same interpreter, in CPU time on CPU
(``_workloads.cost_ratio``, ``_workloads.clock``), so the ratio depends neither on the
machine's speed nor on its load, and stays comparable across machines and over time.
Every ratio here is "lower is better", as asv assumes. CI runs this module (and
``memory.SavedBytes``) under ``asv continuous``: see ``ci_continuous.sh``.
"""

from __future__ import annotations

from ._grid import DEVICES, FAMILIES, IMPLS, MODES, require_device

# Reads per timed call in the per-read ratios: enough to make the loop and call overhead
# negligible next to a read (about 0.5 µs for a plain parameter on a 2-core x86 machine).
_READS = 64


class ReadOverheadRatio:
    """Per-read cost of an identity-parametrized weight over a plain parameter read.

    ``track_cached_over_plain``: a cache hit inside an open ``cached()`` block (target:
    at most 1.5). ``track_uncached_over_plain``: a read that runs the mechanism.
    """

    params = (list(IMPLS),)
    param_names = ("impl",)
    unit = "ratio"

    def setup(self, impl: str) -> None:
        from ._workloads import WeightReads

        self.plain = WeightReads("plain", reads=_READS).open()
        self.cached = WeightReads("cached", impl, reads=_READS)
        self.uncached = WeightReads("uncached", impl, reads=_READS).open()

    def track_cached_over_plain(self, impl: str) -> float:
        from ._workloads import cost_ratio

        with self.cached:
            return cost_ratio(self.cached, self.plain)

    def track_uncached_over_plain(self, impl: str) -> float:
        from ._workloads import cost_ratio

        return cost_ratio(self.uncached, self.plain)


class ImplementationRatio:
    """paramcheck's cost over torch's for 16 reads of an 8 x 8 weight.

    At n = 8 the transform is cheap and the mechanism shows (target: at most 1).
    """

    params = (["identity", *FAMILIES], list(MODES), list(DEVICES))
    param_names = ("family", "mode", "device")
    unit = "ratio"
    timeout = 120

    def setup(self, family: str, mode: str, device: str) -> None:
        require_device(device)
        from ._workloads import Reads

        self.ours = Reads(family, 8, 16, mode, "paramcheck", device)
        self.theirs = Reads(family, 8, 16, mode, "torch", device)

    def track_paramcheck_over_torch(self, family: str, mode: str, device: str) -> float:
        from ._workloads import clock, cost_ratio

        return cost_ratio(self.ours, self.theirs, clock(device))


class CachedRatio:
    """Cost of 16 reads inside ``cached()`` over 16 uncached reads, n = 256.

    The inverse is the speedup caching buys an RNN that reads its kernel at 16 steps;
    about 1/16 when the transform dominates the read.
    """

    params = (["identity", *FAMILIES], list(DEVICES))
    param_names = ("family", "device")
    unit = "ratio"
    timeout = 120

    def setup(self, family: str, device: str) -> None:
        require_device(device)
        from ._workloads import Reads

        self.cached = Reads(family, 256, 16, "cached", "paramcheck", device)
        self.uncached = Reads(family, 256, 16, "uncached", "paramcheck", device)

    def track_cached_over_uncached(self, family: str, device: str) -> float:
        from ._workloads import clock, cost_ratio

        return cost_ratio(self.cached, self.uncached, clock(device))
