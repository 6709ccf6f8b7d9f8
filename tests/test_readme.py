"""The README's quickstart runs as written and shows what it says it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_quickstart_finds_the_tutorial_bug_three_ways() -> None:
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in _python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
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
