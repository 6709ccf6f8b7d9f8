"""Save and resume: k steps, ``torch.save`` of the model's and optimizer's ``state_dict``,
``torch.load(weights_only=True)`` into a freshly built model and optimizer, k more steps:
bit-identical to the uninterrupted run.

The fresh model is built from a different drawn input ``X2`` (and under another seed for
torch's generator), so loading has everything to overwrite; anything the
parametrization keeps outside its parameters and buffers (a plain tensor attribute, a
Python number) is not saved, and the resumed run drifts from the uninterrupted one
(pyreft pull #179: orthogonality 1e-7 → 0.1 after a resume). Both continuations run with
torch's global generator set to the same seed, as a training script that saves and
restores it would. The comparison is exact (``torch.equal``): the same operations on
the same bits give the same bits on one machine.
"""

from __future__ import annotations

import io

import torch
from torch import Tensor

from paramcheck import _target as tg
from paramcheck.contexts import _model as M
from paramcheck.contexts._train import STEPS, make_optimizer, run_steps

#: Seeds of torch's generator for building the two models and for the continuation.
_SEEDS = (11, 12, 13)


def resume(parametrization: object, X: Tensor, X2: Tensor, *,
           implementation: object = "torch", optimizer: str = "adam",
           steps: int = STEPS, seed: int = 0) -> None:
    """The resumed run's next ``steps`` steps equal the uninterrupted run's, bit for bit."""
    impl = tg.implementation(implementation)
    target = M.target_of(parametrization)
    x = M.probe(X)
    with M.seeded(_SEEDS[0]):
        net = M.build(target, X, impl)
    opt = make_optimizer(optimizer, [p for _, p in M.originals(net)])
    run_steps(net, opt, x, seed, range(steps))
    buffer = io.BytesIO()
    torch.save({"model": net.state_dict(), "optimizer": opt.state_dict()}, buffer)
    with M.seeded(_SEEDS[2]):
        run_steps(net, opt, x, seed, range(steps, 2 * steps))
    want = M.state_of(net)

    with M.seeded(_SEEDS[1]):
        fresh = M.build(target, X2, impl)
    fresh_opt = make_optimizer(optimizer, [p for _, p in M.originals(fresh)])
    buffer.seek(0)
    try:
        saved = torch.load(buffer, weights_only=True)
        fresh.load_state_dict(saved["model"])
        fresh_opt.load_state_dict(saved["optimizer"])
    except Exception as exc:
        raise AssertionError(f"loading the saved state_dicts (torch.load(weights_only=True), "
                             f"load_state_dict) raised {type(exc).__name__}: {exc}") from exc
    with M.seeded(_SEEDS[2]):
        run_steps(fresh, fresh_opt, x, seed, range(steps, 2 * steps))
    got = M.state_of(fresh)
    for key, value in want.items():
        if not torch.equal(got[key], value):
            diff = float((got[key].double() - value.double()).abs().max())
            raise AssertionError(
                f"after resuming from step {steps} and {steps} more {optimizer} steps, {key} "
                f"differs from the uninterrupted run's by up to {diff:.3g}: state that "
                f"matters was not saved (a plain attribute instead of a buffer?) or not "
                f"restored")
    with torch.no_grad():
        W_got, W_want = M.weight(fresh), M.weight(net)
    if not torch.equal(W_got, W_want):
        raise AssertionError(
            f"after resuming, the weight differs from the uninterrupted run's by up to "
            f"{float((W_got.double() - W_want.double()).abs().max()):.3g} although every "
            f"saved tensor is equal: the parametrization reads state that is not in its "
            f"state_dict")


