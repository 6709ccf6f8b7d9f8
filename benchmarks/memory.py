"""asv: the memory caching saves, for a 16-step recurrent cell (64 x 64 weight, batch 8).

Uncached, each step's read records the transform in the autograd graph again, and its
intermediate tensors stay alive until backward; cached, they are recorded once.

- ``track_saved_bytes``: bytes of the tensors autograd saves for backward (parameters and
  input excluded), counted through ``torch.autograd.graph.saved_tensors_hooks``. Exact and
  deterministic, on any device; measured on CPU.
- ``track_peak_bytes``: peak CUDA memory of one forward and backward
  (``torch.cuda.max_memory_allocated``); skipped without a GPU.
"""

from __future__ import annotations

from ._grid import FAMILIES, MODES, require_device

_FAMILIES = ["identity", *FAMILIES]


class SavedBytes:
    """Exact, so CI compares it too: more bytes saved for backward is a regression."""

    params = (_FAMILIES, list(MODES))
    param_names = ("family", "mode")
    unit = "bytes"

    def setup(self, family: str, mode: str) -> None:
        from ._workloads import Recurrent

        self.model = Recurrent(family, 64, mode, steps=16)

    def track_saved_bytes(self, family: str, mode: str) -> int:
        return self.model.saved_bytes()


class PeakMemory:
    """Peak CUDA bytes of one forward and backward; skipped without a GPU."""

    params = (_FAMILIES, list(MODES))
    param_names = ("family", "mode")
    unit = "bytes"

    def setup(self, family: str, mode: str) -> None:
        require_device("cuda")
        from ._workloads import Recurrent

        self.model = Recurrent(family, 64, mode, dev="cuda", steps=16)

    def track_peak_bytes(self, family: str, mode: str) -> int:
        return self.model.peak_bytes()
