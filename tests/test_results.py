"""Result tables (ferlib.analysis.results), figures (ferlib.viz.results) and notebook 06's ablation grids (ferlib.workbook)."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ferlib.analysis.results import (ablation_vs_paper, comparison_table, fold_results_table, ours_label,  # noqa: E402
                                     paper_comparison, paper_row, paper_series, per_class_comparison, pooled_confusion, save_table)
from matplotlib.container import ErrorbarContainer  # noqa: E402
from ferlib.viz.results import ablation_figure, confusion_figure, fold_results_figure, lambda_figure  # noqa: E402
from ferlib.workbook import ablation_settings, read_ablation, select_grid  # noqa: E402
from ferlib.paper_numbers import paper_table  # noqa: E402

CLASSES = ["anger", "happy", "sad"]


def _metrics(cm):
    return {"classes": CLASSES, "confusion": cm}


def _fold_table(acc=(0.5, 0.7)):
    df = pd.DataFrame({"accuracy": acc, "uar": [a - 0.1 for a in acc], "best_test_accuracy_leaky": [a + 0.1 for a in acc],
                       "best_test_uar_leaky": acc, "selected_epoch": [3.0, 5.0], "best_test_epoch_leaky": [4.0, 6.0]},
                      index=["fold01", "fold02"][: len(acc)])
    return pd.concat([df, pd.DataFrame([df.mean(), df.std()], index=["mean", "std"])])


def test_confusion_figure_has_class_names_and_row_percentages():
    cm = np.array([[3, 1, 0], [0, 4, 0], [0, 0, 0]])
    fig = confusion_figure(cm, CLASSES, title="X on synth")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASSES
    assert [t.get_text() for t in ax.get_yticklabels()] == CLASSES
    texts = {t.get_text() for t in ax.texts}
    assert "75%\n(3)" in texts and "25%\n(1)" in texts and "100%\n(4)" in texts
    assert not any(t.startswith("0%") for t in texts)  # empty cells stay blank
    assert "7/8 clips correct" in ax.get_title() and "X on synth" in ax.get_title()
    mesh = ax.collections[0]  # seaborn heatmap: a QuadMesh of the row shares (%), row-major
    share = np.asarray(mesh.get_array()).reshape(3, 3)
    assert share[0, 0] == pytest.approx(75.0) and share[2].sum() == 0  # absent class: empty row
    assert mesh.colorbar is not None and "share of the true class" in mesh.colorbar.ax.get_ylabel()
    plt.close(fig)
    counts = confusion_figure(cm, CLASSES, show="counts").axes[0]
    assert sorted(t.get_text() for t in counts.texts if t.get_text()) == ["1", "3", "4"]
    plt.close("all")
    with pytest.raises(ValueError, match="show='pct'"):
        confusion_figure(cm, CLASSES, show="pct")


def test_confusion_figure_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(2, 2\), expected \(3, 3\)"):
        confusion_figure(np.eye(2), CLASSES)


def test_pooled_confusion_sums_folds_and_refuses_other_classes():
    a, b = np.eye(3, dtype=int).tolist(), (2 * np.eye(3, dtype=int)).tolist()
    cm, classes = pooled_confusion([_metrics(a), _metrics(b)])
    assert classes == CLASSES and cm.trace() == 9
    with pytest.raises(ValueError, match="different classes"):
        pooled_confusion([_metrics(a), {"classes": ["x", "y", "z"], "confusion": a}])


def test_fold_results_table_in_percent_with_the_leaky_columns_labelled():
    t = fold_results_table(_fold_table())
    assert t.loc["fold02", "accuracy = WAR (%)"] == 70.0
    assert t.loc["mean", "UAR (%)"] == 50.0
    leaky = [c for c in t.columns if "leaky" in c]
    assert len(leaky) == 3 and "best test epoch [leaky]" in leaky
    assert t.loc["fold01", "epoch chosen on validation"] == 3.0
    with pytest.raises(ValueError, match="lacks the columns"):
        fold_results_table(pd.DataFrame({"acc": [1.0]}))


def test_comparison_table_labels_both_sides():
    ours = pd.DataFrame({"accuracy": [41.0]}, index=["Model"])
    theirs = pd.DataFrame({"CK+": [99.5, 90.0], "MMI": [85.9, 80.0], "variant": ["full", None]}, index=["Model", "Other"])
    out = comparison_table(ours, theirs, "ours on synth-lab-demo (1 fold)", "paper (10-fold)")
    assert list(out.columns) == ["paper (10-fold): CK+", "paper (10-fold): MMI", "ours on synth-lab-demo (1 fold)"]
    assert list(out.index) == ["Model", "Other"]
    assert out.loc["Model", "ours on synth-lab-demo (1 fold)"] == 41.0
    assert np.isnan(out.loc["Other", "ours on synth-lab-demo (1 fold)"])
    with pytest.raises(ValueError, match="tell the sides apart"):
        comparison_table(ours, theirs, "same", "same")
    with pytest.raises(ValueError, match="non-empty"):
        comparison_table(ours, theirs, "", "paper")


def test_paper_comparison_puts_ours_in_the_papers_row():
    label = ours_label("synth-lab-demo", _fold_table(), 5)
    assert label == "ferlib on synth-lab-demo (2 of 5 folds)"
    assert ours_label("s", 1) == "ferlib on s (1 fold)"
    out = paper_comparison("fer_gcn", _fold_table(), label)
    row = out.loc["FER-GCN (Ours)"]
    assert row[f"{label}: accuracy = WAR (%)"] == pytest.approx(60.0)
    assert row["paper, Table I: CK+"] == 99.54
    afew = paper_comparison("fer_gcn", _fold_table(), label, dataset="afew")  # the data set picks the table
    assert afew.attrs["paper_table"] == "fer_gcn_table6" and afew.loc["FER-GCN (Ours)", "paper, Table VI"] == 55.67
    assert np.isnan(out.loc["LOMo [30]", f"{label}: UAR (%)"])
    kp = paper_comparison("kp_gcn_msa", _fold_table(), label)
    assert [c for c in kp.columns if c.startswith("paper")] == ["paper, Table 3: UAR", "paper, Table 3: WAR"]
    with pytest.raises(KeyError, match="no main paper table"):
        paper_comparison("cnn_lstm", _fold_table(), label)  # a baseline: no paper of its own
    with pytest.raises(ValueError, match="unknown method 'vgg'"):
        paper_comparison("vgg", _fold_table(), label)


def test_per_class_comparison_matches_classes():
    cm = [[3, 1, 0], [0, 4, 0], [1, 0, 1]]
    out = per_class_comparison("fer_gcn", [_metrics(cm)], "ours")
    assert list(out.index[:3]) == CLASSES
    assert out.loc["anger", "ours"] == 75.0 and out.loc["sad", "ours"] == 50.0
    assert out.loc["happy", "paper: Table III (Oulu-CASIA)"] == 98.0
    assert "contempt" in out.index and np.isnan(out.loc["contempt", "ours"])
    with pytest.raises(KeyError, match="no per-class accuracy"):
        per_class_comparison("fan", [_metrics(cm)], "ours")
    oulu = per_class_comparison("fer_gcn", [_metrics(cm)], "ours", dataset="Oulu-CASIA")  # only that data set's table
    assert list(oulu.columns) == ["paper", "ours"] and oulu.loc["happy", "paper"] == 98.0
    assert "contempt" not in oulu.index  # a CK+ class: Table II is left out


def test_the_papers_own_row_is_the_one_row_of_its_variant_or_an_error(monkeypatch):
    import ferlib.paper_numbers as numbers

    out = paper_comparison("fer_gcn", _fold_table(), "ours", dataset="afew")
    assert out.attrs["paper_row"] == "FER-GCN (Ours)"  # what reproduce's figure reads the paper's value from
    table = numbers.PAPER_TABLES["kp_table5"]
    happy = numbers.paper_per_class("kp_table5")["happy"]
    frame = table.frame()
    twice = pd.concat([frame, frame.loc[frame["variant"] == "full"].rename(index=lambda r: r + " (again)")])

    class Twice:  # the table with its own row twice, as rows sharing a variant
        def __getattr__(self, name):
            return getattr(table, name)

        def frame(self):
            return twice

    monkeypatch.setitem(numbers.PAPER_TABLES, "kp_table5", Twice())
    with pytest.raises(KeyError, match="2 rows of 'kp_gcn_msa' variant 'full', expected one"):
        numbers.paper_per_class("kp_table5")
    assert numbers.paper_per_class("kp_table5", row="Ours")["happy"] == happy


def _abl(table, rows):
    return pd.DataFrame([{"table": table, "label": r["label"], "method": r["method"], "variant": r["variant"],
                          "accuracy": 0.3 + 0.1 * i, "accuracy_std": np.nan, "uar": 0.3, "uar_std": np.nan,
                          "best_test_accuracy_leaky": 0.5, "folds": 1} for i, r in enumerate(rows)])


def test_ablation_vs_paper_and_figure_mark_the_papers_values():
    grid = select_grid(["fer_gcn_table5"])
    abl = _abl("fer_gcn_table5", grid["fer_gcn_table5"])
    t = ablation_vs_paper(abl, "fer_gcn_table5", "ours on s (1 fold)")
    assert list(t.index) == [r["label"] for r in grid["fer_gcn_table5"]]
    assert t.loc["CNN only (backbone)", "paper, Table V: CK+"] == 97.78
    assert t.loc["CNN only (backbone)", "ours on s (1 fold): accuracy = WAR (%)"] == 30.0
    paper = paper_series("fer_gcn_table5", "CK+")
    fig = ablation_figure(abl, paper, title="t", ours_label="ours", paper_label="paper")
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == pytest.approx([30, 40, 50, 60, 70])
    marks = [c for c in ax.collections if c.get_label() == "paper"]
    assert len(marks) == 1 and marks[0].get_offsets()[:, 1].tolist() == pytest.approx([97.78, 98.39, 99.09, 99.00, 99.54])
    values = [t for t in ax.texts if t.get_text() == "97.78"]  # the paper's number sits above its diamond
    assert len(values) == 1 and values[0].xy == pytest.approx((0, 97.78)) and values[0].xyann[1] > 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ours", "paper"]  # one fold: no whiskers
    plt.close(fig)
    # several folds: ± std whiskers over the folds at the bar tops, and the legend says so
    spread = abl.assign(accuracy_std=[0.05, 0.02, 0.0, 0.01, 0.03], folds=5)
    ax = ablation_figure(spread, paper).axes[0]
    whiskers = [c for c in ax.collections if c.get_label() != "paper"]
    assert len(whiskers) == 1
    segs = whiskers[0].get_segments()
    assert [(s[0][1], s[1][1]) for s in segs][0] == pytest.approx((25.0, 35.0))
    assert "mean ± std over the folds" in ax.get_legend().get_texts()[0].get_text()
    plt.close("all")
    lam = _abl("kp_fig8_lambda", select_grid(["kp_fig8_lambda"])["kp_fig8_lambda"])
    lt = ablation_vs_paper(lam, "kp_fig8_lambda", "ours")
    assert lt.loc["λ=0.2", "paper, Fig. 8 (best point, Sec. 4.4.3), DFEW"] == 68.73
    assert np.isnan(lt.loc["λ=0.0", "paper, Fig. 8 (best point, Sec. 4.4.3), DFEW"])


def test_rows_sharing_one_variant_get_their_own_paper_value():
    # FAN's K sweep: four rows of the one variant "full", told apart by an override; Sec. 3.4 gives
    # 99.39 for K = 2 and 5 and 99.69 for K = 3 and 8
    want = {"K=2": 99.39, "K=3 (default)": 99.69, "K=5": 99.39, "K=8": 99.69}
    assert paper_series("fan_k_segments", "CK+").to_dict() == pytest.approx(want)
    abl = _abl("fan_k_segments", select_grid(["fan_k_segments"])["fan_k_segments"])
    t = ablation_vs_paper(abl, "fan_k_segments", "ours")
    assert t["paper, Sec. 3.4 (text), CK+"].to_dict() == pytest.approx(want)
    theirs = paper_table("fan_k_segments")
    assert paper_row(theirs, "K=5", "full") == "K=5"
    assert paper_row(theirs, "K=4", "full") is None  # not in the paper, and the variant names four rows
    assert paper_row(paper_table("fer_gcn_table5"), "CNN + GCN x1", "gcn_x1") == "VGG16 + graph based spatial-temporal module ×1"


def test_every_main_paper_table_has_one_row_for_the_method_itself(monkeypatch):
    import ferlib.analysis.results as results
    from ferlib.models.registry import available_methods, method_spec

    for m in available_methods():
        for key, _ in method_spec(m).papers.main.values():
            theirs = paper_table(key)
            assert ((theirs["method"] == m) & (theirs["variant"] == "full")).sum() == 1, (m, key)
    # a table whose rows share the variant (FAN's K sweep) names no single row: refused, not its first row
    monkeypatch.setattr(results, "paper_table", lambda key: paper_table("fan_k_segments"))
    with pytest.raises(KeyError, match="4 rows for 'fan' variant 'full', expected one"):
        paper_comparison("fan", _fold_table(), "ferlib")


def test_lambda_figure_draws_ours_and_the_papers_point():
    fig = lambda_figure([0.2, 0.0, 0.1], [25.0, 20.0, 30.0], paper={0.2: 68.73})
    ax = fig.axes[0]
    ours = ax.lines[0]
    assert ours.get_xdata().tolist() == [0.0, 0.1, 0.2] and ours.get_ydata().tolist() == [20.0, 30.0, 25.0]
    theirs = [c for c in ax.collections if c.get_label() == "paper"][0].get_offsets()
    assert theirs.tolist() == [[0.2, 68.73]]
    assert "λ" in ax.get_xlabel()
    plt.close(fig)
    with pytest.raises(ValueError, match="3 λ values but 2"):
        lambda_figure([0, 0.1, 0.2], [1, 2])
    with pytest.raises(ValueError, match="3 accuracies but 2 spreads"):
        lambda_figure([0, 0.1, 0.2], [1, 2, 3], spread=[1, 2])


def test_lambda_figure_draws_the_spread_over_folds_where_there_is_one():
    fig = lambda_figure([0.0, 0.1, 0.2], [20.0, 30.0, 25.0], spread=[2.0, float("nan"), 4.0], ours_label="ours")
    ax = fig.axes[0]
    (bars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    segments = bars.lines[2][0].get_segments()
    assert [(s[0][0], s[0][1], s[1][1]) for s in segments] == [(0.0, 18.0, 22.0), (0.2, 21.0, 29.0)]  # no bar at 0.1
    assert "mean ± std over the folds" in ax.get_legend().get_texts()[0].get_text()
    plt.close(fig)


def test_fold_results_figure_shows_each_fold_the_spread_and_the_paper():
    table = _fold_table((0.5, 0.7))
    fig = fold_results_figure(table, {"accuracy": 99.54}, title="t", ours_label="ours")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["accuracy = WAR", "UAR", "best test acc.\n[leaky]"]
    dots = [c for c in ax.collections if c.get_label().startswith("one fold")]
    assert sorted(np.concatenate([d.get_offsets()[:, 1] for d in dots]).round(6).tolist()) == \
        pytest.approx([40, 50, 60, 60, 70, 80])  # two folds × three metrics, in percent
    means = [ln for ln in ax.lines if ln.get_label().startswith("ours")][0]
    assert means.get_ydata().tolist() == pytest.approx([60.0, 50.0, 70.0])
    # the std whisker of accuracy spans mean ± sample std (ddof = 1, as collate)
    sd = 100 * np.std([0.5, 0.7], ddof=1)
    bars = [ln for ln in ax.lines if not ln.get_label().startswith("ours")]  # whisker + caps, one line per column
    first = [ln for ln in bars if np.nanmean(np.asarray(ln.get_xdata(), float)) == pytest.approx(0)]
    assert len(bars) == 3 and len(first) == 1
    y = np.asarray(first[0].get_ydata(), float)
    assert (np.nanmin(y), np.nanmax(y)) == pytest.approx((60 - sd, 60 + sd))
    paper = [c for c in ax.collections if c.get_label() == "paper"][0].get_offsets()
    assert paper[:, 1].tolist() == [99.54] and paper[0, 0] < 1  # beside the accuracy column
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["one fold (of 2)", "ours: mean ± std", "paper"]
    plt.close(fig)
    with pytest.raises(ValueError, match="none of the columns"):
        fold_results_figure(pd.DataFrame({"acc": [1.0]}))
    with pytest.raises(ValueError, match="no fold rows"):
        fold_results_figure(table.loc[["mean", "std"]])


def test_ablation_settings_per_profile_and_bad_values():
    tables, epochs, rows, folds = ablation_settings("smoke")
    assert epochs == 1 and rows == 2 and "kp_fig8_lambda" in tables
    assert set(folds.values()) == {None}  # the profile's own folds
    demo_tables, _, _, demo_folds = ablation_settings("demo")
    assert demo_tables[:3] == ["fer_gcn_table5", "fan_variants", "fan_k_segments"] and "kp_fig8_lambda" in demo_tables
    # the demo's ablation rows, KP-GCN-MSA's sweeps (Tables 11-12, Fig. 8) too: the profile's three folds
    assert set(demo_folds) == set(demo_tables) and set(demo_folds.values()) == {None}
    assert "kp_table11_heads" in demo_tables and "kp_table12_depth" in demo_tables
    assert ablation_settings("demo", ["kp_table9"], 8, folds=[1, 2]) == (["kp_table9"], 8, None, {"kp_table9": [1, 2]})
    with pytest.raises(ValueError, match="unknown \\['table_v'\\]"):
        ablation_settings("demo", ["table_v"])
    with pytest.raises(ValueError, match="ablation_epochs=0"):
        ablation_settings("demo", None, 0)
    with pytest.raises(ValueError, match="profile='fast'"):
        ablation_settings("fast")
    assert [len(v) for v in select_grid(["kp_table12_depth"], 2).values()] == [2]


def test_read_ablation_names_the_missing_run(tmp_path):
    grid = select_grid(["fan_variants"], 1)
    with pytest.raises(FileNotFoundError, match="Score_fusion_baseline/fold01"):
        read_ablation(grid, tmp_path, ["fold01"])
    fold = tmp_path / "fan_variants" / "Score_fusion_baseline" / "fold01"
    fold.mkdir(parents=True)
    fold.joinpath("metrics.json").write_text(json.dumps({"accuracy": 0.5, "uar": 0.4, "best_test_accuracy_leaky": 0.6}))
    df = read_ablation(grid, tmp_path, ["fold01"])
    assert df.loc[0, "accuracy"] == 0.5 and df.loc[0, "variant"] == "score_fusion" and df.loc[0, "folds"] == 1


def test_save_table_writes_csv_and_markdown(tmp_path):
    df = pd.DataFrame({"a": [1.5, np.nan]}, index=["x", "y"])
    save_table(df, tmp_path, "t")
    assert (tmp_path / "t.csv").read_text().startswith(",a")
    md = (tmp_path / "t.md").read_text()
    assert "1.5" in md and "–" in md and "nan" not in md
