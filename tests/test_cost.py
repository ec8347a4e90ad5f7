"""Cost measurements: parameter and FLOP counts, clips/s, training time read from runs, the table."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from ferlib.analysis import cost  # noqa: E402
from ferlib.viz.cost import cost_figure  # noqa: E402


def test_count_parameters_known_answer():
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1, bias=False))
    assert cost.count_parameters(net) == 3 * 2 + 2 + 2
    net[0].weight.requires_grad_(False)
    assert cost.count_parameters(net, trainable_only=True) == 2 + 2
    with pytest.raises(TypeError, match="expected a torch.nn.Module"):
        cost.count_parameters([torch.zeros(3)])


def test_count_flops_known_answer_and_meta_equals_real():
    assert cost.count_flops(nn.Linear(3, 2), (torch.zeros(4, 3),)) == 2 * 4 * 3 * 2  # 2 per multiply-add
    model = cost.build_for_cost("fan", "demo")
    args, kwargs = cost.example_inputs(model, "fan", "demo", batch=1)
    flops, how = cost.method_flops("fan", "demo")
    assert how == "meta" and flops == cost.count_flops(model, args, kwargs) > 0


def test_example_inputs_follow_the_size():
    model = cost.build_for_cost("kp_gcn_msa", "demo")
    (clips, landmarks), kwargs = cost.example_inputs(model, "kp_gcn_msa", "demo", batch=2)
    assert clips.shape == (2, 6, 3, 64, 64) and landmarks.shape == (2, 6, 68, 2) and kwargs == {}
    assert cost.input_shape("stgcn", "paper") == "2×45×68 landmarks"
    with pytest.raises(ValueError, match="batch must be >= 1"):
        cost.example_inputs(model, "kp_gcn_msa", "demo", batch=0)


def test_clips_per_s_is_the_fastest_repeat():
    ticks = iter([0.0, 0.5, 1.0, 1.25])  # two timed passes: 0.5 s and 0.25 s
    rate = cost.inference_clips_per_s(nn.Identity(), (torch.zeros(4, 3),), repeats=2, warmup=1, clock=lambda: next(ticks))
    assert rate == pytest.approx(4 / 0.25)
    model = nn.Linear(3, 2).train()
    assert cost.inference_clips_per_s(model, (torch.zeros(2, 3),), repeats=1) > 0
    assert model.training  # the model's mode is restored


def test_clips_per_s_rejects_bad_input():
    model = nn.Identity()
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        cost.inference_clips_per_s(model, (torch.zeros(2, 3),), repeats=0)
    with pytest.raises(ValueError, match="warmup must be >= 0"):
        cost.inference_clips_per_s(model, (torch.zeros(2, 3),), warmup=-1)
    with pytest.raises(ValueError, match="at least one clip"):
        cost.inference_clips_per_s(model, (torch.zeros(0, 3),))
    with pytest.raises(ValueError, match="at least one clip"):
        cost.inference_clips_per_s(model, ())


def _fold(root, name, train_s, data_s, clips, epochs):
    fold = root / name
    fold.mkdir(parents=True)
    (fold / "timing.json").write_text(json.dumps({"train_s": train_s, "data_s": data_s, "clips": clips}))
    (fold / "metrics.json").write_text(json.dumps({"history": [{"epoch": e + 1} for e in range(epochs)]}))


def test_run_timing_sums_the_folds(tmp_path):
    exp = tmp_path / "synth-lab-demo" / "fan" / "full"
    _fold(exp, "fold01", 30.0, 3.0, 300, 10)
    _fold(exp, "fold02", 10.0, 1.0, 100, 10)
    t = cost.run_timing(exp)
    assert t["folds"] == 2 and t["epochs"] == 10
    assert t["s_per_epoch"] == pytest.approx(2.0) and t["train_clips_per_s"] == pytest.approx(10.0)
    assert t["data_wait_share"] == pytest.approx(0.1)
    assert cost.run_timing(tmp_path / "nothing") is None
    assert cost.runs_folder("synth-lab", "demo") == "synth-lab-demo"
    assert cost.runs_folder("/data/stores/ckplus-112", "paper") == "ckplus-112"


def test_cost_table_and_figure():
    row = {"method": "kp_gcn_msa", "params_demo": 431978, "params_paper": 17832494, "flops_demo": 1.8e8,
           "flops_paper": 7.4e10, "input_demo": "8×3×64×64", "input_paper": "16×3×112×112", "clips_per_s": 80.0,
           "speed_profile": "demo", "device": "cpu", "batch": 4}
    table = cost.cost_table([row, {**row, "method": "fan"}], {"fan": {"folds": 1, "epochs": 40, "s_per_epoch": 2.0,
                                                                      "train_clips_per_s": 50.0, "data_wait_share": 0.2}})
    assert table.loc["kp_gcn_msa", "training run"] == "no finished run" and np.isnan(table.loc["kp_gcn_msa", "train s/epoch"])
    assert table.loc["fan", "data wait (%)"] == pytest.approx(20.0)
    assert table.loc["kp_gcn_msa", "paper: inference (clips/s)"] == 52 and "Table 8" in table.loc["kp_gcn_msa", "paper: source"]
    assert table.loc["kp_gcn_msa", "params paper (M)"] == pytest.approx(17.83)
    fig = cost_figure(table, "t")
    assert len(fig.axes) == 4
    for ax in fig.axes[:2]:  # log scales carry dots: a bar's length there depends on where the axis starts
        assert ax.get_xscale() == "log" and not ax.patches
    assert all(ax.get_xscale() == "linear" and ax.get_xlim()[0] == 0 for ax in fig.axes[2:])  # bars from 0
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["ferlib, demo size", "ferlib, paper size", "published"]
    plt.close(fig)
    with pytest.raises(ValueError, match="at least one measured method"):
        cost.cost_table([])
    with pytest.raises(ValueError, match="at least one method"):
        cost_figure(table.iloc[:0])


def test_collect_run_timings_trains_only_what_a_notebook_makes(tmp_path):
    asked: list[str] = []

    def train(method: str) -> None:
        asked.append(method)
        _fold(tmp_path / "synth-lab-smoke" / method / "full", "fold01", 4.0, 0.0, 8, 2)

    out = cost.collect_run_timings(["fan", "cnn_mean"], tmp_path, "synth-lab", "smoke", train_missing=train)
    assert asked == ["fan"] and out["fan"]["s_per_epoch"] == pytest.approx(2.0)
    assert out["cnn_mean"].startswith("no run in <runs_dir>/synth-lab-smoke/cnn_mean/full")
    again = cost.collect_run_timings(["kp_gcn_msa"], tmp_path, "synth-lab", "smoke")
    assert "04_kp_gcn_msa.ipynb with train=True" in again["kp_gcn_msa"]
