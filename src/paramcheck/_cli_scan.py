"""``paramcheck verify --model pkg.mod:factory``: scan a whole model from the command line.

The ``verify`` command hands its parsed arguments here when ``--model`` is given (see
:func:`add_arguments` for the options this adds). This module sits on the command-line
layer: it imports the scan, never the reverse.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from paramcheck.errors import UsageError


def add_arguments(verify: argparse.ArgumentParser) -> None:
    """The options of ``verify`` that scan a model."""
    group = verify.add_argument_group(
        "scan a model",
        "verify every parametrized tensor of a model at its own shape, dtype and device, "
        "then report known hazards (see docs/scan.md)")
    group.add_argument("--model", metavar="TARGET",
                       help="package.module:attr naming an nn.Module instance, class or "
                       "zero-argument factory")
    group.add_argument("--checkpoint", type=Path, metavar="PATH",
                       help="a state_dict saved with torch.save, loaded into the model first "
                       "(hook-based weight_norm/spectral_norm keys are renamed)")
    group.add_argument("--constraint-for", action="append", default=[], metavar="PATTERN=NAME",
                       help="the constraint of the tensors matching PATTERN (fnmatch on the "
                       "full name, e.g. 'encoder.*.weight=orthogonal'); repeatable")
    group.add_argument("--no-search", action="store_true",
                       help="check the current weights only (no Hypothesis search)")


def _model(target: object, name: str) -> Any:
    from torch import nn

    if isinstance(target, nn.Module):
        return target
    if callable(target):
        try:
            made = target()
        except Exception as exc:
            raise UsageError(f"calling {name} raised {type(exc).__name__}: {exc}; --model "
                             f"needs a module or a zero-argument factory") from None
        if isinstance(made, nn.Module):
            return made
        raise UsageError(f"{name}() returned a {type(made).__name__}, not an nn.Module")
    raise UsageError(f"{name} is a {type(target).__name__}; --model needs an nn.Module "
                     f"instance, class or zero-argument factory")


def _constraints(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        pattern, sep, name = pair.partition("=")
        if not sep or not pattern or not name:
            raise UsageError(f"--constraint-for {pair!r} is not PATTERN=NAME (for example "
                             f"'encoder.*.weight=orthogonal')")
        out[pattern] = name
    return out


def _load_checkpoint(path: Path) -> Mapping[str, Any]:
    import torch

    if not path.is_file():
        raise UsageError(f"--checkpoint {path}: no such file")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UsageError(f"--checkpoint {path}: torch.load(weights_only=True) raised "
                         f"{type(exc).__name__}: {str(exc).splitlines()[0]}; save a "
                         f"state_dict with torch.save(model.state_dict(), path)") from None
    if isinstance(loaded, Mapping) and isinstance(loaded.get("state_dict"), Mapping):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, Mapping):
        raise UsageError(f"--checkpoint {path} holds a {type(loaded).__name__}, not a "
                         f"state_dict")
    return loaded


def _apply_checkpoint(model: Any, state: Mapping[str, Any], path: Path) -> None:
    from paramcheck._scan import find, legacy_renames

    renames = legacy_renames(find(model), state)
    renamed = {renames.get(k, k): v for k, v in state.items()}
    try:
        model.load_state_dict(renamed)
    except RuntimeError as exc:
        raise UsageError(f"--checkpoint {path} does not load into the model: "
                         f"{' '.join(str(exc).split())[:600]}") from None


def run(args: argparse.Namespace, load_target: Callable[[str], object]) -> bool:
    """Scan ``args.model``; print the report to stdout; return whether nothing failed."""
    for flag, value in (("--shape", args.shape), ("--dtypes", args.dtypes),
                        ("--device", args.device), ("--properties", args.properties),
                        ("--constraint", args.constraint), ("TARGET", args.target)):
        if value is not None:
            raise UsageError(f"{flag} does not go with --model: the scan verifies each "
                             f"tensor at its own shape, dtype and device, with its inferred "
                             f"constraint (name one with --constraint-for PATTERN=NAME)")
    from paramcheck._scan import scan

    model = _model(load_target(args.model), args.model)
    state = None
    if args.checkpoint is not None:
        state = _load_checkpoint(args.checkpoint)
        _apply_checkpoint(model, state, args.checkpoint)

    def progress(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    report = scan(model, constraints=_constraints(args.constraint_for), state_dict=state,
                  max_examples=args.max_examples, seed=args.seed,
                  search=not args.no_search, progress=progress)
    if args.output == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(report.render(markdown=args.output == "markdown") + "\n")
    return report.ok
