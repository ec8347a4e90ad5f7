"""The papers' reported numbers: lookup, provenance, sanity of the values, agreement with the grids."""

import numpy as np
import pandas as pd
import pytest

from ferlib.paper_numbers import (PAPERS, PAPER_TABLES, PER_CLASS_TABLES, canonical, headline_results, paper_per_class,
                                  paper_table, paper_tables)
from ferlib.train.ablate import PAPER_GRIDS


def test_unknown_key_names_the_known_ones():
    with pytest.raises(KeyError, match="unknown paper table 'table_v'.*fer_gcn_table5.*kp_table9"):
        paper_table("table_v")


@pytest.mark.parametrize("key", paper_tables())
def test_every_table_has_provenance_and_sane_percentages(key):
    df = paper_table(key)
    for field in ("paper", "source", "protocol", "metric", "datasets"):
        assert df.attrs[field], f"{key} lacks {field}"
    assert df.attrs["paper"] in set(PAPERS.values())
    pct = df.select_dtypes("number").drop(columns=df.attrs["non_percent"])
    assert pct.shape[1] >= 1
    vals = pct.to_numpy(float)
    assert np.isfinite(vals).any()
    finite = vals[np.isfinite(vals)]
    assert ((finite >= 0) & (finite <= 100)).all(), key


def test_known_values_from_the_papers():
    assert paper_table("fer_gcn_table5").loc["VGG16", "Oulu-CASIA"] == 85.83
    assert paper_table("fer_gcn_table1").loc["FER-GCN (Ours)", "MMI"] == 85.89
    assert np.isnan(paper_table("fer_gcn_table1").loc["TMS [28]", "MMI"])
    assert paper_table("fan_variants").loc["FAN w/o relation-attention", "AFEW 8.0"] == 50.92
    assert paper_table("kp_table12_depth").loc["L=5", "AFEW"] == 51.58
    assert paper_table("kp_table3").loc["Ours", "UAR"] == 55.85
    assert paper_table("kp_table8").loc["Ours", "inference_samples_per_s"] == 52
    assert paper_table("stgcn_affwild2").loc["ST-GCN", "Aff-Wild2"] == 58.27
    # abstract of 002: GCN +0.68 (A→B), fusion +1.66 (mean→structure), temporal +3.25 (B→E) on DFEW
    t9, t10 = paper_table("kp_table9"), paper_table("kp_table10_fusion")
    assert round(t9.loc["B", "DFEW"] - t9.loc["A", "DFEW"], 2) == 0.68
    assert round(t9.loc["E", "DFEW"] - t9.loc["B", "DFEW"], 2) == 3.25
    assert round(t10.loc["structure", "DFEW"] - t10.loc["mean", "DFEW"], 2) == 1.66


@pytest.mark.parametrize("key", ["fer_gcn_table2", "fer_gcn_table3", "fer_gcn_table4"])
def test_confusion_rows_sum_to_100(key):
    df = paper_table(key).select_dtypes("number")
    assert df.shape[0] == df.shape[1]
    np.testing.assert_allclose(df.sum(axis=1).to_numpy(), 100.0)


def test_oulu_disgust_is_confused_with_anger_as_the_text_says():
    df = paper_table("fer_gcn_table3")
    assert df.loc["Di", "An"] == 10 and df.loc["Di", "Di"] == 84


@pytest.mark.parametrize("grid", [g for g in PAPER_GRIDS if g in PAPER_TABLES])
def test_ablation_grid_rows_have_a_paper_row(grid):
    variants = set(paper_table(grid)["variant"].dropna())
    rows = {r["variant"] for r in PAPER_GRIDS[grid]}
    if grid == "kp_fig8_lambda":
        assert variants == {"full"} and variants <= rows  # only the best point (λ = 0.2, the full model) is a number
    else:
        assert rows == variants


def test_per_class_uses_canonical_names():
    ck = paper_per_class("fer_gcn_table2")
    assert list(ck.index) == ["anger", "contempt", "disgust", "fear", "happy", "sad", "surprise"]
    assert ck["surprise"] == 99.0
    dfew = paper_per_class("kp_table3")
    assert dfew["neutral"] == 71.75 and dfew["disgust"] == 0.0
    assert paper_per_class("kp_table7")["anxiety"] == 28.42
    assert canonical("HA") == "happy" and canonical("Su") == "surprise"
    with pytest.raises(KeyError, match="no per-class numbers"):
        paper_per_class("fer_gcn_table5")
    assert set(PER_CLASS_TABLES) <= set(PAPER_TABLES)


def test_headlines_cover_every_method():
    h = headline_results()
    assert isinstance(h, pd.DataFrame)
    assert set(h["method"]) == {"fer_gcn", "fan", "kp_gcn_msa", "stgcn"}
    row = h[(h["method"] == "fan") & (h["dataset"] == "CK+")]
    assert row["value"].item() == 99.69
    assert paper_table("headlines").shape == h.shape
    with pytest.raises(KeyError, match="unknown method"):
        headline_results("vgg")
