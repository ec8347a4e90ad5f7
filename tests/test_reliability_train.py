"""Training, evaluation and notebook parameters behave the same whatever the runtime, refuse what
would give a wrong answer, and fail before writing anything when a value is wrong."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ferlib.cli import main
from ferlib.data.protocols import Split
from ferlib.data.store import ClipStore
from ferlib.train.checkpoint import CheckpointError
from ferlib.train.config import TrainConfig
from ferlib.train.recipes import resolve_config
from ferlib.train.engine import RunDirError, evaluate, fit

REPO = Path(__file__).resolve().parents[1]
SPLIT = Split("f0", np.array([0, 1, 2, 3]), np.array([4, 5]))
COMMON = ["--protocol-arg", "k=3", "--set", "epochs=1", "--set", "batch_size=2", "--set", "input_side=32",
          "--set", "progress=false"]


def _generate(root: Path, n_subjects: int, classes: tuple[str, ...], seed: int = 0) -> ClipStore:
    from ferlib.synth import SynthConfig, generate

    return generate(root, SynthConfig(n_subjects=n_subjects, n_frames=4, side=32, classes=classes, seed=seed), progress=False)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> ClipStore:
    """3 subjects × 2 classes (6 clips), 4 frames of 32×32."""
    return _generate(tmp_path_factory.mktemp("tiny") / "store", 3, ("happy", "surprise"))


@pytest.fixture(scope="module")
def trained(tiny, tmp_path_factory) -> Path:
    """A finished one-epoch FAN run on ``tiny`` (fold SPLIT)."""
    out = tmp_path_factory.mktemp("trained") / "run"
    fit(fan_cfg(), tiny, SPLIT, out)
    return out


def fan_cfg(**kw) -> TrainConfig:
    base = dict(epochs=1, batch_size=2, input_side=32, progress=False, init_trunk="")
    base.update(kw)
    return resolve_config("fan", "demo", **base)


def _same_run_outputs(a: Path, b: Path) -> None:
    assert (a / "metrics.json").read_bytes() == (b / "metrics.json").read_bytes()
    assert (a / "predictions.csv").read_bytes() == (b / "predictions.csv").read_bytes()
    with np.load(a / "byproducts.npz") as za, np.load(b / "byproducts.npz") as zb:
        assert sorted(za.files) == sorted(zb.files)
        for k in za.files:
            np.testing.assert_array_equal(za[k], zb[k], err_msg=k)


# --------------------------------------------------------------------------- 2: num_workers, progress bars

def test_num_workers_do_not_change_results(tmp_path):
    store = _generate(tmp_path / "store", 4, ("happy", "surprise", "sad"))  # 12 clips: 9 to train, 3 to test
    split = Split("f0", np.arange(9), np.arange(9, 12))
    for w in (0, 1, 2):
        fit(fan_cfg(num_workers=w, epochs=2), store, split, tmp_path / f"w{w}")
    _same_run_outputs(tmp_path / "w0", tmp_path / "w1")
    _same_run_outputs(tmp_path / "w0", tmp_path / "w2")
    # num_workers is a runtime field: the finished run is read back under another worker count
    before = (tmp_path / "w0" / "metrics.json").stat().st_mtime_ns
    m = fit(fan_cfg(num_workers=2, epochs=2), store, split, tmp_path / "w0")
    assert m == json.loads((tmp_path / "w0" / "metrics.json").read_text())
    assert (tmp_path / "w0" / "metrics.json").stat().st_mtime_ns == before


LOG_SCRIPT = """
import sys, numpy as np
from ferlib.data.store import ClipStore
from ferlib.data.protocols import Split
from ferlib.train.recipes import resolve_config
from ferlib.train.engine import fit
cfg = resolve_config("fan", "demo", epochs=2, batch_size=1, input_side=32, progress=True, init_trunk="")
fit(cfg, ClipStore.open(sys.argv[1]), Split("f0", np.array([0, 1, 2, 3]), np.array([4, 5])), sys.argv[2])
"""


def test_progress_bars_stay_out_of_log_files(tiny, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    with open(tmp_path / "log", "w") as log:  # `make demo > log`: stdout and stderr are files
        proc = subprocess.run([sys.executable, "-c", LOG_SCRIPT, str(tiny.root), str(tmp_path / "run")],
                              stdout=log, stderr=subprocess.STDOUT, env=env, timeout=600)
    raw = (tmp_path / "log").read_bytes()
    text = raw.decode()
    assert proc.returncode == 0, text
    assert b"\r" not in raw and "0%|" not in text, "a progress bar wrote its updates into a log file"
    assert "epoch=1" in text and "epoch=2" in text  # the per-epoch summary lines remain


def test_bars_are_drawn_in_a_terminal_only():
    from ferlib.progress import bars_visible

    class Tty:
        def isatty(self):
            return True

    class File:
        def isatty(self):
            return False

    assert bars_visible(Tty()) and not bars_visible(File())


# --------------------------------------------------------------------------- 4: stale run of another store

def test_finished_run_is_reused_only_for_its_own_store(tiny, trained, tmp_path):
    other = _generate(tmp_path / "other", 3, ("happy", "surprise"), seed=7)  # same data-set name, classes, size
    assert other.dataset == tiny.dataset and len(other.clip_ids()) == len(tiny.clip_ids())
    before = (trained / "metrics.json").read_bytes()
    with pytest.raises(RunDirError, match="another clip store") as err:
        fit(fan_cfg(), other, SPLIT, trained)
    assert str(tiny.root.resolve()) in str(err.value) and str(other.root.resolve()) in str(err.value)
    assert (trained / "metrics.json").read_bytes() == before
    record = json.loads((trained / "store.json").read_text())
    assert record["root"] == str(tiny.root.resolve()) and record["n_clips"] == 6 and record["classes"] == ["happy", "surprise"]
    # the same store moved to another folder is the same store
    moved = ClipStore.open(shutil.copytree(tiny.root, tmp_path / "moved"))
    assert fit(fan_cfg(), moved, SPLIT, trained) == json.loads(before)


def test_run_written_before_store_records_is_checked_by_its_test_clips(tiny, trained, tmp_path):
    legacy = Path(shutil.copytree(trained, tmp_path / "legacy"))
    (legacy / "store.json").unlink()
    assert fit(fan_cfg(), tiny, SPLIT, legacy)["accuracy"] == json.loads((trained / "metrics.json").read_text())["accuracy"]
    assert (legacy / "store.json").is_file()  # recorded now
    (legacy / "store.json").unlink()
    with pytest.raises(RunDirError, match="do not fit the clip store"):
        fit(fan_cfg(), tiny, Split("f0", np.array([0, 1, 4, 5]), np.array([2, 3])), legacy)


# --------------------------------------------------------------------------- 5: bad overrides write nothing

def test_bad_overrides_fail_naming_the_key_and_write_nothing(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "--store", str(tiny.root), "--out", str(out), "--method", "fan", *COMMON, "--set", "init_trunk="]
    assert main([*base, "--model-set", "hidden_sizee=8"]) == 2
    assert "hidden_sizee" in capsys.readouterr().err and not out.exists()
    assert main([*base, "--set", "seed=abc"]) == 2
    err = capsys.readouterr().err
    assert "seed='abc'" in err and "an int" in err and not out.exists()
    assert main([*base, "--set", "batch_size=big"]) == 2
    err = capsys.readouterr().err
    assert "batch_size='big'" in err and "an int" in err and not out.exists()
    assert main([*base, "--set", "seed=3"]) == 0  # the corrected command runs
    assert json.loads((out / "config.json").read_text())["seed"] == 3


def test_config_values_are_checked_against_the_field_types():
    for bad, key in ((dict(seed="abc"), "seed"), (dict(lr="fast"), "lr"), (dict(augment=1), "augment"),
                     (dict(milestones=[3, "x"]), "milestones"), (dict(betas=0.9), "betas"), (dict(sampler=3), "sampler")):
        with pytest.raises(ValueError, match=f"config field {key}=.*expected"):
            resolve_config("fan", "demo", **bad)
    cfg = resolve_config("fan", "demo", epochs=3.0, lr=1, betas=[1, 0.99])
    assert cfg.epochs == 3 and isinstance(cfg.epochs, int) and cfg.lr == 1.0 and cfg.betas == [1.0, 0.99]
    with pytest.raises(ValueError, match="config field epochs=2.5"):
        TrainConfig(method="fan", epochs=2.5)


def test_model_arguments_are_checked_before_the_run_folder_is_made(tiny, tmp_path):
    with pytest.raises(ValueError, match="hidden_sizee"):
        fit(fan_cfg(model_overrides={"hidden_sizee": 8}), tiny, SPLIT, tmp_path / "run")
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- 6: --out is a file

@pytest.mark.parametrize("command", ["train", "cv", "ablate", "evaluate"])
def test_out_that_is_a_file_fails_in_one_line(tiny, trained, tmp_path, capsys, command):
    target = tmp_path / "taken.txt"
    target.write_text("not a folder")
    extra = {"train": ["--method", "fan", *COMMON], "cv": ["--method", "fan", "--folds", "0", *COMMON],
             "ablate": ["--grid", "fan_variants", "--folds", "0", *COMMON],
             "evaluate": ["--checkpoint", str(trained / "best.pt")]}[command]
    for out in (target, target / "sub"):
        assert main([command, "--store", str(tiny.root), "--out", str(out), *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and str(target) in err and "file" in err, err
    assert target.read_text() == "not a folder"


# --------------------------------------------------------------------------- 8: notebook list parameters

def test_list_parameters_accept_papermill_string_forms():
    from ferlib.notebook_params import parse_folds, parse_list

    assert parse_folds("[0, 1]") == [0, 1] and parse_folds([2]) == [2] and parse_folds(None) is None
    assert parse_folds("None") is None and parse_folds(0) == [0] and parse_folds("0,1") == [0, 1]
    assert parse_list("tables", '["nope"]') == ["nope"]  # not ['[', '"', 'n', ...]
    assert parse_list("methods", "[fan, fer_gcn]") == ["fan", "fer_gcn"] and parse_list("methods", "fan") == ["fan"]
    with pytest.raises(ValueError, match=r"notebook parameter folds='\[-1\]'.*fold positions"):
        parse_folds("[-1]")
    with pytest.raises(ValueError, match="notebook parameter folds=True"):
        parse_folds(True)
    with pytest.raises(ValueError, match="methods entry"):
        parse_list("methods", "[fan, nope]", choices=("fan", "fer_gcn"))


def _readme_papermill_lines() -> list[str]:
    lines = [ln.strip() for ln in (REPO / "README.md").read_text().splitlines()]
    found = [ln for ln in lines if ln.startswith(".venv/bin/papermill ")]
    assert found, "the README shows no papermill command"
    return found


def test_readme_papermill_parameters_are_accepted_as_papermill_passes_them(monkeypatch):
    """Every README papermill line, parsed by papermill's own command line: its list parameters
    pass the notebooks' checks."""
    import papermill.cli
    from click.testing import CliRunner

    from ferlib.notebook_params import parse_folds, parse_list

    seen: list[dict] = []
    monkeypatch.setattr(papermill.cli, "execute_notebook", lambda **kw: seen.append(kw["parameters"]))
    for line in _readme_papermill_lines():
        args = shlex.split(line.split("#")[0])[1:]
        result = CliRunner().invoke(papermill.cli.papermill, args)
        assert result.exit_code == 0, (line, result.output)
        params = seen[-1]
        if "folds" in params:
            assert all(isinstance(f, int) for f in parse_folds(params["folds"])), line
        for key in ("tables", "methods", "return_train"):
            if key in params:
                assert parse_list(key, params[key]), line
    assert any(isinstance(p.get("folds"), str) for p in seen), "the README no longer shows the -p folds string form"


@pytest.mark.slow
def test_readme_papermill_command_runs_as_written_in_the_smoke_profile(tmp_path):
    """The README's smoke-profile papermill lines, run as written (notebook and output path made
    absolute; data, runs and figures land in the working folder, a temporary one here)."""
    smoke = [ln for ln in _readme_papermill_lines() if "-p profile smoke" in ln]
    assert smoke, "the README shows no smoke-profile papermill line"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    for line in smoke:
        args = shlex.split(line.split("#")[0])
        nb, out = REPO / args[1], tmp_path / Path(args[2]).name
        proc = subprocess.run([sys.executable, "-m", "papermill", str(nb), str(out), *args[3:], "--no-progress-bar"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{line}\n{proc.stderr[-3000:]}"
        figures = args[args.index("figures_dir") + 1]
        assert list((tmp_path / figures).glob("*.png")) and not (tmp_path / "figures").exists()
    # 9: the notebook's folds: [99] names the fold positions that exist
    nb = REPO / "notebooks" / "05_stgcn.ipynb"
    proc = subprocess.run([sys.executable, "-m", "papermill", str(nb), str(tmp_path / "bad.ipynb"), "-p", "profile", "smoke",
                           "-p", "train", "False", "-y", "folds: [99]", "--no-progress-bar"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode != 0
    assert "IndexError" not in proc.stderr and "fold 99 is not one of the 3 folds" in proc.stderr, proc.stderr[-3000:]


# --------------------------------------------------------------------------- 9: fold positions that do not exist

def test_missing_fold_position_names_the_folds_that_exist(tiny, tmp_path):
    from ferlib.workbook import run_method

    for train in (False, True):
        with pytest.raises(ValueError, match=r"folds=\[99\].*positions 0..2 or names \['fold01', 'fold02', 'fold03'\]"):
            run_method("stgcn", tiny, "smoke", tmp_path / "runs", train=train, folds=[99])
    assert not (tmp_path / "runs").exists()


# --------------------------------------------------------------------------- 10: evaluate's checks come first

def test_evaluate_checks_its_output_folder_before_anything_else(tiny, trained, tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    with pytest.raises(RunDirError, match="not empty"):
        evaluate(tmp_path / "missing.pt", tiny, out_dir=full, progress=False)  # the folder is checked first


def test_checkpoint_that_is_a_directory_is_called_one(tiny, trained, tmp_path, capsys):
    with pytest.raises(CheckpointError, match=r"is a directory.*best.pt"):
        evaluate(trained, tiny, progress=False)
    assert main(["evaluate", "--store", str(tiny.root), "--out", str(tmp_path / "ev"), "--checkpoint", str(trained)]) == 2
    assert "is a directory" in capsys.readouterr().err and not (tmp_path / "ev").exists()


# --------------------------------------------------------------------------- 11: small test folds

def test_small_test_fold_is_warned_about(tiny, tmp_path, capsys):
    with pytest.warns(UserWarning, match=r"small test fold 'f0'.*'happy': 1, 'surprise': 1") as seen:
        fit(fan_cfg(), tiny, SPLIT, tmp_path / "run")
    out = capsys.readouterr()
    assert "small test fold" not in out.out + out.err  # said once, as the warning, not printed again beside it
    from ferlib.train.guards import SmallDataWarning, warn_small_test_fold

    assert sum(issubclass(w.category, SmallDataWarning) for w in seen) == 1
    index = tiny.index()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_small_test_fold(index, SPLIT, minimum=1) == {}


def test_small_test_fold_is_warned_about_when_runs_are_only_read(tiny, tmp_path):
    from ferlib.workbook import run_method

    run_method("stgcn", tiny, "smoke", tmp_path / "runs", seed=0)
    with pytest.warns(UserWarning, match="small test fold 'fold01'"):
        table = run_method("stgcn", tiny, "smoke", tmp_path / "runs", train=False)
    assert "fold01" in table.index


# --------------------------------------------------------------------------- 12: classes by name, --threads

def _relabelled_copy(src: ClipStore, root: Path, classes: tuple[str, ...], rename: dict[str, str],
                     keep: set[str] | None = None) -> ClipStore:
    """``src``'s clips in a store with another label set: class ``c`` becomes ``rename[c]``."""
    dst = ClipStore.create(root, "other-set", classes)
    for cid in src.clip_ids():
        rec = src.read(cid, mmap=False)
        name = rename[src.classes[rec.label]]
        if keep is not None and name not in keep:
            continue
        row = {k: v for k, v in rec.meta.items() if k not in ("arrays", "extra", "height", "width", "n_frames")}
        row["label"] = classes.index(name)
        dst.write(row, rec.frames, rec.landmarks, rec.flags, rec.intensity)
    return dst


def test_evaluate_matches_classes_by_name(tiny, trained, tmp_path):
    ref = evaluate(trained / "best.pt", tiny, out_dir=tmp_path / "ref", progress=False)
    ref_pred = pd.read_csv(tmp_path / "ref" / "predictions.csv").set_index("clip_id")
    # another order, another case, and a class the model never saw (one clip of it)
    other = _relabelled_copy(tiny, tmp_path / "other", ("fear", "Surprise", "HAPPY"), {"happy": "HAPPY", "surprise": "Surprise"})
    rec = tiny.read(tiny.clip_ids()[0], mmap=False)
    other.write({**{k: v for k, v in rec.meta.items() if k not in ("arrays", "extra", "height", "width", "n_frames")},
                 "clip_id": "extra_fear", "label": 0}, rec.frames, rec.landmarks, rec.flags, rec.intensity)
    m = evaluate(trained / "best.pt", other, out_dir=tmp_path / "ev", progress=False)
    assert m["unmatched_data_classes"] == ["fear"] and m["n_left_out"] == 1 and m["unmatched_checkpoint_classes"] == []
    assert m["n"] == ref["n"] == 6 and m["accuracy"] == ref["accuracy"] and m["classes"] == ["Surprise", "HAPPY"]
    pred = pd.read_csv(tmp_path / "ev" / "predictions.csv").set_index("clip_id").loc[ref_pred.index]
    assert list(pred["pred_name"].str.lower()) == list(ref_pred["pred_name"])
    np.testing.assert_allclose(pred["prob_HAPPY"], ref_pred["prob_happy"], atol=1e-6)
    # a store without 'surprise': that score is dropped, every clip is predicted among the shared classes
    only = _relabelled_copy(tiny, tmp_path / "only", ("happy", "sad"), {"happy": "happy", "surprise": "sad"}, keep={"happy"})
    m = evaluate(trained / "best.pt", only, out_dir=tmp_path / "ev2", progress=False)
    assert m["unmatched_checkpoint_classes"] == ["surprise"] and m["unmatched_data_classes"] == ["sad"]
    assert m["n"] == 3 and m["accuracy"] == 1.0
    np.testing.assert_allclose(pd.read_csv(tmp_path / "ev2" / "predictions.csv")["prob_happy"], 1.0, atol=1e-6)


def test_threads_option_sets_torch_threads(tiny, trained, tmp_path, capsys):
    before = torch.get_num_threads()
    try:
        assert main(["evaluate", "--store", str(tiny.root), "--out", str(tmp_path / "ev"), "--checkpoint",
                     str(trained / "best.pt"), "--threads", "2"]) == 0
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    for command in ("train", "cv", "ablate"):
        with pytest.raises(SystemExit):
            main([command, "--store", str(tiny.root), "--out", str(tmp_path / "x"), "--threads", "0"])
        assert "--threads" in capsys.readouterr().err
