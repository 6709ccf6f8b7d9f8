"""Every bad argument gets one message, the same from the API and from the command line.

Each row is one invalid value of one option, given to ``paramcheck.verify`` and to
``paramcheck verify``: both must refuse it with a UsageError (exit status 2 on the
command line, no traceback) carrying the same message, which names the option.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

import paramcheck
from paramcheck import Options
from paramcheck._cli import main
from paramcheck.errors import UsageError
from paramcheck.testing import make_tests

DATA = Path(__file__).parent / "data"
TARGET = "cli_targets:Symmetric"

# (option, value given to verify, arguments given to `paramcheck verify`, words the
# message must contain)
ROWS: list[tuple[str, Any, list[str], str]] = [
    ("constraint", "orthogonall", ["--constraint", "orthogonall"],
     "unknown constraint 'orthogonall'"),
    ("shape", "4by4", ["--shape", "4by4"], "shape must be a tuple of positive ints"),
    ("shape", (0, 4), ["--shape", "0x4"], "all positive"),
    ("shape", "4x0", ["--shape", "4x0"], "all positive"),
    ("dtypes", ("float32", "float33"), ["--dtypes", "float32,float33"], "'float33'"),
    ("dtypes", "int32", ["--dtypes", "int32"], "floating"),
    ("dtypes", (), ["--dtypes", ","], "dtypes is empty"),
    ("device", "tpu", ["--device", "tpu"], "device 'tpu'"),
    ("device", "meta", ["--device", "meta"], "not supported"),
    ("max_examples", 0, ["--max-examples", "0"], "max_examples must be a positive int"),
    ("max_examples", "many", ["--max-examples", "many"], "max_examples must be a positive"),
    ("seed", "x", ["--seed", "x"], "seed must be an int"),
    ("properties", ("speed",), ["--properties", "speed"], "unknown properties ['speed']"),
]


@pytest.fixture
def in_data(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(DATA)
    monkeypatch.setattr("sys.path", [str(DATA), *__import__("sys").path])
    return DATA


def _api_message(option: str, value: Any) -> str:
    from cli_targets import Symmetric  # type: ignore[import-not-found]

    with pytest.raises(UsageError) as caught:
        paramcheck.verify(Symmetric, **{option: value})
    return str(caught.value)


@pytest.mark.parametrize(("option", "value", "argv", "words"), ROWS,
                         ids=[f"{r[0]}={r[1]!r}" for r in ROWS])
def test_the_same_message_from_the_api_and_the_command_line(
        in_data: Path, capsys: pytest.CaptureFixture[str], option: str, value: Any,
        argv: list[str], words: str) -> None:
    message = _api_message(option, value)
    assert words in message
    assert option.replace("_", " ") in message.replace("_", " ") or option == "constraint"
    assert main(["verify", TARGET, *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.strip().splitlines()[-1] == f"paramcheck verify: error: {message}"


@pytest.mark.parametrize(("option", "value", "argv", "words"), ROWS,
                         ids=[f"{r[0]}={r[1]!r}" for r in ROWS])
def test_options_and_the_pytest_form_refuse_it_too(option: str, value: Any, argv: list[str],
                                                   words: str) -> None:
    with pytest.raises(UsageError) as caught:
        Options(**{option: value})
    assert words in str(caught.value)
    with pytest.raises(UsageError) as again:
        make_tests(lambda: None, **{option: value})
    assert str(again.value) == str(caught.value)


def test_an_unknown_option_names_the_known_ones() -> None:
    with pytest.raises(UsageError, match="unknown option colour; the options are constraint"):
        paramcheck.verify(torch.nn.Identity(), colour="red")
    with pytest.raises(UsageError, match="unknown option colour"):
        make_tests(lambda: None, colour="red")


def test_good_values_are_normalised_the_same_way_from_text_and_objects() -> None:
    assert Options(shape="2x4x4").shape == Options(shape=[2, 4, 4]).shape == (2, 4, 4)
    assert Options(dtypes="float32,float64").dtypes == (torch.float32, torch.float64)
    assert Options(dtypes=torch.float64).dtypes == (torch.float64,)
    assert Options(device="cpu").device == torch.device("cpu")
    assert Options(properties="round_trip, cache").properties == ("round_trip", "cache")
