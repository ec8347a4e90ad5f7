"""The three profiles are defined once (ferlib.profiles) and every chooser reads them."""

import ast
from pathlib import Path

import pytest

import ferlib
from ferlib.cli import build_parser
from ferlib.models import METHODS, MethodSpec, method_spec
from ferlib.models.registry import ModelProfile
from ferlib.profiles import MODEL_PROFILES, PROFILES, Profile, get_profile
from ferlib.workbook import train_plan

PACKAGE = Path(ferlib.__file__).parent


def test_each_profile_names_a_model_profile_and_smoke_trains_the_demo_models():
    assert [get_profile(p).name for p in PROFILES] == ["smoke", "demo", "paper"]
    assert [get_profile(p).model for p in PROFILES] == ["demo", "demo", "paper"]
    for p in PROFILES:
        assert train_plan(p).model_profile == get_profile(p).model
    sizes = [get_profile(p).synth["n_subjects"] * get_profile(p).synth["n_frames"] for p in PROFILES]
    sides = [get_profile(p).transfer["side"] for p in PROFILES]
    assert sizes == sorted(sizes) and sides == sorted(sides)  # smallest first, in every respect
    with pytest.raises(TypeError):
        get_profile("demo").synth["n_subjects"] = 1  # shared settings are read-only


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown profile 'tiny'; expected one of \('smoke', 'demo', 'paper'\)"):
        get_profile("tiny")
    with pytest.raises(ValueError, match=r"profile 'odd': model profile 'smoke' is not one of \('demo', 'paper'\)"):
        Profile("odd", "smoke")
    with pytest.raises(ValueError, match=r"must define model profiles \('demo', 'paper'\), missing \['paper'\]"):
        MethodSpec("half", lambda **_: None, {"demo": ModelProfile({}, 64, 16, "chronological")})


def test_every_method_declares_each_model_profile():
    for m in METHODS:
        assert set(method_spec(m).profiles) == set(MODEL_PROFILES), m


def _name_tuples(path: Path) -> list[tuple[int, tuple]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Tuple) and node.elts and all(isinstance(e, ast.Constant) for e in node.elts):
            values = tuple(e.value for e in node.elts)
            if values in (PROFILES, MODEL_PROFILES):
                found.append((node.lineno, values))
    return found


def test_the_profile_names_are_listed_in_one_module_only():
    listed = {str(p.relative_to(PACKAGE)): hits for p in sorted(PACKAGE.rglob("*.py"))
              if p.name != "profiles.py" and (hits := _name_tuples(p))}
    assert listed == {}, f"read ferlib.profiles.PROFILES / MODEL_PROFILES instead of listing them: {listed}"


@pytest.mark.parametrize("argv,new", [
    (["synth", "--out", "x", "--size", "32"], "--side"),
    (["preprocess", "--dataset", "ckplus", "--out", "x", "--size", "112"], "--side"),
    (["train", "--store", "s", "--out", "o", "--method", "fan", "--size", "paper"], "--profile"),
])
def test_the_former_size_options_fail_naming_their_new_name(capsys, argv, new):
    parser, _ = build_parser(only=argv[0])
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(argv)
    assert exc.value.code == 2 and f"--size is now {new}" in capsys.readouterr().err
