"""What a hostile but realistic user does, run as subprocesses: odd file names, resumes with other
settings, bad global options, diverging training, corrupt files ferlib wrote itself. Each case
asserts the command's exit status, the one line it prints, and what it left on disk.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ferlib.cli import main as cli_main
from ferlib.data.store import ClipStore

REPO = Path(__file__).resolve().parents[1]


def ferlib(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m ferlib ARGS`` in a fresh process; text output."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "ferlib", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, errors="replace", timeout=timeout)


def error_line(proc: subprocess.CompletedProcess) -> str:
    """The one ``error:`` line of a refused command (and nothing that looks like a traceback)."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def run_here(capsys, *args: str) -> subprocess.CompletedProcess:
    """``python -m ferlib ARGS`` in this process (cheaper than a subprocess where no kill or crash is involved)."""
    capsys.readouterr()
    rc = cli_main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, rc, out, err)


@pytest.fixture(scope="module")
def afew_root(tmp_path_factory) -> Path:
    """Nine generated clips (3 subjects x 3 classes, 8 frames of 64x64) as AFEW-layout .avi files."""
    from ferlib.synth.export import export_layout
    from ferlib.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("hostile")
    truth = generate(root / "truth", SynthConfig(n_subjects=3, n_frames=8, side=64, classes=("happy", "sad", "anger")),
                     progress=False)
    export_layout(truth, root / "afew", "afew")
    return root / "afew"


def _preprocess(root: Path, out: Path, *extra: str) -> list[str]:
    return ["preprocess", "--dataset", "afew", "--root", str(root), "--out", str(out), "--detect-every", "4",
            "--side", "48", "--quiet", *extra]


# -- 1: a file name that is not valid UTF-8 ------------------------------------------------------
@pytest.mark.skipif(sys.platform != "linux", reason="Linux file names are bytes; other systems refuse such names")
@pytest.mark.parametrize("workers", ["1", pytest.param("2", marks=pytest.mark.slow)])
def test_video_whose_name_is_not_utf8_is_stored(afew_root, tmp_path, workers):
    root = tmp_path / "afew"
    shutil.copytree(afew_root / "Train_AFEW" / "Happy", root / "Train_AFEW" / "Happy")  # two clips keep the run short
    happy = root / "Train_AFEW" / "Happy"
    victim = sorted(happy.iterdir())[0]
    os.rename(os.fsencode(victim), os.fsencode(happy) + b"/\xff\xfe_S000.avi")  # cv2.VideoCapture crashed on it
    proc = ferlib(*_preprocess(root, tmp_path / "out", "--workers", workers))
    assert proc.returncode == 0, proc.stderr
    store = ClipStore.open(tmp_path / "out")
    assert len(store.clip_ids()) == 2 and store.failures().empty
    odd = [c for c in store.clip_ids() if "S000" in c and "Happy" in c and "lab" not in c]
    assert len(odd) == 1 and store.read(odd[0]).n_frames == 8


# -- 3: a store's settings are part of its identity ----------------------------------------------
def test_resume_with_other_preprocess_settings_is_refused_naming_them(afew_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_here(capsys, *_preprocess(afew_root, out, "--workers", "1", "--limit", "3")).returncode == 0
    before = sorted(p.name for p in (out / "clips").iterdir())
    line = error_line(run_here(capsys, "preprocess", "--dataset", "afew", "--root", str(afew_root), "--out", str(out),
                             "--side", "64", "--detect-every", "2", "--workers", "1", "--quiet"))
    assert "side=48 there vs 64 now" in line and "detect_every=4 there vs 2 now" in line
    assert sorted(p.name for p in (out / "clips").iterdir()) == before
    # the same settings resume
    assert run_here(capsys, *_preprocess(afew_root, out, "--workers", "1")).returncode == 0
    assert {ClipStore.open(out).read(c).frames.shape[1] for c in ClipStore.open(out).clip_ids()} == {48}


def test_store_written_before_settings_were_recorded_is_compared_with_its_entries(afew_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_here(capsys, *_preprocess(afew_root, out, "--workers", "1", "--limit", "2")).returncode == 0
    manifest = json.loads((out / "store.json").read_text())
    del manifest["settings"]
    (out / "store.json").write_text(json.dumps(manifest))
    line = error_line(run_here(capsys, *_preprocess(afew_root, out, "--workers", "1", "--extend", "0.5")))
    assert "extend=0.25 there vs 0.5 now" in line and "meta.json" in line


# -- 5: a bad global option is the command's error, not every clip's failure ---------------------
@pytest.mark.parametrize("option, named", [
    (["--predictor", "{junk}"], "--predictor"),
    (["--extend", "-2"], "extend"),
    (["--threshold", "nan"], "threshold"),
])
def test_bad_global_preprocess_option_fails_before_any_clip(afew_root, tmp_path, capsys, option, named):
    junk = tmp_path / "hostname"
    junk.write_text("not a model\n")
    out = tmp_path / "out"
    line = error_line(run_here(capsys, *_preprocess(afew_root, out, "--workers", "1",
                                          *[o.format(junk=junk) for o in option])))
    assert named in line
    assert not out.exists()  # nothing written: the corrected command starts clean
    assert run_here(capsys, *_preprocess(afew_root, out, "--workers", "1", "--limit", "2")).returncode == 0
    assert len(ClipStore.open(out).clip_ids()) == 2


# -- 4, 7: synth options that name one class twice or a negative count ---------------------------
@pytest.mark.parametrize("option, named", [
    (["--classes", "happy,joy,sad"], "['happy', 'joy'] are all 'happy'"),
    (["--clips-per-subject", "-1"], "--clips-per-subject"),
])
def test_bad_synth_option_is_refused_before_the_folder_is_made(tmp_path, capsys, option, named):
    out = tmp_path / "s"
    line = error_line(run_here(capsys, "synth", "--subjects", "2", "--frames", "4", "--side", "32", "--out", str(out), *option))
    assert named in line
    assert not out.exists()


def test_store_naming_a_class_twice_is_refused_by_every_reader(small_store, tmp_path, capsys):
    store = tmp_path / "s"
    shutil.copytree(small_store.root, store)
    manifest = json.loads((store / "store.json").read_text())
    manifest["classes"][1] = manifest["classes"][0]
    (store / "store.json").write_text(json.dumps(manifest))
    checked = run_here(capsys, "check-store", str(store))
    assert checked.returncode == 1 and "['anger'] more than once" in checked.stdout
    line = error_line(run_here(capsys, "train", "--store", str(store), "--method", "stgcn", "--out", str(tmp_path / "r")))
    assert "store.json" in line and "more than once" in line
    assert not (tmp_path / "r").exists()


# -- 2, 6, 13, 17, 20: training -----------------------------------------------------------------
TRAIN = ["--protocol-arg", "k=3", "--set", "epochs=2", "--set", "batch_size=4", "--set", "progress=false"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    from ferlib.synth import SynthConfig, generate

    root = tmp_path_factory.mktemp("tiny") / "store"
    generate(root, SynthConfig(n_subjects=3, n_frames=4, side=32, classes=("happy", "surprise"), seed=0), progress=False)
    return root


def test_diverging_training_stops_naming_the_epoch_and_reports_nothing(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    line = error_line(run_here(capsys, "train", "--store", str(tiny), "--out", str(out), "--method", "stgcn", *TRAIN,
                               "--set", "lr=1e10"))
    assert "diverged in epoch" in line and "no metrics are reported" in line
    assert not (out / "metrics.json").exists() and not (out / "predictions.csv").exists()


def test_corrupt_cached_demo_trunk_is_refused_before_the_run_folder_is_written(tiny, tmp_path, capsys, monkeypatch):
    from ferlib.models.backbones import replace_sealed
    from ferlib.models.synth_frames import frame_pretrained_path

    cache = tmp_path / "cache"
    made = frame_pretrained_path(cache)
    made.parent.mkdir(parents=True)
    tmp = made.with_suffix(".tmp")
    shutil.copy(frame_pretrained_path(Path(os.environ["FERLIB_CACHE"])), tmp)
    replace_sealed(tmp, made)  # as frame_pretrained leaves it
    monkeypatch.setenv("FERLIB_CACHE", str(cache))
    data = bytearray(made.read_bytes())
    data[-4096:] = bytes(4096)  # 4 KB overwritten
    made.write_bytes(bytes(data))
    out = tmp_path / "run"
    line = error_line(run_here(capsys, "train", "--store", str(tiny), "--out", str(out), "--method", "fan",
                               "--profile", "demo", *TRAIN, "--set", "init_trunk=synth-frames"))
    assert str(made) in line and "changed after ferlib wrote it" in line
    assert not out.exists()


def test_unreadable_init_from_fails_before_anything_is_written(tiny, tmp_path, capsys):
    bad = tmp_path / "best.pt"
    bad.write_bytes(b"PK\x03\x04 not a checkpoint")
    out = tmp_path / "run"
    line = error_line(run_here(capsys, "train", "--store", str(tiny), "--out", str(out), "--method", "stgcn", *TRAIN,
                               "--set", f"init_from={bad}"))
    assert str(bad) in line and not out.exists()
    assert run_here(capsys, "train", "--store", str(tiny), "--out", str(out), "--method", "stgcn", *TRAIN,
                    "--set", "epochs=1").returncode == 0


def test_checkpoint_changed_after_it_was_written_is_refused(tiny, tmp_path, capsys):
    from ferlib.train.checkpoint import CheckpointError, load_checkpoint

    out = tmp_path / "run"
    assert run_here(capsys, "train", "--store", str(tiny), "--out", str(out), "--method", "stgcn", *TRAIN).returncode == 0
    load_checkpoint(out / "last.pt")
    data = bytearray((out / "last.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte flipped inside a tensor
    (out / "last.pt").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="changed after ferlib wrote it"):
        load_checkpoint(out / "last.pt")


def test_pickled_checkpoint_is_refused_without_advice_to_unpickle_it(tmp_path):
    import argparse

    import torch

    from ferlib.train.checkpoint import CheckpointError, load_checkpoint

    path = tmp_path / "evil.pt"
    torch.save({"format": "ferlib-checkpoint", "payload": argparse.Namespace(x=1)}, path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    text = str(err.value)
    assert "code-bearing" in text and "argparse.Namespace" in text and "not loaded" in text
    assert "weights_only" not in text and "\n" not in text


def test_store_that_differs_only_in_its_frames_is_another_store(tiny, tmp_path, capsys):
    from ferlib.train.guards import store_fingerprint

    other = tmp_path / "inverted"
    shutil.copytree(tiny, other)
    src, dst = ClipStore.open(tiny), ClipStore.open(other)
    for cid in src.clip_ids():  # same meta, same landmarks, frames 255 - x
        rec = src.read(cid, mmap=False)
        row = {k: v for k, v in rec.meta.items() if k not in ("arrays", "files", "extra", "height", "width", "n_frames")}
        dst.write(row, 255 - rec.frames, rec.landmarks, rec.flags, rec.intensity, extra=rec.meta["extra"], overwrite=True)
    assert store_fingerprint(src) != store_fingerprint(dst)


# -- 6, 8, 17: options that name no key, or fail late --------------------------------------------
@pytest.mark.parametrize("extra, named", [
    (["--set", "num_frames=0"], "num_frames"),
    (["--set", "seed=-5"], "seed"),
    (["--protocol-arg", "kk=5"], "--protocol-arg kk"),
])
@pytest.mark.parametrize("command", ["train", "cv"])
def test_bad_training_option_is_one_line_naming_it_before_anything_is_written(tiny, tmp_path, capsys, command, extra,
                                                                               named):
    out = tmp_path / "run"
    line = error_line(run_here(capsys, command, "--store", str(tiny), "--out", str(out), "--method", "stgcn",
                               "--protocol-arg", "k=3", "--set", "epochs=1", "--set", "progress=false", *extra))
    assert named in line
    assert not out.exists() or not any(out.rglob("config.json"))


def test_evaluate_with_unknown_protocol_arg_names_it(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_here(capsys, "train", "--store", str(tiny), "--out", str(out), "--method", "stgcn", *TRAIN,
                    "--set", "epochs=1").returncode == 0
    line = error_line(run_here(capsys, "evaluate", "--store", str(tiny), "--checkpoint", str(out / "best.pt"),
                               "--out", str(tmp_path / "ev"), "--fold", "0", "--protocol-arg", "kk=5"))
    assert "--protocol-arg kk" in line


def test_adapter_option_of_the_wrong_kind_is_one_line(afew_root, tmp_path, capsys):
    line = error_line(run_here(capsys, *_preprocess(afew_root, tmp_path / "out", "--option", "split_dirs=5")))
    assert "--option split_dirs=5" in line and not (tmp_path / "out").exists()


# -- 9, 10, 11, 12, 18: stores and run folders --------------------------------------------------
def _copy(store: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "store"
    shutil.copytree(store, dst)
    return dst


@pytest.mark.parametrize("workers", ["0", pytest.param("2", marks=pytest.mark.slow)])
def test_truncated_landmarks_name_the_file_in_one_line(tiny, tmp_path, capsys, workers):
    store = _copy(tiny, tmp_path)
    victim = sorted((store / "clips").iterdir())[0] / "landmarks.npy"
    victim.write_bytes(victim.read_bytes()[:40])
    for command in ("train", "cv"):
        line = error_line(run_here(capsys, command, "--store", str(store), "--out", str(tmp_path / command), "--method",
                                   "stgcn", *TRAIN, "--set", f"num_workers={workers}"))
        assert str(victim) in line


def test_store_of_another_generator_version_is_refused_by_readers(tiny, tmp_path, capsys):
    store = _copy(tiny, tmp_path)
    for version in (0, 7):
        manifest = json.loads((store / "synth.json").read_text())
        manifest["generator"] = version
        (store / "synth.json").write_text(json.dumps(manifest))
        line = error_line(run_here(capsys, "train", "--store", str(store), "--out", str(tmp_path / "r"), "--method",
                                   "stgcn", *TRAIN))
        assert f"generator version {version}" in line and not (tmp_path / "r").exists()
        checked = run_here(capsys, "check-store", str(store))
        assert checked.returncode == 1 and f"generator version {version}" in checked.stdout


def test_run_folder_inside_the_store_is_refused(tiny, tmp_path, capsys):
    store = _copy(tiny, tmp_path)
    line = error_line(run_here(capsys, "train", "--store", str(store), "--out", str(store / "clips" / "newrun"),
                               "--method", "stgcn", *TRAIN))
    assert "inside the clip store" in line
    assert not (store / "clips" / "newrun").exists()
    assert ClipStore.open(store).clip_ids()  # still readable


def test_corrupt_metrics_json_is_named(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--store", str(tiny), "--out", str(out), "--method", "stgcn", *TRAIN, "--set", "epochs=1"]
    assert run_here(capsys, *args).returncode == 0
    (out / "metrics.json").write_text('{"accuracy": 0.5,')
    assert str(out / "metrics.json") in error_line(run_here(capsys, *args))


# -- 14, 15: concurrent writers and a full disk -----------------------------------------------
def test_second_synth_writer_on_the_same_folder_is_not_an_error(tmp_path, monkeypatch):
    gen = importlib.import_module("ferlib.synth.generate")  # the module (ferlib.synth.generate is also a function)

    cfg = gen.SynthConfig(n_subjects=1, n_frames=4, side=32, classes=("happy", "sad"))
    expected = gen.generate(tmp_path / "ref", cfg, progress=False)
    render = gen.generate_clip

    def raced(*args, **kwargs):  # the other run stores each clip while this one renders it
        clip = render(*args, **kwargs)
        other = ClipStore.open(tmp_path / "s")
        for cid in expected.clip_ids():
            if not other.has(cid):
                rec = expected.read(cid, mmap=False)
                row = {k: v for k, v in rec.meta.items() if k not in ("arrays", "files", "extra", "height", "width")}
                other.write(row, rec.frames, rec.landmarks, rec.flags, rec.intensity, extra=rec.meta["extra"])
                break
        return clip

    monkeypatch.setattr(gen, "generate_clip", raced)
    store = gen.generate(tmp_path / "s", cfg, progress=False)
    assert {c: store.read(c).frames.tobytes() for c in store.clip_ids()} == {
        c: expected.read(c).frames.tobytes() for c in expected.clip_ids()}


def test_full_disk_names_the_place_and_the_cause(tmp_path, monkeypatch):
    import torch

    from ferlib.data.store import StoreError
    from ferlib.train.checkpoint import CheckpointError, save_checkpoint

    store = ClipStore.create(tmp_path / "s", "d", ("a", "b"))

    def full(*a, **k):
        raise OSError("2176 requested and 2016 written")

    monkeypatch.setattr(np, "save", full)
    with pytest.raises(StoreError) as err:
        store.write({"clip_id": "c", "label": 0, "subject": "s", "source": "x"}, np.zeros((2, 8, 8, 3), np.uint8),
                    np.zeros((2, 68, 2)))
    assert str(store.root) in str(err.value) and "disk full" in str(err.value)
    assert not any((store.root / "clips").iterdir())

    def enforce(*a, **k):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", enforce)
    with pytest.raises(CheckpointError) as err:
        save_checkpoint(tmp_path / "run" / "last.pt", {"model": {}})
    assert "last.pt" in str(err.value) and str(tmp_path / "run") in str(err.value) and "disk full" in str(err.value)
    assert not list((tmp_path / "run").iterdir())


def test_store_error_raised_in_a_loader_worker_is_one_line():
    from torch._utils import ExceptionWrapper

    from ferlib.cli import one_line
    from ferlib.data.store import StoreError

    try:
        raise StoreError("/s/clips/c/landmarks.npy is truncated or corrupt; re-create clip 'c'")
    except StoreError:
        wrapped = ExceptionWrapper(where="in DataLoader worker process 1")
    with pytest.raises(StoreError) as err:
        wrapped.reraise()  # what the DataLoader raises in the main process
    assert str(err.value).count("\n") > 3
    assert one_line(err.value) == "/s/clips/c/landmarks.npy is truncated or corrupt; re-create clip 'c'"


# -- 19: Ctrl-C ----------------------------------------------------------------------------------
def test_ctrl_c_is_one_line_saying_how_to_resume(tmp_path, capsys, monkeypatch):
    import ferlib.synth.cli as synth_cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(synth_cli, "run", interrupted)
    proc = run_here(capsys, "synth", "--out", str(tmp_path / "s"))
    assert proc.returncode == 130 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "run the same command again" in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a process")
def test_ctrl_c_prints_one_line_saying_how_to_resume(tmp_path):
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    out = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, "-m", "ferlib", "synth", "--subjects", "400", "--frames", "8", "--side", "32",
                             "--out", str(out)], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # as from a terminal: a shell's background job (CI) starts children with SIGINT ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (out / "clips").is_dir() or not any((out / "clips").iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "run the same command again to resume" in err
    assert len([ln for ln in err.splitlines() if ln.strip() and "synth" not in ln[:6]]) <= 2, err


# -- 16: the README's smoke line ---------------------------------------------------------------
def test_readme_smoke_papermill_lines_keep_their_figures_out_of_figures():
    import shlex

    lines = [ln.strip() for ln in (REPO / "README.md").read_text().splitlines()
             if ln.strip().startswith(".venv/bin/papermill ") and "profile smoke" in ln]
    assert lines
    for line in lines:
        args = shlex.split(line.split("#")[0])
        assert "figures_dir" in args, line
        target = Path(args[args.index("figures_dir") + 1])
        assert target.parts[0] != "figures", line


def test_kill_between_the_seal_and_the_rename_leaves_a_pair_that_checks(tmp_path, monkeypatch):
    import ferlib.models.backbones as backbones

    final = tmp_path / "last.pt"
    for content in (b"epoch 1", b"epoch 2"):
        tmp = tmp_path / "tmp"
        tmp.write_bytes(content)
        backbones.replace_sealed(tmp, final)
    tmp.write_bytes(b"epoch 3")
    real = os.replace

    def killed(src, dst):
        if Path(dst) == final:
            raise KeyboardInterrupt  # the kill lands after the record, before the file
        real(src, dst)

    monkeypatch.setattr(backbones.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        backbones.replace_sealed(tmp, final)
    monkeypatch.undo()
    backbones.check_sealed(final)  # epoch 2's file still checks
    final.write_bytes(b"epoch 9")
    with pytest.raises(backbones.SealError, match="changed after ferlib wrote it"):
        backbones.check_sealed(final)


def test_corrupt_trunk_file_fails_before_anything_is_written(tiny, tmp_path, capsys):
    bad = tmp_path / "trunk.pt"
    bad.write_bytes(b"PK\x03\x04" + bytes(64))
    out = tmp_path / "run"
    line = error_line(run_here(capsys, "train", "--store", str(tiny), "--out", str(out), "--method", "fan",
                               "--profile", "demo", *TRAIN, "--trunk", str(bad)))
    assert str(bad) in line and not out.exists()


def test_reproduce_into_a_store_of_other_settings_is_refused(afew_root, tmp_path, capsys):
    from ferlib.data.store import StoreError
    from ferlib.data.adapters import load_index
    from ferlib.reproduce import make_store

    out = tmp_path / "store"
    assert run_here(capsys, *_preprocess(afew_root, out, "--workers", "1", "--limit", "2")).returncode == 0
    with pytest.raises(StoreError, match="side=48 there vs 64 now"):
        make_store("afew", afew_root, out, None, load_index("afew", afew_root), side=64, workers=1, progress=False)
    assert len(ClipStore.open(out).clip_ids()) == 2
