"""The README's quickstart runs as written and shows what it says it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import paramcheck

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_quickstart_finds_the_tutorial_bug_three_ways() -> None:
    namespace: dict[str, object] = {"__name__": "readme"}
    try:
        for block in _python_blocks():
            exec(compile(block, str(README), "exec"), namespace)
        _check(namespace)
    finally:
        if "CONTRACTION" in namespace:  # the README registers it: leave other tests alone
            paramcheck.properties.unregister_property(namespace["CONTRACTION"])  # type: ignore[arg-type]


def _check(namespace: dict[str, object]) -> None:
    report = namespace["report"]
    assert [f.property for f in report.failures] == ["round_trip", "round_trip"]  # type: ignore[attr-defined]
    with pytest.raises(AssertionError, match="round_trip"):
        namespace["test_my_cayley"]()  # type: ignore[operator]
    with pytest.raises(AssertionError):
        namespace["test_round_trip"]()  # type: ignore[operator]
    tests = namespace["TestMyCayley"]
    assert {"test_constraint", "test_round_trip", "test_cache"} <= set(dir(tests))
    with pytest.raises(AssertionError, match="round_trip"):
        tests().test_round_trip()  # type: ignore[operator]
    # The user-defined property: one passing row per dtype on the Cayley map, and it
    # catches a map that is not a contraction (Skew alone, called orthogonal).
    contraction = namespace["contraction_report"]
    assert [(r.property, r.status) for r in contraction.results] == [  # type: ignore[attr-defined]
        ("contraction", "passed"), ("contraction", "passed")]
    Skew = namespace["Skew"]
    bad = paramcheck.verify(Skew(), constraint="orthogonal",  # type: ignore[operator]
                            properties=[namespace["CONTRACTION"]], max_examples=20, seed=0)
    assert [r.property for r in bad.failures] == ["contraction", "contraction"], str(bad)
    assert bad.failures[0].failure.gap > bad.failures[0].failure.tolerance  # type: ignore[union-attr]
    # Scan your model: both parametrized tensors, the constraint inferred where known.
    scanned = namespace["model_report"]
    assert [t.tensor.path for t in scanned.tensors] == ["0.weight", "2.weight"]  # type: ignore[attr-defined]
    assert [t.inference.label for t in scanned.tensors] == ["orthogonal", "-"]  # type: ignore[attr-defined]
