"""asv: the cost of the parametrization mechanism itself, paramcheck's and torch's.

An identity parametrization (X -> X) leaves only the mechanism: the property lookup, the
``ParametrizationList`` call, the cache. Compared with a plain ``nn.Parameter``.
"""

from __future__ import annotations

from ._grid import DEVICES, IMPLS, require_device


class ReadOverhead:
    """One read of ``layer.weight``: plain parameter, identity uncached, identity cache hit."""

    params = (["plain", "uncached", "cached"], list(IMPLS))
    param_names = ("variant", "impl")

    def setup(self, variant: str, impl: str) -> None:
        from ._workloads import WeightReads

        self.reads = WeightReads(variant, impl, reads=1).open()

    def teardown(self, variant: str, impl: str) -> None:
        self.reads.close()

    def time_read_weight(self, variant: str, impl: str) -> None:
        self.reads()


class Registration:
    """Build an ``nn.Linear(8, 8)`` and register an identity parametrization on its weight.

    ``impl="plain"`` builds the layer only: subtract it to get the registration alone.
    """

    params = (["plain", *IMPLS],)
    param_names = ("impl",)

    def setup(self, impl: str) -> None:
        from ._workloads import Registration as Register

        self.register = Register(impl)

    def time_register(self, impl: str) -> None:
        self.register()


class ForwardBackward:
    """Forward and backward of a 16-step recurrent cell (32 x 32 weight, batch 8).

    ``mode``: "plain" (no parametrization), "uncached" or "cached" (identity
    parametrization, read at each step).
    """

    params = (["plain", "uncached", "cached"], list(IMPLS), list(DEVICES))
    param_names = ("mode", "impl", "device")

    def setup(self, mode: str, impl: str, device: str) -> None:
        require_device(device)
        from ._workloads import Recurrent

        self.model = Recurrent("identity", 32, mode, impl, device, steps=16)

    def time_forward_backward(self, mode: str, impl: str, device: str) -> None:
        self.model()
