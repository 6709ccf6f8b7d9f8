"""What a verify costs at real sizes, as a ratio to one forward+backward at that size.

The cost of ``paramcheck.verify`` should grow with the cost of the parametrization, not
with the number of entries drawn: inputs are drawn as small descriptions and built by
torch (``paramcheck.strategies``), and the gradient law uses directional finite
differences above 16×16 (``paramcheck._directional``), not a full Jacobian. So the
ratio ``verify time / (forward + backward time)`` at n×n should stay roughly flat from
n = 4 to n = 1024, for a fixed number of examples per property.

asv: ``track_verify_over_forward_backward`` (params: transform, n). Also a script that
prints the table::

    PYTHONPATH=src python -m benchmarks.verify_cost [--sizes 4,64,256,1024] [--examples 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

#: The transforms measured: a linear map, a solve, a matrix exponential.
TRANSFORMS = ("Skew", "orthogonal_cayley()", "MatrixExponential('skew')")
SIZES = (4, 16, 64, 256, 1024)
#: Examples per property: fixed, so the ratio measures the cost of one example.
EXAMPLES = 3
DTYPE = torch.float32


def _build(name: str) -> Callable[[], object]:
    from paramcheck.transforms import catalog

    for entry in catalog():
        if entry.name == name:
            return lambda: entry.build((1, 1))
    raise NotImplementedError(f"no transform {name!r} in this paramcheck")


def forward_backward_seconds(name: str, n: int, repeats: int = 5) -> float:
    """Median wall time of one forward + backward of the parametrization at n×n."""
    from paramcheck import _target as tg
    from paramcheck import strategies

    target = tg.Target(_build(name)())
    spec = target.spec_for_inputs()
    domain = spec.inputs if spec else "matrix"
    bound = spec.bound if spec else 1.0
    # A dense, seeded input from the domain (the same every run; no Hypothesis draw).
    if domain in ("skew", "symmetric"):
        described: strategies.Description = strategies.Spectral(
            domain, (n, n), strategies.Rotation(0, n),
            strategies.Spectrum(bound, 10.0, "random", 0))
    else:
        described = strategies.Entrywise(domain, (n, n), bound, strategies.Uniform(0, bound))
    X = described.build(DTYPE)
    chain = target.fresh(X)
    G = tg.gradient_pattern(X)
    times = []
    for _ in range(repeats):
        leaf = X.clone().requires_grad_(True)
        start = time.perf_counter()
        Y = tg.forward(chain, tg.originals(chain, leaf) if spec and spec.originals > 1
                       else (leaf,))
        (Y * G).sum().backward()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def verify_seconds(name: str, n: int, examples: int = EXAMPLES) -> float:
    import paramcheck

    start = time.perf_counter()
    paramcheck.verify(_build(name), shape=(n, n), dtypes=(DTYPE,), max_examples=examples,
                      seed=0)
    return time.perf_counter() - start


class VerifyCost:
    """verify time / forward+backward time, per transform and size."""

    params = (list(TRANSFORMS), list(SIZES))
    param_names = ("transform", "n")
    timeout = 1200.0
    number = 1
    repeat = 1
    unit = "verify / (forward+backward)"

    def setup(self, name: str, n: int) -> None:
        try:
            import paramcheck.strategies as strategies
        except ImportError as exc:  # an older paramcheck
            raise NotImplementedError(str(exc)) from exc
        if not hasattr(strategies, "descriptions"):
            raise NotImplementedError("this paramcheck draws tensors entry by entry")
        torch.manual_seed(0)

    def track_verify_over_forward_backward(self, name: str, n: int) -> float:
        return verify_seconds(name, n) / forward_backward_seconds(name, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--examples", type=int, default=EXAMPLES)
    parser.add_argument("--transforms", default="|".join(TRANSFORMS))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("| transform | n | verify (s) | forward+backward (s) | ratio |")
    print("|---|---|---|---|---|")
    for name in args.transforms.split("|"):
        for n in sizes:
            fb = forward_backward_seconds(name, n)
            v = verify_seconds(name, n, args.examples)
            print(f"| {name} | {n} | {v:.2f} | {fb:.2e} | {v / fb:.0f} |", flush=True)


if __name__ == "__main__":
    main()
