"""Ablation grids: validation of the declarative structure and one tiny run per row."""

from __future__ import annotations

import pytest

from ferlib.train.ablate import PAPER_GRIDS, ablate, validate_grid


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from ferlib.synth import SynthConfig, generate

    root = tmp_path_factory.mktemp("tiny") / "store"
    return generate(root, SynthConfig(n_subjects=3, n_frames=4, side=32, classes=("happy", "surprise"), seed=0), progress=False)


def test_paper_grids_name_registered_variants():
    validate_grid(PAPER_GRIDS)
    assert [r["variant"] for r in PAPER_GRIDS["fer_gcn_table5"]] == ["backbone", "gcn_x1", "gcn_x2", "gcn_x3", "full"]
    assert len(PAPER_GRIDS["kp_fig8_lambda"]) == 6


def test_bad_grids_are_refused():
    with pytest.raises(ValueError, match="unknown variant 'nope' of 'fan'"):
        validate_grid({"t": [{"label": "x", "method": "fan", "variant": "nope"}]})
    with pytest.raises(ValueError, match=r"row 0: unknown keys \['lr'\]"):
        validate_grid({"t": [{"label": "x", "method": "fan", "lr": 1}]})
    with pytest.raises(ValueError, match="share the label"):
        validate_grid({"t": [{"label": "x", "method": "fan"}, {"label": "x", "method": "fan", "variant": "self_attention"}]})


def test_ablate_runs_each_row(tiny, tmp_path):
    grid = {"fan_variants": [{"label": "FAN w/o relation", "method": "fan", "variant": "self_attention"},
                             {"label": "FAN", "method": "fan", "variant": "full", "overrides": {"lr": 1e-2}}]}
    df = ablate(grid, tiny, tmp_path / "abl", protocol_kwargs={"k": 3}, folds=[0], epochs=1, batch_size=2, input_side=32,
                progress=False)
    assert list(df["label"]) == ["FAN w/o relation", "FAN"]
    assert (tmp_path / "abl" / "fan_variants" / "FAN_w_o_relation" / "fold01" / "metrics.json").is_file()
    assert (tmp_path / "abl" / "fan_variants" / "FAN" / "fold01" / "config.json").read_text().count('"lr": 0.01') == 1
    assert (tmp_path / "abl" / "ablation.csv").is_file()


def test_plain_variant_rows_share_the_method_runs(tmp_path):
    from ferlib.train.ablate import row_dir

    full = {"label": "FAN", "method": "fan", "variant": "full"}
    k5 = {"label": "K=5", "method": "fan", "variant": "full", "overrides": {"num_frames": 5}}
    assert row_dir(tmp_path / "abl", "fan_variants", full, tmp_path) == tmp_path / "fan" / "full"
    assert row_dir(tmp_path / "abl", "fan_k_segments", k5, tmp_path) == tmp_path / "abl" / "fan_k_segments" / "K=5"
    assert row_dir(tmp_path / "abl", "fan_variants", full) == tmp_path / "abl" / "fan_variants" / "FAN"


def test_a_grid_of_shared_rows_still_writes_its_table(tiny, tmp_path):
    grid = {"fan_variants": [{"label": "FAN", "method": "fan", "variant": "full"}]}
    df = ablate(grid, tiny, tmp_path / "abl", protocol_kwargs={"k": 3}, folds=[0], epochs=1, batch_size=2, input_side=32,
                shared_dir=tmp_path / "runs", progress=False)
    assert (tmp_path / "runs" / "fan" / "full" / "fold01" / "metrics.json").is_file()
    assert (tmp_path / "abl" / "ablation.csv").is_file() and list(df["label"]) == ["FAN"]
