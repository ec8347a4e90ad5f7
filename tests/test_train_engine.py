"""fit / evaluate / cross_validate on a tiny store: artefacts, selection, determinism, bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from ferlib.data.protocols import Split
from ferlib.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ferlib.train.config import TrainConfig
from ferlib.train.recipes import resolve_config
from ferlib.train.cv import collate, cross_validate
from ferlib.train.engine import RunDirError, evaluate, fit
from ferlib.train.schedules import build_optimizer, build_scheduler


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """3 subjects × 2 classes, 4 frames of 32×32."""
    from ferlib.synth import SynthConfig, generate

    root = tmp_path_factory.mktemp("tiny") / "store"
    return generate(root, SynthConfig(n_subjects=3, n_frames=4, side=32, classes=("happy", "surprise"), seed=0), progress=False)


SPLIT = Split("f0", np.array([0, 1, 2, 3]), np.array([4, 5]))


def fan_cfg(**kw):
    base = dict(epochs=2, batch_size=2, input_side=32, progress=False, eval_every=1)
    base.update(kw)
    return resolve_config("fan", "demo", **base)


def test_fit_writes_every_artefact(tiny, tmp_path):
    out = tmp_path / "run"
    m = fit(fan_cfg(), tiny, SPLIT, out)
    for name in ("config.json", "metrics.json", "predictions.csv", "byproducts.npz", "best.pt", "last.pt", "timing.json"):
        assert (out / name).is_file(), name
    assert m["n_train"] + m["n_val"] == 4 and m["n_val"] == 2  # one subject carved for validation
    assert len(m["history"]) == 2 and 1 <= m["selected_epoch"] <= 2
    assert m["test_at_best_val"]["accuracy"] == m["accuracy"]
    assert m["best_test_epoch_leaky"] in (1, 2)
    assert m["best_test_accuracy_leaky"] >= max(h["test_accuracy"] for h in m["history"]) - 1e-12
    pred = pd.read_csv(out / "predictions.csv")
    assert list(pred["clip_id"]) == ["lab_S002_00_happy", "lab_S002_01_surprise"]
    np.testing.assert_allclose(pred[["prob_happy", "prob_surprise"]].sum(axis=1), 1.0, atol=1e-5)
    bp = np.load(out / "byproducts.npz")
    # FAN is tested on every frame of the 4-frame clips (FAN Table 1), trained on K = 3 segments
    assert bp["alpha"].shape == (2, 4) and bp["gt_intensity"].shape == (2, 4)
    np.testing.assert_array_equal(bp["frame_idx"], [[0, 1, 2, 3]] * 2)
    np.testing.assert_array_equal(bp["label"], pred["label"])
    ck = torch.load(out / "best.pt", weights_only=True)
    assert ck["classes"] == ["happy", "surprise"] and ck["kind"] == "best"
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["method"] == "fan" and cfg["optimizer"] == "adamw"


def test_same_seed_same_metrics_and_other_seed_differs(tiny, tmp_path):
    a = fit(fan_cfg(seed=3), tiny, SPLIT, tmp_path / "a")
    b = fit(fan_cfg(seed=3), tiny, SPLIT, tmp_path / "b")
    c = fit(fan_cfg(seed=4), tiny, SPLIT, tmp_path / "c")
    assert a == b
    assert a["history"] != c["history"]


def test_finished_run_is_read_back_not_retrained(tiny, tmp_path):
    out = tmp_path / "r"
    m = fit(fan_cfg(epochs=1), tiny, SPLIT, out)
    stamp = (out / "last.pt").stat().st_mtime_ns
    assert fit(fan_cfg(epochs=1), tiny, SPLIT, out) == m
    assert (out / "last.pt").stat().st_mtime_ns == stamp


def test_other_experiment_in_folder_is_refused_untouched(tiny, tmp_path):
    out = tmp_path / "r"
    fit(fan_cfg(epochs=1), tiny, SPLIT, out)
    before = (out / "metrics.json").read_bytes()
    with pytest.raises(RunDirError, match=r"another experiment .*lr"):
        fit(fan_cfg(epochs=1, lr=0.5), tiny, SPLIT, out)
    with pytest.raises(RunDirError, match="already holds this run"):
        fit(fan_cfg(epochs=1), tiny, SPLIT, out, resume=False)
    assert (out / "metrics.json").read_bytes() == before
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("x")
    with pytest.raises(RunDirError, match="holds no ferlib run"):
        fit(fan_cfg(epochs=1), tiny, SPLIT, junk)


def test_config_errors_name_the_key():
    with pytest.raises(ValueError, match=r"unknown config keys \['lrr'\]"):
        resolve_config("fan", "demo", lrr=0.1)
    with pytest.raises(ValueError, match=r"cfg.json: unknown config keys \['bogus'\]"):
        TrainConfig.from_dict({"method": "fan", "bogus": 1}, source="cfg.json")
    with pytest.raises(ValueError, match="optimizer 'rmsprop'"):
        resolve_config("fan", "demo", optimizer="rmsprop")


@pytest.mark.parametrize("key", ["size", "profile"])
def test_config_json_names_the_model_profile_and_older_size_keys_still_read(tmp_path, key):
    new = resolve_config("fan", "paper", recipe="demo")
    assert new.profile == "paper" and "profile" in new.to_dict() and "size" not in new.to_dict()
    written = {k: v for k, v in new.to_dict().items() if k != "profile"}
    (tmp_path / "config.json").write_text(json.dumps({**written, key: "paper"}))  # "size": the key of older runs
    assert TrainConfig.load(tmp_path / "config.json") == new
    with pytest.raises(ValueError, match=r"unknown config keys \['size'\]"):  # both keys: the old one is not silently dropped
        TrainConfig.from_dict({**written, "size": "demo", "profile": "paper"})


def test_label_set_mismatch_is_refused(tiny, tmp_path):
    with pytest.raises(ValueError, match=r"num_classes=7 .* the data has 2 classes"):
        fit(fan_cfg(model_overrides={"num_classes": 7}), tiny, SPLIT, tmp_path / "x")


def test_checkpoint_errors(tiny, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="bad.pt is not a readable ferlib checkpoint"):
        load_checkpoint(bad)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(1)}}, foreign)
    with pytest.raises(CheckpointError, match="foreign.pt is not a ferlib checkpoint"):
        load_checkpoint(foreign)
    mine = save_checkpoint(tmp_path / "m.pt", {"classes": ["a", "b", "c"], "epoch": 0})
    with pytest.raises(CheckpointError, match=r"trained on classes \['a', 'b', 'c'\]"):
        evaluate(mine, tiny)
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic writer leaves no temp file


def test_truncated_last_checkpoint_is_reported(tiny, tmp_path):
    out = tmp_path / "r"
    fit(fan_cfg(epochs=1), tiny, SPLIT, out)
    (out / "metrics.json").unlink()
    data = (out / "last.pt").read_bytes()
    (out / "last.pt").write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointError, match="last.pt changed after ferlib wrote it"):
        fit(fan_cfg(epochs=1), tiny, SPLIT, out)
    (out / "last.pt.sha256").unlink()  # a file without its record (written before records existed) is still read
    with pytest.raises(CheckpointError, match="last.pt is not a readable"):
        fit(fan_cfg(epochs=1), tiny, SPLIT, out)


def test_evaluate_reproduces_test_metrics(tiny, tmp_path):
    out = tmp_path / "r"
    m = fit(fan_cfg(epochs=1), tiny, SPLIT, out)
    e = evaluate(out / "best.pt", tiny, rows=SPLIT.test, out_dir=tmp_path / "ev", progress=False)
    assert e["accuracy"] == m["accuracy"] and e["confusion"] == m["confusion"]
    assert (tmp_path / "ev" / "predictions.csv").is_file()
    with pytest.raises(RunDirError, match="not empty"):
        evaluate(out / "best.pt", tiny, out_dir=tmp_path / "ev", progress=False)


@pytest.mark.parametrize("method", ["fer_gcn", "kp_gcn_msa", "stgcn"])
def test_each_input_kind_trains_one_epoch(tiny, tmp_path, method):
    over = {"fer_gcn": dict(num_frames=4, model_overrides={"num_frames": 4}), "kp_gcn_msa": dict(num_frames=4),
            "stgcn": dict(num_frames=4)}[method]
    cfg = resolve_config(method, "demo", epochs=1, batch_size=3, input_side=0 if method == "stgcn" else 32, progress=False, **over)
    m = fit(cfg, tiny, SPLIT, tmp_path / method)
    assert m["n"] == 2 and 0.0 <= m["accuracy"] <= 1.0
    bp = np.load(tmp_path / method / "byproducts.npz")
    assert bp["embedding"].shape[0] == 2
    if method == "fer_gcn":
        np.testing.assert_allclose(bp["intensity_weights"].sum(1), 1.0, atol=1e-5)
    if method == "kp_gcn_msa":
        assert "aux_logits" in bp.files and bp["frame_attention"].shape == (2, 4)


def test_cross_validate_and_collate(tiny, tmp_path):
    table = cross_validate("fan", tiny, "subject_kfold", "demo", tmp_path / "exp", protocol_kwargs={"k": 3},
                           folds=[0, "fold02"], epochs=1, batch_size=2, input_side=32, progress=False)
    assert list(table.index) == ["fold01", "fold02", "mean", "std"]
    assert table.loc["mean", "accuracy"] == pytest.approx(table.loc[["fold01", "fold02"], "accuracy"].mean())
    assert (tmp_path / "exp" / "summary.csv").is_file()
    again = collate(tmp_path / "exp")
    pd.testing.assert_frame_equal(again, table)
    with pytest.raises(ValueError, match="fold 7 is not one of the 3 folds"):
        cross_validate("fan", tiny, "subject_kfold", "demo", tmp_path / "exp2", protocol_kwargs={"k": 3}, folds=[7])


def test_paper_schedules_match_the_papers():
    kp = resolve_config("kp_gcn_msa", "paper")
    assert (kp.optimizer, kp.lr, kp.betas, kp.milestones, kp.epochs) == ("adam", 1e-3, [0.9, 0.99], [40, 60], 80)
    st = resolve_config("stgcn", "paper")
    assert st.nesterov and st.lr == 0.1 and st.num_frames == 45
    fg = resolve_config("fer_gcn", "paper")
    assert (fg.lr, fg.weight_decay, fg.epochs) == (1e-3, 5e-5, 120)
    # the step schedule multiplies by gamma exactly at the milestones
    p = [torch.nn.Parameter(torch.zeros(1))]
    opt = build_optimizer(p, kp)
    sch = build_scheduler(opt, kp)
    lrs = []
    for _ in range(61):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    assert lrs[39] == pytest.approx(1e-3) and lrs[40] == pytest.approx(1e-4) and lrs[60] == pytest.approx(1e-5)
    assert isinstance(opt, torch.optim.Adam) and opt.defaults["betas"] == (0.9, 0.99)


def test_speed_options_are_accepted_and_eval_every_skips_epochs(tiny, tmp_path):
    m = fit(fan_cfg(epochs=3, eval_every=2, channels_last=True, cache_clips=True), tiny, SPLIT, tmp_path / "a")
    assert [("val_accuracy" in h, "test_accuracy" in h) for h in m["history"]] == [(False, False), (True, True), (True, True)]
    assert m["selected_epoch"] in (2, 3)  # only validated epochs can be selected
    plain = fit(fan_cfg(epochs=3, cache_clips=False), tiny, SPLIT, tmp_path / "b")
    held = fit(fan_cfg(epochs=3, cache_clips=True), tiny, SPLIT, tmp_path / "c")
    assert plain == held  # holding clips in memory changes nothing
    with pytest.raises(ValueError, match="eval_every"):
        fan_cfg(eval_every=0)
    assert resolve_config("fan", "demo", compile=True).compile is True


def test_clips_are_held_only_when_their_frames_fit_the_byte_limit(tiny, monkeypatch):
    import ferlib.train.engine as engine

    index = tiny.index()
    assert engine.frames_bytes(tiny, index) == len(index) * 4 * 32 * 32 * 3  # uint8 frames, every clip
    cfg = fan_cfg(cache_clips=True)
    assert engine.make_dataset(tiny, index, cfg, train=True).cache
    monkeypatch.setattr(engine, "HOLD_BYTES", engine.frames_bytes(tiny, index) - 1)
    assert not engine.make_dataset(tiny, index, cfg, train=True).cache


def test_each_epoch_records_the_rate_it_trained_at(tiny, tmp_path):
    m = fit(fan_cfg(epochs=3, schedule="cosine", lr=0.01, warmup_epochs=0, eval_test_each_epoch=False), tiny, SPLIT,
            tmp_path / "run")
    lrs = [h["lr"] for h in m["history"]]  # the first parameter group's (the trunk's, at its scale of lr)
    # cosine over 3 epochs: factors 1, 0.75, 0.25 for the epochs trained (0 only after the last one)
    assert lrs[1] / lrs[0] == pytest.approx(0.75) and lrs[2] / lrs[0] == pytest.approx(0.25)


def test_an_older_config_json_naming_the_input_side_input_size_still_reads(tmp_path):
    new = resolve_config("fan", "demo", input_side=48)
    written = {k: v for k, v in new.to_dict().items() if k != "input_side"}
    (tmp_path / "config.json").write_text(json.dumps({**written, "input_size": 48}))
    assert TrainConfig.load(tmp_path / "config.json") == new
    with pytest.raises(ValueError, match=r"unknown config keys \['input_size'\]"):
        TrainConfig.from_dict({**written, "input_size": 32, "input_side": 48})


def test_precision_follows_amp_and_the_cpu_and_is_recorded(tiny, tmp_path, monkeypatch):
    from ferlib.train import engine

    cpu = torch.device("cpu")
    monkeypatch.setattr(engine, "cpu_computes_bf16", lambda: False)
    assert engine.precision(cpu, fan_cfg()) == "fp32"  # emulated bf16 would be slower: fp32
    assert engine.precision(torch.device("cuda"), fan_cfg()) == "bf16"
    monkeypatch.setattr(engine, "cpu_computes_bf16", lambda: True)
    assert engine.precision(cpu, fan_cfg()) == "bf16"
    assert engine.precision(cpu, fan_cfg(amp=False)) == "fp32"
    m = fit(fan_cfg(epochs=1), tiny, SPLIT, tmp_path / "bf16")
    assert m["precision"] == "bf16" and np.isfinite(m["history"][0]["train_loss"])
    m32 = fit(fan_cfg(epochs=1, amp=False), tiny, SPLIT, tmp_path / "fp32")
    assert m32["precision"] == "fp32"
    assert m["history"][0]["train_loss"] != m32["history"][0]["train_loss"]  # bf16 really ran


def test_amp_runs_only_the_frame_trunk_in_bf16():
    from ferlib.models import build_model
    from ferlib.train.engine import autocast_trunk

    model = build_model("fan", "demo", num_classes=2)
    seen = {}
    model.trunk.register_forward_hook(lambda m, a, out: seen.setdefault("inside", out.dtype) and None)
    head = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
    head.register_forward_hook(lambda m, a, out: seen.setdefault("after", out.dtype) and None)
    with autocast_trunk(model, "cpu"):
        logits, _ = model(torch.rand(2, 3, 3, 32, 32))
    assert seen == {"inside": torch.bfloat16, "after": torch.float32} and logits.dtype == torch.float32
    assert not torch.is_autocast_enabled("cpu")  # left as found, the hooks removed
    seen.clear()
    model(torch.rand(2, 3, 3, 32, 32))
    assert seen["inside"] == torch.float32


def test_channels_last_puts_only_the_frame_trunk_in_nhwc(tiny, tmp_path, monkeypatch):
    from ferlib.train import engine

    seen = {}
    real = engine.param_groups

    def nhwc(module):
        return {n for n, p in module.named_parameters()
                if p.dim() == 4 and p.shape[1] > 1 and p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous()}

    def spy(model, cfg):
        seen["trunk"] = nhwc(model.trunk)
        seen["all"] = {n.removeprefix("trunk.") for n in nhwc(model)}
        seen["convs"] = {n for n, p in model.trunk.named_parameters() if p.dim() == 4 and p.shape[1] > 1}
        return real(model, cfg)

    monkeypatch.setattr(engine, "param_groups", spy)
    fit(fan_cfg(epochs=1), tiny, SPLIT, tmp_path / "cl")
    assert seen["trunk"] == seen["convs"] and seen["trunk"] and seen["all"] == seen["trunk"]
    fit(fan_cfg(epochs=1, channels_last=False), tiny, SPLIT, tmp_path / "cf")
    assert seen["trunk"] == set()


@pytest.mark.slow
def test_compile_runs_under_amp_with_the_trunk_compiled_inside_its_hooks(tiny, tmp_path, monkeypatch):
    from ferlib.train import engine

    monkeypatch.setattr(engine, "cpu_computes_bf16", lambda: True)
    m = fit(fan_cfg(epochs=1, compile=True), tiny, SPLIT, tmp_path / "compiled")
    assert m["precision"] == "bf16" and np.isfinite(m["history"][0]["train_loss"])
    ck = torch.load(tmp_path / "compiled" / "best.pt", weights_only=True)
    assert not any("_orig_mod" in k for k in ck["model"])  # the plain module's weights


def test_loader_workers_are_started_once_for_every_epoch_and_evaluation(tiny, tmp_path, monkeypatch):
    """num_workers > 0: the training, validation and test loaders keep their workers (persistent) and
    the training loader's rows carry their epoch, so the run equals one without workers."""
    import os

    import ferlib.train.engine as engine

    starts = tmp_path / "starts"
    real_init = engine._worker_init

    def counted(worker_id: int) -> None:
        with open(starts, "a") as f:
            f.write(f"{os.getpid()}\n")
        real_init(worker_id)

    monkeypatch.setattr(engine, "_worker_init", counted)
    with_workers = fit(fan_cfg(epochs=3, num_workers=1), tiny, SPLIT, tmp_path / "w1")
    # one worker each for the training, validation and (per-epoch and final) test loaders: 4, not one per epoch
    assert len(starts.read_text().split()) == 4
    timing = json.loads((tmp_path / "w1" / "timing.json").read_text())
    assert timing["load_s"] > 0 and 0 <= timing["data_wait_share"] < 1
    assert with_workers == fit(fan_cfg(epochs=3), tiny, SPLIT, tmp_path / "w0")


def test_default_loader_workers_follow_the_device(monkeypatch):
    import ferlib.train.engine as engine

    monkeypatch.setattr(engine.os, "cpu_count", lambda: 16)
    assert engine.loader_workers(fan_cfg()) == 0  # a CPU run: the step uses the cores
    assert engine.loader_workers(fan_cfg(device="cuda")) == 8  # capped
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")  # torchrun with 4 GPUs: 4 cores each, one kept for the rank
    assert engine.loader_workers(fan_cfg(device="cuda")) == 3
    assert engine.loader_workers(fan_cfg(device="cuda", num_workers=0)) == 0  # asked for: kept
    with pytest.raises(ValueError, match="num_workers"):
        fan_cfg(num_workers=-2)
