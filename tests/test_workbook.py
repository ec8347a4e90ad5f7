"""The notebooks' shared set-up: every parameter checked by one rule table, the data set opened, one way to write."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ferlib.notebook_params import PARAMETERS, at_least, check_params  # noqa: E402
from ferlib.workbook import Notebook, start_notebook  # noqa: E402


def test_list_parameters_come_out_as_lists_whatever_their_form():
    p = check_params({"folds": "[0, 1]", "methods": "fan,fer_gcn", "tables": None, "return_train": "[]", "other": object()})
    assert p.folds == [0, 1] and p.methods == ["fan", "fer_gcn"] and p.tables is None and p.return_train == []
    assert dict(p) == {"folds": [0, 1], "tables": None, "return_train": [], "methods": ["fan", "fer_gcn"]}
    with pytest.raises(AttributeError, match="declares no parameter 'seed'"):
        p.seed


@pytest.mark.parametrize("name, value, message", [
    ("profile", "fast", "profile='fast' is not allowed"),
    ("train", "yes", "train='yes' is not allowed"),
    ("seed", True, "seed=True must be an int"),
    ("folds", "[-1]", "entry -1 is not a whole number >= 0"),
    ("max_rows", 0, "max_rows=0 must be an int >= 1 or None"),
    ("heatmap_sigma", 0, "heatmap_sigma=0 must be a number > 0"),
    ("perplexity", 0.5, "perplexity=0.5 must be a number >= 1"),
    ("methods", "[]", "methods='\\[\\]': expected a list of names"),
])
def test_a_bad_value_is_named(name, value, message):
    with pytest.raises(ValueError, match=message):
        check_params({name: value})


def test_a_notebook_narrows_a_rule_for_itself(tmp_path):
    assert check_params({"max_frames": 0}, max_frames=at_least(0)).max_frames == 0
    with pytest.raises(ValueError, match="max_frames=0 must be an int >= 1"):
        check_params({"max_frames": 0})
    with pytest.raises(ValueError, match="methods entry='stgcn' is not allowed"):
        check_params({"methods": ["fan", "stgcn"]}, methods=("fan", "fer_gcn"))
    with pytest.raises(ValueError, match="cam_method='x' is not allowed"):
        check_params({"cam_method": "x"}, cam_method=("auto", "gradcam"))
    with pytest.raises(KeyError, match="no notebook parameter \\['nope'\\]"):
        check_params({}, nope=(1,))
    with pytest.raises(FileNotFoundError, match="videos_dir="):
        check_params({"videos_dir": str(tmp_path / "missing")})


def test_every_notebook_parameter_has_a_rule_its_default_passes():
    import ast

    import papermill as pm

    from ferlib.run_notebooks import notebooks

    for nb in notebooks():
        declared = {k: ast.literal_eval(v["default"]) for k, v in pm.inspect_notebook(str(nb)).items()}
        missing = sorted(set(declared) - set(PARAMETERS))
        assert not missing, f"{nb.name}: {missing} have no rule"
        assert set(check_params(declared, max_frames=at_least(0))) == set(declared), nb.name


@pytest.fixture(scope="module")
def namespace(tmp_path_factory):
    root = tmp_path_factory.mktemp("wb")
    return {"profile": "smoke", "dataset": "synth-lab", "data_dir": str(root / "data"), "runs_dir": str(root / "runs"),
            "figures_dir": str(root / "figures"), "train": False, "seed": 0, "folds": "[0]", "In": ["not a parameter"]}


def test_start_notebook_opens_the_data_set_and_writes_through_save(namespace, capsys):
    nb = start_notebook(namespace)
    assert isinstance(nb, Notebook) and nb.folds == [0] and nb.profile == "smoke" and nb.figures.is_dir()
    assert nb.store is not None and nb.store.root.name == "synth-lab-smoke"
    assert "clips, 3 subjects" in capsys.readouterr().out
    assert nb.run_dir("fan") == nb.figures.parent / "runs" / "synth-lab-smoke" / "fan" / "full"
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    assert nb.save(fig, "t_fig", dpi=50) is None  # a cell ending in it shows the figure, not a path
    assert (nb.figures / "t_fig.png").stat().st_size > 0 and plt.fignum_exists(fig.number)  # left open to show
    plt.close(fig)
    nb.save(pd.DataFrame({"a": [1.23456]}), "t_table", index=False, floatfmt=".2f", caption="Measured here.")
    assert (nb.figures / "t_table.csv").read_text().splitlines() == ["a", "1.23456"]
    assert (nb.figures / "t_table.md").read_text().startswith("Measured here.\n\n|    a |")
    nb.save(pd.DataFrame({"a": []}), "t_empty", empty="no failures")
    assert (nb.figures / "t_empty.md").read_text() == "no failures\n"
    with pytest.raises(TypeError, match="writes a matplotlib Figure or a pandas DataFrame"):
        nb.save([1, 2], "t_list")
    with pytest.raises(FileNotFoundError, match="no finished run in .*fan"):
        nb.run_method("fan")  # train=False and no run yet


def test_a_notebook_that_opens_no_data_set_still_checks_it(namespace, tmp_path):
    nb = start_notebook({**namespace, "dataset": "synth-wild"}, open_data=False)
    assert nb.store is None
    with pytest.raises(ValueError, match="has not opened its data set"):
        nb.run_dir("fan")
    with pytest.raises(FileNotFoundError, match="dataset="):
        start_notebook({**namespace, "dataset": str(tmp_path / "no-store")}, open_data=False)
    with pytest.raises(ValueError, match="renders the generated sets"):
        start_notebook({**namespace, "dataset": "ckplus-store", "videos_dir": ""}, open_data=False)
    with pytest.raises(ValueError, match="profile='fast'"):
        start_notebook({**namespace, "profile": "fast"})


def test_demo_and_paper_runs_print_their_epochs():
    from ferlib.workbook import train_plan

    # a demo fold takes a minute or more: its epoch lines are what a log or a notebook shows of it
    assert train_plan("demo").overrides.get("progress", True) is True
    assert train_plan("paper").overrides.get("progress", True) is True


def test_labels_name_the_trunk_the_runs_use():
    from ferlib.workbook import trunk_name

    assert trunk_name("fer_gcn", "demo") == "small_cnn" and trunk_name("fer_gcn", "paper") == "vgg16_bn"
    assert trunk_name("stgcn", "demo") == ""


def test_a_list_parameter_of_none_takes_the_registry_default():
    from ferlib.notebook_params import names_or

    rule = names_or(("fer_gcn", "fan"), allowed=("fer_gcn", "fan", "stgcn"))
    assert check_params({"methods": None}, methods=rule).methods == ["fer_gcn", "fan"]
    assert check_params({"methods": "[stgcn]"}, methods=rule).methods == ["stgcn"]
    with pytest.raises(ValueError, match="methods entry='r3d_18' is not allowed"):
        check_params({"methods": ["r3d_18"]}, methods=rule)
    with pytest.raises(ValueError, match="expected a list of names"):
        check_params({"methods": []}, methods=rule)
    assert check_params({"return_train": []}, return_train=names_or(("fer_gcn",), empty_ok=True)).return_train == []


def test_a_large_figure_shows_smaller_in_the_notebook_and_keeps_its_file_whole(namespace):
    from PIL import Image

    from ferlib.workbook import INLINE_PIXELS

    nb = start_notebook({**namespace, "dataset": "synth-wild"}, open_data=False)
    big, small = plt.figure(figsize=(16, 16), dpi=100), plt.figure(figsize=(4, 3), dpi=100)
    nb.save(big, "t_big", dpi=50)
    nb.save(small, "t_small", dpi=50)
    w, h = big.get_size_inches() * big.dpi
    assert w * h == pytest.approx(INLINE_PIXELS, rel=1e-6) and small.dpi == 100  # 2.56 Mpx shown at 1 Mpx; a small one as drawn
    assert Image.open(nb.figures / "t_big.png").size[0] > 700  # the file at its own dpi (16 in × 50 dpi, tight box)
    plt.close(big), plt.close(small)


def test_ablation_runs_trained_ahead_are_those_notebook_04_reads(tmp_path, capsys):
    """make demo's 04-ahead job trains, from the last backwards, exactly the runs notebook 04's
    ablation cell asks for: the notebook's own call then reads them all without training."""
    from ferlib.models import method_spec
    from ferlib.train.ablate import row_dir
    from ferlib.workbook import ablation_settings, main, open_dataset, run_ablation_tables, select_grid

    data, runs = tmp_path / "data", tmp_path / "runs"
    assert main(["--ahead", "04", "--profile", "smoke", "--data", str(data), "--runs", str(runs)]) == 0
    n = int(capsys.readouterr().out.strip().splitlines()[-1].split()[0])  # "N ablation runs of notebook 04 finished …"
    store = open_dataset("synth-lab", "smoke", data)
    chosen, epochs, rows, folds = ablation_settings("smoke", among=list(method_spec("kp_gcn_msa").papers.ablations))
    grid = select_grid(chosen, rows)
    out = runs / store.root.name / "ablations"
    table = run_ablation_tables(store, out, grid, "smoke", train=False, folds=folds, epochs=epochs, seed=0)  # as 04 calls it
    assert len(table) == sum(len(r) for r in grid.values())
    done = sorted(runs.rglob("metrics.json"), key=lambda p: p.stat().st_mtime_ns)
    assert len(done) == n  # the full model's row, in three tables, is one run
    first_row = row_dir(out, "kp_table9", grid["kp_table9"][0])
    last_row = row_dir(out, "kp_fig8_lambda", grid["kp_fig8_lambda"][-1])
    assert done.index(next(last_row.rglob("metrics.json"))) < done.index(next(first_row.rglob("metrics.json")))
