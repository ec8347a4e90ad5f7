"""``reproduce``: a data set on disk → its store → each method's recipe → the paper's table beside ours."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ferlib.data.adapters import LayoutError
from ferlib.reproduce import PlanError, reproduce
from ferlib.synth import SynthConfig, generate
from ferlib.synth.export import export_layout
from ferlib.train.recipes import RecipeError
from test_adapters import make_ckplus, make_dfew


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A generated set (4 subjects × 7 classes, 8 frames) written in CK+'s and AFEW's layouts."""
    root = tmp_path_factory.mktemp("reproduce")
    store = generate(root / "synth", SynthConfig(n_subjects=4, n_frames=8, side=64, seed=5), progress=False)
    export_layout(store, root / "ck", "ckplus")
    export_layout(store, root / "afew", "afew")
    return root


def _lines(capsys) -> str:
    return capsys.readouterr().out


def test_dry_run_on_a_ckplus_tree_picks_each_methods_protocol(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_ckplus(tmp_path / "CK+", n_subjects=60)
    assert reproduce("all", "ckplus", tmp_path / "CK+", dry_run=True, estimate=False, init_trunk="") == {}
    out = _lines(capsys)
    assert "dry run: nothing trained" in out
    with pytest.raises(PlanError, match="2 errors"):  # the recipes' trunks are not in this machine's cache
        reproduce("all", "ckplus", tmp_path / "CK+", dry_run=True, estimate=False)
    out = _lines(capsys)
    assert out.count("  ERROR      ") == 2 and out.count("init_trunk='emotion-fan'") == 1
    fan, fer_gcn = out.split("fer_gcn on ckplus")
    assert "fan on ckplus — recipe 'ckplus'" in fan and "fan_ckplus {'k': 10}" in fan and "lr 0.1" in fan
    assert "test all" in fan and "batch 48" in fan and "emotion-fan" in fan
    assert "subject_kfold {'k': 10}" in fer_gcn and "augmentation resize_crop" in fer_gcn and "120 epochs" in fer_gcn
    assert "dry run: nothing trained" not in out
    assert not (tmp_path / "runs").exists() and not (tmp_path / "data").exists()


def test_dry_run_official_recipe_and_dfew_folds(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_ckplus(tmp_path / "CK+", n_subjects=60)
    reproduce("fan", "ckplus", tmp_path / "CK+", dry_run=True, recipe="official", estimate=False, init_trunk="")
    assert "recipe 'ckplus:official'" in _lines(capsys)
    make_dfew(tmp_path / "DFEW", n=20)
    reproduce("all", "dfew", tmp_path / "DFEW", dry_run=True, estimate=False, init_trunk="")
    out = _lines(capsys)
    assert "kp_gcn_msa on dfew" in out and "official_folds {'column': 'fold'}" in out and "folds      5 run" in out
    assert "batch 64" in out and "80 epochs" in out and "tsn / test tsn" in out


def test_bad_input_is_named_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_ckplus(tmp_path / "CK+", n_subjects=60)
    with pytest.raises(RecipeError, match=r"'stgcn' has no 'paper' recipe for data set 'ckplus'.*affwild2"):
        reproduce("stgcn", "ckplus", tmp_path / "CK+")
    with pytest.raises(ValueError, match="unknown method 'vgg'"):
        reproduce("vgg", "ckplus", tmp_path / "CK+")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LayoutError, match="empty"):
        reproduce("fan", "ckplus", tmp_path / "empty")
    with pytest.raises(RecipeError, match="no paper reports data set 'london'"):
        reproduce("all", "london", tmp_path / "CK+")
    unnamed = generate(tmp_path / "unnamed", SynthConfig(n_subjects=2, n_frames=4, side=32), progress=False)
    meta = json.loads((unnamed.root / "store.json").read_text())
    (unnamed.root / "store.json").write_text(json.dumps({**meta, "dataset": ""}))
    with pytest.raises(ValueError, match="records no data set"):
        reproduce("fan", store=unnamed.root)
    assert not (tmp_path / "runs").exists() and not (tmp_path / "data").exists()


@pytest.mark.slow
def test_smoke_runs_end_to_end_on_ckplus_and_afew_layouts(exported, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    res = reproduce("fan", "ckplus", exported / "ck", store=tmp_path / "ck_store", smoke=True, estimate=False)
    out = _lines(capsys)
    assert "protocol   subject_kfold" in out and "test all" in out
    assert "epoch=1 train_loss=" in out  # --smoke keeps the epoch lines: no minute of silence
    vs = res["fan"]["paper"]
    assert vs.attrs["paper_table"] == "fan_table1" and vs.loc["FAN", "paper, Table 1"] == 99.69
    recorded = json.loads((tmp_path / "ck_store" / "store.json").read_text())
    assert recorded["dataset"] == "ckplus" and recorded["protocol"] == ["fan_ckplus", {"k": 10}]  # the store names its data set
    fold = tmp_path / "runs" / "ck_store" / "fan" / "full@smoke" / "fold01"
    metrics = json.loads((fold / "metrics.json").read_text())
    assert metrics["n_test"] > 0
    for name in ("fan_full_smoke_folds.csv", "fan_full_smoke_vs_paper.md", "fan_full_smoke_vs_paper.png"):
        assert (tmp_path / "figures" / "reproduce" / "ckplus" / name).is_file(), name
    stamp = (fold / "metrics.json").stat().st_mtime_ns
    reproduce("fan", store=tmp_path / "ck_store", smoke=True, estimate=False)  # re-running reads the finished fold
    assert (fold / "metrics.json").stat().st_mtime_ns == stamp
    res = reproduce("fer_gcn", "afew", exported / "afew", store=tmp_path / "afew_store", smoke=True, estimate=False)
    assert "train_test {'train': 'train', 'test': 'val'}" in _lines(capsys)
    assert res["fer_gcn"]["paper"].attrs["paper_table"] == "fer_gcn_table6"


#: the six other layouts: the method whose paper reports the data set, its paper table, adapter options
OTHER_LAYOUTS = {
    "oulu": ("fer_gcn", "fer_gcn_table1", {}),
    "mmi": ("fer_gcn", "fer_gcn_table1", {}),
    "dfew": ("kp_gcn_msa", "kp_table3", {}),
    "ferv39k": ("kp_gcn_msa", "kp_table5", {}),
    "mafw": ("kp_gcn_msa", "kp_table7", {}),
    "affwild2": ("stgcn", "stgcn_affwild2", {"window": 8}),  # generated clips are 8 frames, the post's windows 45
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """5 subjects × 8 classes (neutral and contempt too), 8 frames of 64 px: every layout has its classes."""
    return generate(tmp_path_factory.mktemp("layouts") / "synth",
                    SynthConfig(n_subjects=5, n_frames=8, side=64, seed=7, include_neutral=True), progress=False)


@pytest.mark.slow
@pytest.mark.parametrize("layout", sorted(OTHER_LAYOUTS))
def test_smoke_runs_end_to_end_on_each_generated_layout(layout, generated, tmp_path, monkeypatch, capsys):
    """Adapter → preprocessing (dlib) → the method's recipe → its protocol → the paper's table, in one
    piece on the generated set exported in the layout the data set's authors ship."""
    method, table, options = OTHER_LAYOUTS[layout]
    monkeypatch.chdir(tmp_path)
    export_layout(generated, tmp_path / layout, layout)
    res = reproduce(method, layout, tmp_path / layout, smoke=True, estimate=False, options=options)
    assert res[method]["paper"].attrs["paper_table"] == table
    assert f"{method} on {layout}" in _lines(capsys)
    assert json.loads((tmp_path / "data" / layout / "store.json").read_text())["dataset"] == layout
    assert list((tmp_path / "figures" / "reproduce" / layout).glob(f"{method}_full_smoke_vs_paper.*"))


@pytest.mark.slow
@pytest.mark.fixtures
def test_smoke_on_the_london_set_through_the_command_line(fixtures_dir, tmp_path):
    cmd = [sys.executable, "-m", "ferlib", "reproduce", "stgcn", "--dataset", "london",
           "--root", str(fixtures_dir / "london_frl_subset"), "--smoke"]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "stgcn on london — recipe 'demo'" in done.stdout and "estimate" in done.stdout
    assert "no paper reports stgcn on london" in done.stdout
    assert (tmp_path / "figures" / "reproduce" / "london" / "stgcn_full_smoke_folds.png").is_file()


def _cli(tmp_path, monkeypatch, capsys, *args) -> tuple[int, str, str]:
    """``python -m ferlib reproduce ARGS`` in ``tmp_path`` (in this process): exit status, stdout, stderr."""
    from ferlib.cli import main

    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    rc = main(["reproduce", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_a_missing_trunk_stops_a_real_run_before_preprocessing(tmp_path, monkeypatch, capsys):
    make_ckplus(tmp_path / "CK+", n_subjects=60)
    for extra in ([], ["--dry-run"]):  # a real run and a dry run alike: exit 2, nothing written
        rc, out, err = _cli(tmp_path, monkeypatch, capsys, "fan", "--dataset", "ckplus", "--root", str(tmp_path / "CK+"), *extra)
        assert rc == 2, err[-2000:]
        assert err.count("\n") == 1 and "the plan holds 1 error (the ERROR lines above)" in err
        assert "Emotion-FAN" not in err  # each error is said once, in the plan
        assert out.count("init_trunk='emotion-fan'") == 1 and "ERROR      trunk of fan" in out
        assert "not timed (the plan holds errors)" in out  # no seconds spent timing a plan that cannot run
        assert not (tmp_path / "data").exists() and not (tmp_path / "runs").exists()


def test_trunk_set_and_method_all_options_as_the_readme_says(tmp_path, monkeypatch, capsys):
    make_ckplus(tmp_path / "CK+", n_subjects=60)
    rc, out, err = _cli(tmp_path, monkeypatch, capsys, "--method", "all", "--dataset", "ckplus", "--root", str(tmp_path / "CK+"),
                        "--trunk", "", "--set", "epochs=3", "--set", "batch_size=5", "--dry-run", "--no-estimate")
    assert rc == 0, err[-2000:]
    assert out.count("3 epochs, batch 5") == 2 and out.count("random initialisation") == 2
    rc, out, err = _cli(tmp_path, monkeypatch, capsys, "fan", "--dataset", "ckplus", "--root", str(tmp_path / "CK+"),
                        "--set", "epochz=3", "--dry-run")
    assert rc == 2 and "epochz" in err and not (tmp_path / "data").exists()
    with pytest.raises(ValueError, match=r"--option init_trunk=… is a training config field.*--set init_trunk=… \(or --trunk\)"):
        reproduce("fan", "ckplus", tmp_path / "CK+", dry_run=True, options={"init_trunk": ""})


def test_the_estimate_is_a_median_of_timed_steps_with_its_spread():
    from ferlib.reproduce import time_one_step
    from ferlib.train.recipes import resolve_config

    cfg = resolve_config("fan", "demo", recipe="demo")
    median, (lo, hi), how = time_one_step(cfg, 7, steps=3)
    assert 0 < lo <= median <= hi and "median of 3 timed steps" in how


def test_the_disk_estimate_counts_frames_without_decoding_and_a_full_disk_is_an_error(tmp_path):
    from ferlib.data.adapters import load_index
    from ferlib.reproduce import FRAME_OVERHEAD, check_disk, estimate_store_bytes
    from replicas import make_afew

    make_afew(tmp_path / "AFEW", "distributed")  # 12 clips, 3-frame AVIs
    make_afew(tmp_path / "FAN", "emotion_fan")  # 12 clips, 2-frame JPEG folders
    assert estimate_store_bytes(load_index("afew", tmp_path / "AFEW"), 64) == 12 * 3 * (64 * 64 * 3 + FRAME_OVERHEAD)
    assert estimate_store_bytes(load_index("afew", tmp_path / "FAN"), 32) == 12 * 2 * (32 * 32 * 3 + FRAME_OVERHEAD)
    assert check_disk(tmp_path / "new" / "store", 1) is None
    error = check_disk(tmp_path / "new" / "store", 1 << 60)
    assert error.startswith(f"disk: the store {tmp_path / 'new' / 'store'} needs about") and "GiB free" in error
