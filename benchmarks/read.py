"""asv: the cost of reading a parametrized weight k times, uncached and inside ``cached()``.

Uncached, every read recomputes the transform, so the cost grows with k; cached, the
first read computes it and the next ones return it. Implementation: ``paramcheck.
parametrize`` (``ratios.ImplementationRatio`` compares it with torch's, read for read).
"""

from __future__ import annotations

from ._grid import DEVICES, FAMILIES, MODES, READS, SIZES, require_device


class ReadCost:
    """Seconds to read the weight of an ``n x n`` linear layer k times."""

    params = (list(FAMILIES), list(SIZES), list(READS), list(MODES), list(DEVICES))
    param_names = ("family", "n", "k", "mode", "device")
    timeout = 120

    def setup(self, family: str, n: int, k: int, mode: str, device: str) -> None:
        require_device(device)
        from ._workloads import Reads  # torch: imported only once the device is known

        self.reads = Reads(family, n, k, mode, "paramcheck", device)

    def time_read(self, family: str, n: int, k: int, mode: str, device: str) -> None:
        self.reads()
