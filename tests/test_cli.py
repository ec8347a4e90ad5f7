import subprocess
import sys


def test_synth_cli_writes_a_store_and_reports_bad_values(tmp_path):
    out = tmp_path / "s"
    ok = subprocess.run([sys.executable, "-m", "ferlib", "synth", "--out", str(out), "--subjects", "2", "--frames", "4",
                         "--side", "24", "--classes", "happy,sad"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "4 clips" in ok.stdout and (out / "store.json").is_file()
    bad = subprocess.run([sys.executable, "-m", "ferlib", "synth", "--out", str(tmp_path / "t"), "--classes", "happy,grumpy"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown class name 'grumpy'" in bad.stderr
    renamed = subprocess.run([sys.executable, "-m", "ferlib", "synth", "--out", str(tmp_path / "r"), "--profile", "lab"],
                             capture_output=True, text=True)
    assert renamed.returncode == 2 and "--profile is now --course" in renamed.stderr and not (tmp_path / "r").exists()
    course = subprocess.run([sys.executable, "-m", "ferlib", "synth", "--out", str(tmp_path / "c"), "--course", "slow"],
                            capture_output=True, text=True)
    assert course.returncode == 2 and "invalid choice: 'slow'" in course.stderr


# --------------------------------------------------------------------------- one dialect, one contract

import argparse  # noqa: E402
import inspect  # noqa: E402

import pytest  # noqa: E402

from ferlib.cli import COMMANDS, CommandError, build_parser, command_module, main  # noqa: E402
from ferlib.options import parse_key_value, parse_value  # noqa: E402


@pytest.mark.parametrize("text, value", [
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False),
    ("none", None), ("None", None), ("null", None), ("~", None),
    ("10", 10), ("-3", -3), ("0.01", 0.01), ("1e-3", 0.001), ("", ""),
    ("[30, 60]", [30, 60]), ("(1, 2)", [1, 2]), ("[fan, fer_gcn]", ["fan", "fer_gcn"]), ("[true, None]", [True, None]),
    ("[True, null]", [True, None]), ("{k: 10, mode: full}", {"k": 10, "mode": "full"}), ('{"a": true}', {"a": True}),
    ('"01"', "01"), ("'true'", "true"), ("[yes, on]", ["yes", "on"]), ('["1", 2]', ["1", 2]),
    ("official", "official"), ("cuda:0", "cuda:0"), ("~/data", "~/data"), ("[a", "[a"),
])
def test_values_read_the_same_way_everywhere(text, value):
    got = parse_value(text)
    assert got == value and type(got) is type(value)


def test_a_key_value_without_equals_or_key_fails_naming_it():
    assert parse_key_value("k= 10 ") == ("k", 10)
    for bad in ("k", "=1"):
        with pytest.raises(argparse.ArgumentTypeError, match=repr(bad).replace("[", r"\[")):
            parse_key_value(bad)


def key_value_options(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Command → its options that take KEY=VALUE, found by their help or metavar."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = {}
    for name, p in sub.choices.items():
        opts = [a for a in p._actions if "key=value" in f"{a.help} {a.metavar}".lower()]
        for a in opts:
            assert a.type is parse_key_value, f"{name} {a.option_strings} takes KEY=VALUE without ferlib.options"
        out[name] = sorted(s for a in opts for s in a.option_strings)
    return out


def test_every_key_value_option_speaks_the_one_dialect():
    parser, _ = build_parser()
    found = key_value_options(parser)
    assert found["train"] == ["--model-set", "--protocol-arg", "--set"]
    assert found["cv"] == ["--model-set", "--protocol-arg", "--set"]
    assert found["ablate"] == ["--protocol-arg", "--set"] and found["evaluate"] == ["--protocol-arg"]
    assert found["preprocess"] == ["--option"] and found["reproduce"] == ["--option", "--set"]
    common = ["--store", "s", "--out", "o"]
    for python, other in (("True", "true"), ("None", "null"), ("False", "FALSE")):
        argv = {
            "train": ["train", *common, "--method", "fan", "--set", f"progress={python}", "--set", f"progress={other}"],
            "preprocess": ["preprocess", "--dataset", "afew", "--out", "o", "--option", f"x={python}", "--option", f"x={other}"],
            "reproduce": ["reproduce", "fan", "--option", f"x={python}", "--option", f"x={other}"],
        }
        for cmd, args in argv.items():
            ns = parser.parse_args(args)
            pairs = ns.sets if cmd == "train" else ns.option
            assert pairs[0][1] is pairs[1][1] is parse_value(python), (cmd, pairs)


def test_every_command_keeps_the_contract():
    parser, _ = build_parser()
    for name, (module_name, _) in COMMANDS.items():
        module = command_module(name, module_name)
        for fn in (module.add_arguments, module.run):  # one positional argument each: the parser, the parsed args
            params = list(inspect.signature(fn).parameters.values())
            assert len(params) == 1 and params[0].kind is params[0].POSITIONAL_OR_KEYWORD, f"{module_name}.{fn.__name__}"
    assert parser.parse_args(["check-store", "d"]).command == "check-store"
    for name in ("train", "cv", "ablate"):
        extra = ["--method", "fan"] if name != "ablate" else ["--grid", "g"]
        assert parser.parse_args([name, "--store", "s", "--out", "o", *extra]).command == name
    assert parser.parse_args(["evaluate", "--store", "s", "--out", "o", "--checkpoint", "c"]).command == "evaluate"


def test_a_module_serving_several_commands_is_told_which():
    from ferlib.train import cli as train_cli

    with pytest.raises(ValueError, match="command default is None"):
        train_cli.add_arguments(argparse.ArgumentParser())
    p = argparse.ArgumentParser()
    p.set_defaults(command="evaluate")
    train_cli.add_arguments(p)
    assert "--checkpoint" in p._option_string_actions and "--method" not in p._option_string_actions


def test_a_missing_command_module_is_an_error_not_a_hidden_command(capsys, tmp_path, monkeypatch):
    with pytest.raises(CommandError, match="command 'gone': its module ferlib.no_such_module is missing"):
        build_parser({"gone": ("ferlib.no_such_module", "h")})
    assert main(["gone"], commands={"gone": ("ferlib.no_such_module", "h"), **COMMANDS}) == 2
    assert "ferlib.no_such_module is missing" in capsys.readouterr().err
    (tmp_path / "halfcommand.py").write_text("def add_arguments(parser):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(CommandError, match="module halfcommand defines no run"):
        build_parser({"half": ("halfcommand", "h")})
    (tmp_path / "brokencommand.py").write_text("import no_such_dependency_xyz\n")
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_xyz"):  # a broken import is not 'missing'
        build_parser({"broken": ("brokencommand", "h")})


def test_pretrain_command_prints_the_default_file(tiny_frame_pretraining, capsys):
    from ferlib.models.synth_frames import frame_pretrained_path

    assert main(["pretrain"]) == 0  # the session's stand-in for the default file: found, not remade
    assert capsys.readouterr().out.strip() == str(frame_pretrained_path(tiny_frame_pretraining))


def test_help_imports_nothing_heavy_and_lists_every_command():
    code = ("import sys\nfrom ferlib.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('heavy:', sorted(m for m in ('torch', 'cv2', 'dlib', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("heavy: []")
    assert all(name in done.stdout for name in COMMANDS)


def test_every_option_says_what_it_takes_and_offers_only_accepted_values():
    parser, subparsers = build_parser()
    for name, p in subparsers.items():
        for a in p._actions:
            if a.option_strings and a.help != argparse.SUPPRESS and a.dest != "help":
                assert a.help, f"{name} {a.option_strings} has no help"
    from ferlib.data.adapters import ADAPTERS
    from ferlib.models.registry import available_methods

    for method in available_methods():  # every method the help offers is one train accepts
        assert parser.parse_args(["train", "--store", "s", "--out", "o", "--method", method]).method == method
    assert parser.parse_args(["preprocess", "--dataset", "london", "--out", "o"]).dataset == "london"
    assert set(ADAPTERS) <= set(next(a for a in subparsers["preprocess"]._actions if a.dest == "dataset").choices)
    synth_help = " ".join(subparsers["synth"].format_help().split())
    assert "frames per clip (default: 16)" in synth_help and "(default: 0)" in synth_help
    train_help = " ".join(subparsers["train"].format_help().split())
    assert "(default: None)" not in train_help and "fer_gcn: backbone, gcn_x1" in train_help


def test_a_refused_value_or_unknown_option_prints_the_commands_usage(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--store", "s", "--out", "o", "--method", "baselines"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "usage: python -m ferlib train" in err and "invalid choice: 'baselines'" in err
    with pytest.raises(SystemExit):
        main(["check-store", "d", "--bogus"])
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m ferlib check-store") and "unrecognized arguments: --bogus" in err


def test_training_commands_make_the_demo_trunk_first_when_a_run_asks_for_it(small_store, tmp_path, monkeypatch):
    import ferlib.experiments.pretrain as pretrain
    from ferlib.train import cli as train_cli

    calls = []
    monkeypatch.setenv("FERLIB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(pretrain, "frame_pretrained", lambda cache, progress=True: calls.append(("make", cache)))
    monkeypatch.setattr(train_cli, "run", lambda args: calls.append(("train", args.method)) or 0)
    common = ["--store", str(small_store.root), "--out", str(tmp_path / "run")]
    parser, _ = build_parser()
    assert train_cli.requested_trunks(parser.parse_args(["train", *common, "--method", "fan"])) == ["synth-frames"]
    assert train_cli.requested_trunks(parser.parse_args(["cv", *common, "--method", "fan", "--trunk", ""])) == [""]
    assert main(["train", *common, "--method", "fan"]) == 0
    assert calls == [("make", tmp_path / "empty-cache"), ("train", "fan")]  # made before training
    calls.clear()
    assert main(["train", *common, "--method", "fan", "--set", "init_trunk="]) == 0
    assert calls == [("train", "fan")]  # no run asks for it: nothing made
