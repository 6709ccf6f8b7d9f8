"""paramcheck.scan on real models, the planted bug deep inside one, and every hazard
firing on the model that has it and silent on its clean twin."""

from __future__ import annotations

import importlib.util
import json
import pickle
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import orthogonal, spectral_norm, weight_norm

from paramcheck._scan import find, find_hooks, legacy_renames, scan
from paramcheck._scan._find import ParametrizedTensor
from paramcheck._scan._hazards import Context, Hazard, hazards
from paramcheck.errors import UsageError


def _load_models():  # type: ignore[no-untyped-def]
    """tests/data/scan_models.py, the module `paramcheck verify --model` names too."""
    path = Path(__file__).parent / "data" / "scan_models.py"
    spec = importlib.util.spec_from_file_location("scan_models", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("scan_models", module)
    spec.loader.exec_module(module)
    return module


scan_models = _load_models()
FAST = {"max_examples": 5}


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """One intra-op thread: the real models' tensors are above the engine's small-work
    size, and a second thread on shared cores (pytest -n 2) makes each op milliseconds."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _codes(model: nn.Module, **extra: object) -> list[str]:
    ctx = Context(model, find(model), find_hooks(model), **extra)  # type: ignore[arg-type]
    return [h.code for h in hazards(ctx)]


def _only(found: list[ParametrizedTensor], path: str) -> ParametrizedTensor:
    return next(t for t in found if t.path == path)


# ------------------------------------------------------------------------- real models


def test_wav2vec2_weight_norm_is_found_and_verified() -> None:
    pytest.importorskip("transformers")
    report = scan(scan_models.wav2vec2(), **FAST)
    (row,) = report.tensors
    assert row.tensor.path == "encoder.pos_conv_embed.conv.weight"
    assert row.inference.kind == "torch weight_norm"
    assert row.inference.source == "none guaranteed"
    assert row.tensor.shape == (32, 8, 16) and row.tensor.dtype == torch.float32
    outcomes = {v.property: v.outcome for v in row.verdicts}
    assert outcomes["round_trip"] == "pass" and outcomes["state"] == "pass"
    assert outcomes["batch"] == "not applicable"  # weight_norm couples the whole tensor
    # 4096 entries: finite differences along random directions instead of gradcheck.
    assert outcomes["gradient"] == "pass"
    assert report.ok


def test_lstm_orthogonal_recurrent_weights() -> None:
    report = scan(scan_models.lstm_orthogonal(), search=False)
    assert [t.tensor.path for t in report.tensors] == ["weight_hh_l0", "weight_hh_l1"]
    for row in report.tensors:
        assert row.inference.kind == "torch orthogonal (householder)"
        assert row.inference.label == "orthogonal"
        assert {v.outcome for v in row.verdicts} == {"pass"}


def test_spectral_norm_discriminator() -> None:
    report = scan(scan_models.sn_discriminator(), **FAST)
    assert [t.tensor.path for t in report.tensors] == ["0.weight", "2.weight", "5.weight"]
    assert {t.inference.kind for t in report.tensors} == {"torch spectral_norm"}
    assert report.ok


def test_ao_pruning_masks_are_checked_and_state_is_upstream() -> None:
    report = scan(scan_models.sparsified(), search=False)
    for row in report.tensors:
        outcomes = {v.property: v.outcome for v in row.verdicts}
        assert row.inference.label == "zero_where_masked" and outcomes["constraint"] == "pass"
        # FakeSparsity keeps its mask out of state_dict by design: torch's, not the user's.
        assert outcomes["state"] == "upstream"
    assert report.ok


def test_ao_pruning_constraint_fails_when_the_mask_is_not_applied() -> None:
    model = scan_models.sparsified()
    model[0].parametrizations.weight[0].forward = lambda x: x  # planted: mask ignored
    report = scan(model, search=False)
    failed = {(t.tensor.path, v.property) for t, v in report.failures}
    assert failed == {("0.weight", "constraint")}


def test_geotorch_manifolds_and_what_is_not_inferred() -> None:
    pytest.importorskip("geotorch")
    report = scan(scan_models.geotorch_model(), search=False)
    labels = {t.tensor.path: t.inference.label for t in report.tensors}
    assert labels == {"0.weight": "orthogonal", "1.bias": "unit_norm(dim=-1)",
                      "2.weight": "psd", "3.weight": "-"}
    assert report.not_inferred == ("geotorch LowRank",)
    assert "no constraint known for geotorch LowRank" in str(report)
    assert report.ok


def test_planted_bug_deep_inside_a_real_model_is_named_by_its_path() -> None:
    pytest.importorskip("transformers")
    report = scan(scan_models.wav2vec2_planted(), search=False)
    assert len(report.tensors) == 9
    failed = {(t.tensor.path, v.property) for t, v in report.failures}
    assert failed == {("encoder.layers.1.attention.v_proj.weight", "round_trip")}
    assert "FAILED round_trip of encoder.layers.1.attention.v_proj.weight" in str(report)


def test_clean_twin_of_the_planted_model_passes() -> None:
    pytest.importorskip("transformers")
    model = scan_models.wav2vec2_planted()
    plist = model.encoder.layers[1].attention.v_proj.parametrizations.weight
    from paramcheck.transforms import CayleyMap

    plist[1] = CayleyMap()
    assert scan(model, search=False).ok


def test_the_default_search_takes_a_share_of_the_profile(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from paramcheck._profiles import profile_name, settings_for
    from paramcheck._scan import _run

    # dev: a name Hypothesis has no profile of its own under ("ci" it has).
    monkeypatch.setenv("PARAMCHECK_PROFILE", "dev")
    profile = settings_for("dev")
    assert _run._search_settings(None).max_examples == round(
        profile.max_examples * _run.SCAN_SHARE)
    assert _run._search_settings(3).max_examples == 3
    monkeypatch.setattr(_run, "SCAN_SHARE", 1 / profile.max_examples)  # one example
    torch.manual_seed(0)
    report = scan(nn.Sequential(orthogonal(nn.Linear(3, 3))))  # no max_examples given
    assert report.ok and report.profile == profile_name() == "dev"


def test_one_search_per_group_of_identical_chains(monkeypatch: pytest.MonkeyPatch) -> None:
    import paramcheck
    from paramcheck.known_bugs import TutorialCayleyMap
    from paramcheck.transforms import CayleyMap, Skew

    model = nn.Sequential(*(nn.Linear(6, 6) for _ in range(3)))
    for i, layer in enumerate(model):
        parametrize.register_parametrization(layer, "weight", Skew())
        parametrize.register_parametrization(
            layer, "weight", TutorialCayleyMap(6) if i == 1 else CayleyMap())
    calls: list[str] = []
    verify = paramcheck.verify

    def counting(*args: object, **kwargs: object) -> object:
        calls.append("search" if "settings" in kwargs else "current")
        return verify(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(paramcheck, "verify", counting)
    report = scan(model, max_examples=1)
    assert calls == ["current", "search", "current", "search", "current"]
    assert [t.search_from for t in report.tensors] == ["", "", "0.weight"]
    assert "the search around 0.weight stands for 1 more tensor(s)" in str(report)
    assert {(t.tensor.path, v.property) for t, v in report.failures} == {
        ("1.weight", "round_trip")}
    calls.clear()
    scan(nn.Sequential(model[0], model[2]), max_examples=1, share_search=False)
    assert calls == ["current", "search", "current", "search"]


def test_search_keys_tell_configurations_apart() -> None:
    from paramcheck._scan import infer
    from paramcheck._scan._run import search_key

    def key(module: nn.Module) -> tuple[object, ...]:
        (t,) = find(module)
        return search_key(t, infer(t, {}))

    assert key(orthogonal(nn.Linear(4, 4))) == key(orthogonal(nn.Linear(4, 4)))
    assert key(orthogonal(nn.Linear(4, 4))) != key(
        orthogonal(nn.Linear(4, 4), orthogonal_map="cayley"))
    assert key(orthogonal(nn.Linear(4, 4))) != key(orthogonal(nn.Linear(4, 4)).double())
    assert key(orthogonal(nn.Linear(4, 4))) != key(orthogonal(nn.Linear(5, 4)))
    assert key(spectral_norm(nn.Linear(4, 4))) != key(
        spectral_norm(nn.Linear(4, 4), n_power_iterations=3))


def test_given_constraints_override_what_is_inferred() -> None:
    report = scan(scan_models.sparsified(), constraints={"0.*": "orthogonal"}, search=False)
    rows = {t.tensor.path: t for t in report.tensors}
    assert rows["0.weight"].inference.source == "given"
    assert rows["2.weight"].inference.label == "zero_where_masked"
    assert {(t.tensor.path, v.property) for t, v in report.failures} == {
        ("0.weight", "constraint")}  # a masked random matrix is not orthogonal


@pytest.mark.parametrize(("constraints", "match"), [
    ({"*.weight": "orthogonl"}, "unknown constraint 'orthogonl'"),
    (["orthogonal"], "constraints must be a dict"),
    ({"*.weight": 3}, "must be a constraint name or a callable"),
])
def test_bad_constraints_are_usage_errors(constraints: object, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        scan(nn.Linear(2, 2), constraints=constraints)  # type: ignore[arg-type]


def test_outputs_json_markdown_and_text() -> None:
    report = scan(scan_models.lstm_orthogonal(), search=False)
    data = json.loads(json.dumps(report.to_dict()))
    assert [t["tensor"] for t in data["tensors"]] == ["weight_hh_l0", "weight_hh_l1"]
    assert data["tensors"][0]["verdicts"][0]["outcome"] == "pass"
    md = report.render(markdown=True).splitlines()
    assert md[2].startswith("| tensor | chain | shape | dtype | constraint | holds | round_trip")
    assert md[4].startswith("| weight_hh_l0 | torch orthogonal (householder) | 16x4 | float32")


def test_a_chain_that_raises_on_read_is_a_failure_of_that_tensor() -> None:
    class Broken(nn.Module):
        def forward(self, X: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("boom")

    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    parametrize.register_parametrization(model[1], "weight", Broken(), unsafe=True)
    report = scan(model, search=False)
    ((row, verdict),) = report.failures
    assert row.tensor.path == "1.weight" and "boom" in verdict.message


# ---------------------------------------------------------------------------- hazards


def test_half_precision_orthogonal() -> None:
    layer = orthogonal(nn.Linear(32, 32))
    assert "half_precision_orthogonal" not in _codes(layer)
    layer = layer.to(torch.bfloat16)
    W = layer.weight.double()
    assert (W.T @ W - torch.eye(32, dtype=torch.float64)).abs().max() > 1e-3  # it bites
    assert "half_precision_orthogonal" in _codes(layer)


def test_spectral_norm_twice() -> None:
    assert "spectral_norm_twice" not in _codes(spectral_norm(nn.Linear(4, 4)))
    assert "spectral_norm_twice" in _codes(spectral_norm(spectral_norm(nn.Linear(4, 4))))


def test_tied_original() -> None:
    a, b = nn.Linear(4, 4), nn.Linear(4, 4)
    model = nn.Sequential(a, b)
    orthogonal(a)
    assert "tied_original" not in _codes(model)
    a2, b2 = nn.Linear(4, 4), nn.Linear(4, 4)
    b2.weight = a2.weight
    model = nn.Sequential(a2, b2)
    orthogonal(a2)
    assert not torch.allclose(a2.weight, b2.weight)  # the tie is broken
    assert "tied_original" in _codes(model)


def test_meta_tensors() -> None:
    with torch.device("meta"):
        model = weight_norm(nn.Linear(4, 4))
    assert "meta_tensors" in _codes(model)
    assert "meta_tensors" not in _codes(weight_norm(nn.Linear(4, 4)))
    (row,) = scan(model).tensors
    assert row.verdicts[0].outcome == "could not test"


def test_legacy_weight_norm_keys() -> None:
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = torch.nn.utils.weight_norm(nn.Conv1d(2, 4, 3), dim=2)
    old_sd = old.state_dict()
    new = weight_norm(nn.Conv1d(2, 4, 3), dim=2)
    assert "legacy_state_dict_keys" in _codes(new, state_dict=old_sd)
    assert "legacy_state_dict_keys" not in _codes(new, state_dict=new.state_dict())
    # Module.load_state_dict renames them (torch's hook): the hazard is only a note.
    new.load_state_dict(old_sd)
    torch.testing.assert_close(new.weight, old.weight)
    renames = legacy_renames(find(new), old_sd)
    assert {renames.get(k, k) for k in old_sd} == set(new.state_dict())


def test_legacy_spectral_norm_keys_fail_to_load_and_the_renames_load() -> None:
    torch.manual_seed(0)
    old = torch.nn.utils.spectral_norm(nn.Linear(3, 4))
    old_sd = old.state_dict()
    new = spectral_norm(nn.Linear(3, 4))
    ctx = Context(new, find(new), [], state_dict=old_sd)
    (hazard,) = [h for h in hazards(ctx) if h.code == "legacy_state_dict_keys"]
    assert hazard.severity == "warning" and "weight_orig -> " in hazard.message
    assert "legacy_state_dict_keys" not in _codes(new, state_dict=new.state_dict())
    with pytest.raises(RuntimeError, match="weight_orig"):
        new.load_state_dict(old_sd)
    renames = legacy_renames(find(new), old_sd)
    new.load_state_dict({renames.get(k, k): v for k, v in old_sd.items()})
    new.eval(), old.eval()  # frozen u, v: both compute weight_orig / uᵀ(weight_orig v)
    x = torch.randn(2, 3)
    torch.testing.assert_close(new(x), old(x))


def test_plain_weight_key_into_a_parametrized_model() -> None:
    plain = nn.Linear(4, 4).state_dict()
    assert "legacy_state_dict_keys" in _codes(orthogonal(nn.Linear(4, 4)), state_dict=plain)


def test_recomputed_needs_example_inputs_and_fires_on_an_lstm() -> None:
    lstm = scan_models.lstm_orthogonal()
    x = torch.randn(3, 2, 6)
    assert "recomputed" not in _codes(lstm)  # no forward without example inputs
    ctx = Context(lstm, find(lstm), [], example_inputs=(x,))
    found = [h for h in hazards(ctx) if h.code == "recomputed"]
    assert {h.path for h in found} == {"weight_hh_l0", "weight_hh_l1"}
    assert all(ctx.counts[p] >= 2 for p in ctx.counts)
    linear = orthogonal(nn.Linear(4, 4))
    assert "recomputed" not in _codes(linear, example_inputs=(torch.randn(2, 4),))


def test_mask_not_saved() -> None:
    model = scan_models.sparsified()
    with pytest.raises(RuntimeError, match="mask"):
        model.load_state_dict(model.state_dict())  # what the hazard says
    assert "mask_not_saved" in _codes(model)
    assert "mask_not_saved" not in _codes(scan_models.sn_discriminator())


def test_hook_reparametrization() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = torch.nn.utils.weight_norm(nn.Linear(4, 4))
    assert [h.kind for h in find_hooks(old)] == ["weight_norm"]
    assert "hook_reparametrization" in _codes(old)
    assert "hook_reparametrization" not in _codes(weight_norm(nn.Linear(4, 4)))


def test_pickle_refused() -> None:
    model = nn.Sequential(orthogonal(nn.Linear(4, 4)))
    with pytest.raises(RuntimeError, match="state_dict"):
        pickle.dumps(model)
    assert "pickle_refused" in _codes(model)
    assert "pickle_refused" not in _codes(nn.Sequential(nn.Linear(4, 4)))


def test_hazards_print_a_message_and_a_fix() -> None:
    h = Hazard("code", "a.weight", "warning", "what goes wrong", "what to do", "ref#1")
    assert str(h) == "warning [code] a.weight: what goes wrong\n  fix: what to do (ref#1)"


# ----------------------------------------------------------------- paramcheck verify --model


@pytest.fixture
def in_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from tests/data, where `scan_models` is importable (as a user's package is)."""
    monkeypatch.chdir(Path(__file__).parent / "data")
    monkeypatch.setattr(sys, "path", list(sys.path))


def test_cli_model_json_and_progress(in_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    from paramcheck._cli import main

    assert main(["verify", "--model", "scan_models:lstm_orthogonal", "--no-search",
                 "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert [t["tensor"] for t in data["tensors"]] == ["weight_hh_l0", "weight_hh_l1"]
    assert data["ok"] and data["hazards"][0]["code"] == "pickle_refused"
    assert err.splitlines()[0].startswith("[1/2] weight_hh_l0 (_Orthogonal, 16x4, float32)")


def test_cli_model_planted_bug_exits_1(in_data: None,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("transformers")
    from paramcheck._cli import main

    assert main(["verify", "--model", "scan_models:wav2vec2_planted", "--no-search",
                 "-q"]) == 1
    out, err = capsys.readouterr()
    assert "FAILED round_trip of encoder.layers.1.attention.v_proj.weight" in out
    assert err == ""


def test_cli_checkpoint_with_legacy_keys(in_data: None, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from paramcheck._cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = torch.nn.utils.weight_norm(nn.Conv1d(2, 4, 3), dim=2)
    torch.save(old.state_dict(), tmp_path / "old.pt")
    assert main(["verify", "--model", "scan_models:weight_norm_conv", "--checkpoint",
                 str(tmp_path / "old.pt"), "--no-search", "--json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "legacy_state_dict_keys" in [h["code"] for h in data["hazards"]]


@pytest.mark.parametrize(("argv", "message"), [
    (["--model", "scan_models:nothing"], "has no attribute 'nothing'"),
    (["--model", "scan_models:not_a_model"], "--model needs an nn.Module"),
    (["--model", "scan_models:sparsified", "--shape", "4x4"], "--shape does not go with --model"),
    (["--model", "scan_models:sparsified", "--constraint-for", "x"], "is not PATTERN=NAME"),
    (["--model", "scan_models:sparsified", "--constraint-for", "*=orthogonl"],
     "unknown constraint 'orthogonl'"),
    (["--model", "scan_models:sparsified", "--checkpoint", "missing.pt"], "no such file"),
])
def test_cli_model_usage_errors(in_data: None, capsys: pytest.CaptureFixture[str],
                                argv: list[str], message: str) -> None:
    from paramcheck._cli import main

    assert main(["verify", *argv, "--no-search", "-q"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1
