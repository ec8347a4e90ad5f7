"""``python -m ferlib train | evaluate | cv | ablate`` on a tiny store."""

from __future__ import annotations

import json

import pytest

from ferlib.cli import main


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from ferlib.synth import SynthConfig, generate

    root = tmp_path_factory.mktemp("tiny") / "store"
    generate(root, SynthConfig(n_subjects=3, n_frames=4, side=32, classes=("happy", "surprise"), seed=0), progress=False)
    return root


COMMON = ["--protocol-arg", "k=3", "--set", "epochs=1", "--set", "batch_size=2", "--set", "input_side=32", "--set", "progress=false"]


def test_train_then_evaluate(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--store", str(tiny), "--out", str(out), "--method", "fan", "--fold", "fold02", *COMMON]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["split"] == "fold02" and json.loads((out / "config.json").read_text())["epochs"] == 1
    assert main(["evaluate", "--store", str(tiny), "--out", str(tmp_path / "ev"), "--checkpoint", str(out / "best.pt"),
                 "--fold", "fold02", "--protocol-arg", "k=3"]) == 0
    ev = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert ev["accuracy"] == m["accuracy"] and ev["n"] == m["n"] and ev["n_seen_in_training"] == 0
    split = json.loads((out / "split.json").read_text())  # the run records the clips it trained and selected on
    seen = len(split["train"]) + len(split["val"])
    assert split["name"] == "fold02" and seen > 0 and not set(split["test"]) & set(split["train"] + split["val"])
    capsys.readouterr()
    from ferlib.train.guards import TrainedClipsWarning

    with pytest.warns(TrainedClipsWarning, match=rf"{seen} of the {seen + len(split['test'])} clips evaluated"):
        assert main(["evaluate", "--store", str(tiny), "--out", str(tmp_path / "all"), "--checkpoint", str(out / "best.pt")]) == 0
    assert f"ferlib: warning: {seen} of the" in capsys.readouterr().out
    assert json.loads((tmp_path / "all" / "metrics.json").read_text())["n_seen_in_training"] == seen


def test_cv_and_ablate(tiny, tmp_path, capsys):
    assert main(["cv", "--store", str(tiny), "--out", str(tmp_path / "cv"), "--method", "fan", "--folds", "0", *COMMON]) == 0
    assert (tmp_path / "cv" / "summary.csv").is_file()
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"t": [{"label": "self", "method": "fan", "variant": "self_attention"}]}))
    assert main(["ablate", "--store", str(tiny), "--out", str(tmp_path / "ab"), "--grid", str(grid), "--folds", "0", *COMMON]) == 0
    assert (tmp_path / "ab" / "t" / "self" / "fold01" / "metrics.json").is_file()


def test_bad_options_give_errors(tiny, tmp_path, capsys):
    rc = main(["train", "--store", str(tiny), "--out", str(tmp_path / "x"), "--method", "fan", *COMMON, "--set", "lrr=1"])
    assert rc == 2 and "unknown config keys ['lrr']" in capsys.readouterr().err
    rc = main(["train", "--store", str(tiny), "--out", str(tmp_path / "x"), "--method", "fan", "--fold", "9", *COMMON])
    assert rc == 2 and "fold 9 is not one of the 3 folds" in capsys.readouterr().err


def test_python_and_json_spellings_give_the_same_config(tiny, tmp_path):
    configs = []
    for spelling in (["progress=False", "eval_test_each_epoch=True", "milestones=[1]"],
                     ["progress=false", "eval_test_each_epoch=true", "milestones=(1,)"]):
        out = tmp_path / f"run{len(configs)}"
        sets = [a for s in spelling for a in ("--set", s)]
        assert main(["train", "--store", str(tiny), "--out", str(out), "--method", "fan", *COMMON, *sets]) == 0
        configs.append(json.loads((out / "config.json").read_text()))
    assert configs[0]["progress"] is configs[1]["progress"] is False
    assert configs[0]["eval_test_each_epoch"] is configs[1]["eval_test_each_epoch"] is True
    assert configs[0]["milestones"] == configs[1]["milestones"] == [1]
