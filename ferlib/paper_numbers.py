"""The numbers the four papers report, as plain data, with where each comes from.

Every table is a :class:`PaperTable`: the paper (by name, :data:`PAPERS`),
the table or figure, the data set(s), the protocol and the metric. Values are percentages
as printed (``NaN`` where the paper prints "-"); a few tables have non-percentage columns (model
size, speed, time), listed in :attr:`PaperTable.non_percent`. Rows that correspond to a ferlib
model carry its ``method`` and ``variant`` (the rows of :data:`ferlib.train.ablate.PAPER_GRIDS`),
so that our runs can be placed beside them; rows of other published methods carry ``None``.

:func:`paper_table` returns one table as a DataFrame (index = the paper's row labels; columns =
``method``, ``variant`` and the numbers; the provenance in ``DataFrame.attrs``), and
:func:`paper_tables` lists the keys.

Left out, because the papers give them only as plots: FER-GCN Fig. 4 (intensity weights); FAN
Fig. 3 (backbone CNNs and training strategies on CK+); KP-GCN-MSA Fig. 5 and Fig. 6 (confusion
matrices on DFEW and AFEW) and Fig. 8 apart from its best point (λ = 0.2 → 68.73 % WAR on DFEW,
stated in Sec. 4.4.3); KP-GCN-MSA Figs. 9–10 (t-SNE).

Reading notes:

* FER-GCN Tables II–IV (confusion matrices): the text extraction of the paper lists each matrix
  column by column; the matrices here are rows = true class, columns = predicted class, each row
  summing to 100 %, which the paper's text confirms ("Disgust … mostly confused with Anger" on
  Oulu-CASIA, "Fear … with Surprise" on MMI). The captions' "four expressions" is the paper's.
* FER-GCN Table I: the "-" cells are taken from the slides, whose numbers agree with the
  paper's.
* KP-GCN-MSA Table 9: the check marks are lost in the text; the component flags are those of the
  paper's description of Fig. 7 (A = FEM, B = FEM + GCN, C = B with LSTM, D = FEM + MSA,
  E = FEM + GCN + MSA), which the visible "×" / "✓" marks agree with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

NA = float("nan")

#: the papers, by name
PAPERS = {
    "fer_gcn": "Liu, Zhang, Zhou — Video-based Facial Expression Recognition using Graph Convolutional Networks (FER-GCN), and its slides",
    "kp_gcn_msa": "Huang, Zhu, Li, Yang (2024) — Dynamic facial expression recognition based on spatial key-points optimized region feature fusion and temporal self-attention (KP-GCN-MSA)",
    "stgcn": "blog post — Graph Convolutional Networks for Emotion Recognition (ST-GCN over facial landmarks)",
    "fan": "Meng, Peng, Wang, Qiao — Frame Attention Networks for Facial Expression Recognition in Videos (FAN), ICIP 2019",
}

PROTOCOL_10FOLD = "10-fold subject-independent cross-validation (mean over folds)"
PROTOCOL_FAN_CK = "10 folds by subject ID (ascending, step 10), overall accuracy over the folds"
PROTOCOL_AFEW = "train on AFEW 8.0 Train (773 clips), test on Val (381 clips in the public lists)"
PROTOCOL_DFEW = "official 5-fold cross-validation (mean over folds)"
PROTOCOL_FERV = "train → test split (31,088 / 7,847 clips)"
PROTOCOL_MAFW = "official 5-fold cross-validation (mean over folds), 11 single-label classes"


@dataclass(frozen=True)
class PaperTable:
    """One reported table: rows (label → method, variant and values per column) and provenance."""

    key: str
    method: str  # the ferlib method whose paper reports it
    source: str  # "Table V", "Sec. 3.4 (text)", …
    title: str
    datasets: tuple[str, ...]
    protocol: str
    metric: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, str | None, str | None, tuple[float, ...]], ...]  # (label, method, variant, values)
    non_percent: tuple[str, ...] = ()
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def paper(self) -> str:
        return PAPERS[self.method]

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (see :func:`paper_table`)."""
        for label, _, _, values in self.rows:
            if len(values) != len(self.columns):
                raise ValueError(f"paper table {self.key!r} row {label!r} has {len(values)} values for {len(self.columns)} columns")
        df = pd.DataFrame([[m, v, *vals] for _, m, v, vals in self.rows], index=[r[0] for r in self.rows],
                          columns=["method", "variant", *self.columns])
        df[list(self.columns)] = df[list(self.columns)].astype(float)
        df.index.name = "row"
        df.attrs.update(key=self.key, paper=self.paper, source=self.source, title=self.title,
                        datasets=list(self.datasets), protocol=self.protocol, metric=self.metric,
                        non_percent=list(self.non_percent), note=self.note, **self.extra)
        return df


def _r(label: str, values: tuple[float, ...] | list[float], method: str | None = None, variant: str | None = None):
    return (label, method, variant, tuple(float(v) for v in values))


def _confusion(classes: tuple[str, ...], by_predicted_column: list[list[float]]) -> tuple:
    """Rows (true class) from the matrix as the text extraction lists it: one list per predicted column."""
    m = np.asarray(by_predicted_column, dtype=float).T  # [true, pred]
    return tuple(_r(c, m[i]) for i, c in enumerate(classes))


_OULU6 = ("An", "Di", "Fe", "Ha", "Sa", "Su")
_CK7 = ("An", "Co", "Di", "Fe", "Ha", "Sa", "Su")
_DFEW7 = ("happy", "sad", "neutral", "anger", "surprise", "disgust", "fear")
_MAFW11 = ("AN", "DI", "FE", "HA", "NE", "SA", "SU", "CO", "AX", "HL", "DS")

_TABLES: list[PaperTable] = [
    # ------------------------------------------------------------------ FER-GCN (paper and slides)
    PaperTable(
        "fer_gcn_table1", "fer_gcn", "Table I", "Average accuracy on CK+, Oulu-CASIA and MMI",
        ("CK+", "Oulu-CASIA", "MMI"), PROTOCOL_10FOLD, "accuracy (%)", ("CK+", "Oulu-CASIA", "MMI"),
        (
            _r("Inception [13] (static)", (93.20, NA, 77.60)),
            _r("IACNN [22] (static)", (95.37, NA, 71.55)),
            _r("DLP-CNN [23] (static)", (95.78, NA, NA)),
            _r("FN2EN [24] (static)", (96.80, 87.71, NA)),
            _r("DeRL [25] (static)", (97.30, 88.00, 73.23)),
            _r("PPDN [15] (static)", (99.30, 84.59, NA)),
            _r("3DCNN [14]", (85.90, NA, 53.20)),
            _r("ITBN [26]", (86.30, NA, 59.70)),
            _r("HOG 3D [27]", (91.44, 70.63, 60.89)),
            _r("TMS [28]", (91.89, NA, NA)),
            _r("3DCNN-DAP [14]", (92.40, NA, 63.40)),
            _r("STM-ExpLet [29]", (94.19, 74.59, 75.12)),
            _r("LOMo [30]", (95.10, 82.10, NA)),
            _r("3D Inception-Resnet [31]", (95.53, NA, 79.26)),
            _r("Traj. on S+(2, n) [32]", (96.87, 83.13, 79.19)),
            _r("DTAGN [33]", (97.25, 81.46, 70.24)),
            _r("GCNet [34]", (97.93, 86.11, 81.53)),
            _r("PHRNN-MSCNN [6]", (98.50, 86.25, 81.18)),
            _r("FER-GCN (Ours)", (99.54, 91.04, 85.89), "fer_gcn", "full"),
        ),
        note="rows without '(static)' use dynamic features; '-' cells of the paper are NaN",
    ),
    PaperTable(
        "fer_gcn_table2", "fer_gcn", "Table II", "Confusion matrix on CK+ (rows true, columns predicted)",
        ("CK+",), PROTOCOL_10FOLD, "row-normalised confusion (%)", _CK7,
        _confusion(_CK7, [[100, 0, 0, 0, 0, 0, 0], [0, 100, 0, 0, 0, 0, 1], [0, 0, 100, 0, 0, 0, 0],
                          [0, 0, 0, 100, 0, 0, 0], [0, 0, 0, 0, 100, 0, 0], [0, 0, 0, 0, 0, 100, 0],
                          [0, 0, 0, 0, 0, 0, 99]]),
    ),
    PaperTable(
        "fer_gcn_table3", "fer_gcn", "Table III", "Confusion matrix on Oulu-CASIA (rows true, columns predicted)",
        ("Oulu-CASIA",), PROTOCOL_10FOLD, "row-normalised confusion (%)", _OULU6,
        _confusion(_OULU6, [[88, 10, 0, 0, 4, 0], [7, 84, 0, 0, 4, 0], [1, 2, 91, 2, 1, 4],
                            [0, 0, 4, 98, 0, 0], [3, 3, 1, 0, 90, 1], [1, 1, 4, 0, 1, 95]]),
    ),
    PaperTable(
        "fer_gcn_table4", "fer_gcn", "Table IV", "Confusion matrix on MMI (rows true, columns predicted)",
        ("MMI",), PROTOCOL_10FOLD, "row-normalised confusion (%)", _OULU6,
        _confusion(_OULU6, [[77, 3, 4, 0, 9, 0], [13, 91, 0, 0, 0, 0], [0, 3, 68, 2, 0, 10],
                            [0, 0, 4, 98, 0, 0], [10, 3, 4, 0, 91, 2], [0, 0, 20, 0, 0, 88]]),
    ),
    PaperTable(
        "fer_gcn_table5", "fer_gcn", "Table V", "Ablation study on the individual components",
        ("CK+", "Oulu-CASIA", "MMI"), PROTOCOL_10FOLD, "accuracy (%)", ("CK+", "Oulu-CASIA", "MMI"),
        (
            _r("VGG16", (97.78, 85.83, 80.75), "fer_gcn", "backbone"),
            _r("VGG16 + graph based spatial-temporal module ×1", (98.39, 88.33, 84.37), "fer_gcn", "gcn_x1"),
            _r("VGG16 + graph based spatial-temporal module ×2", (99.09, 89.79, 84.64), "fer_gcn", "gcn_x2"),
            _r("VGG16 + graph based spatial-temporal module ×3", (99.00, 87.71, 83.07), "fer_gcn", "gcn_x3"),
            _r("VGG16 + graph based spatial-temporal module ×2 + weighted feature fusion", (99.54, 91.04, 85.89),
               "fer_gcn", "full"),
        ),
    ),
    PaperTable(
        "fer_gcn_table6", "fer_gcn", "Table VI", "Accuracy of single models on the AFEW 8.0 validation set",
        ("AFEW 8.0",), PROTOCOL_AFEW, "accuracy (%)", ("AFEW 8.0",),
        (
            _r("EmotiW2018 (baseline) [37]", (38.81,)),
            _r("HoloNet [39]", (46.50,)),
            _r("DSN-VGG-Face [40]", (48.04,)),
            _r("ResNet50-LSTM [38]", (49.31,)),
            _r("DenseNet161-pool5 [41]", (51.44,)),
            _r("VGG-Face-LSTM [38]", (53.91,)),
            _r("FER-GCN (Ours)", (55.67,), "fer_gcn", "full"),
        ),
    ),
    # ------------------------------------------------------------------ FAN (ICIP 2019)
    PaperTable(
        "fan_table1", "fan", "Table 1", "FAN on CK+ against methods evaluated with 7 classes",
        ("CK+",), PROTOCOL_FAN_CK, "accuracy (%)", ("CK+",),
        (
            _r("ST network [23]", (98.50,)),
            _r("DTAGN [12]", (97.25,)),
            _r("CNN+Island loss [24]", (94.35,)),
            _r("LOMo [25]", (92.00,)),
            _r("Score fusion (baseline)", (94.80,), "fan", "score_fusion"),
            _r("FAN (w/o Relation-attention)", (99.08,), "fan", "self_attention"),
            _r("FAN", (99.69,), "fan", "full"),
        ),
        note="the table's 'Training data' / 'Test data' columns (frames each method uses) are text, left out",
    ),
    PaperTable(
        "fan_table2", "fan", "Table 2", "FAN on AFEW 8.0 against the best single models",
        ("AFEW 8.0",), PROTOCOL_AFEW, "accuracy (%)", ("AFEW 8.0",),
        (
            _r("CNN-RNN (2016) [27] (dynamic)", (45.43,)),
            _r("VGGFace + Undirectional LSTM (2017) [10] (dynamic)", (48.60,)),
            _r("HoloNet (2016) [28]", (44.57,)),
            _r("DSN-HoloNet (2017) [29]", (46.47,)),
            _r("DenseNet-161 (2018) [31]", (51.44,)),
            _r("DSN-VGGFace (2018) [30]", (48.04,)),
            _r("Score fusion (baseline)", (48.82,), "fan", "score_fusion"),
            _r("FAN w/o Relation-attention", (50.92,), "fan", "self_attention"),
            _r("FAN", (51.18,), "fan", "full"),
        ),
        note="rows without '(dynamic)' are static models",
    ),
    PaperTable(
        "fan_variants", "fan", "Tables 1–2 (last three rows)", "FAN variants: score fusion, self-attention only, full",
        ("CK+", "AFEW 8.0"), f"CK+: {PROTOCOL_FAN_CK}; AFEW: {PROTOCOL_AFEW}", "accuracy (%)", ("CK+", "AFEW 8.0"),
        (
            _r("Score fusion (baseline)", (94.80, 48.82), "fan", "score_fusion"),
            _r("FAN w/o relation-attention", (99.08, 50.92), "fan", "self_attention"),
            _r("FAN", (99.69, 51.18), "fan", "full"),
        ),
    ),
    PaperTable(
        "fan_k_segments", "fan", "Sec. 3.4 (text)", "FAN on CK+ with K segments (one frame each)",
        ("CK+",), PROTOCOL_FAN_CK, "accuracy (%)", ("CK+",),
        (
            _r("K=2", (99.39,), "fan", "full"),
            _r("K=3 (default)", (99.69,), "fan", "full"),
            _r("K=5", (99.39,), "fan", "full"),
            _r("K=8", (99.69,), "fan", "full"),
        ),
        note="Fig. 3 (backbone CNNs and training strategies) is only a plot and is left out",
    ),
    # ------------------------------------------------------------------ KP-GCN-MSA (2024)
    PaperTable(
        "kp_table3", "kp_gcn_msa", "Table 3", "Comparison with SOTA methods on DFEW",
        ("DFEW",), PROTOCOL_DFEW, "per-class accuracy, UAR, WAR (%)", ("params_M", *_DFEW7, "UAR", "WAR"),
        (
            _r("C3D", (78, 75.17, 39.49, 55.11, 62.49, 45.00, 1.38, 20.51, 42.74, 53.54)),
            _r("P3D", (98, 74.85, 43.40, 54.18, 60.42, 50.99, 0.69, 23.28, 43.97, 54.47)),
            _r("3D Resnet18", (33, 76.32, 50.21, 64.18, 62.85, 47.52, 0.00, 24.56, 46.52, 58.27), "r3d_18", "full"),
            _r("Resnet18+LSTM", (NA, 83.56, 61.56, 68.27, 65.29, 51.26, 0.00, 29.34, 51.32, 51.32), "cnn_lstm", "full"),
            _r("Resnet18+GRU", (NA, 82.87, 63.83, 65.06, 68.51, 52.00, 0.86, 30.14, 51.68, 64.02), "cnn_gru", "full"),
            _r("Former-DFER", (18, 84.05, 62.57, 67.52, 70.03, 56.43, 3.45, 31.78, 53.69, 65.70)),
            _r("STT", (NA, 87.36, 67.90, 64.97, 71.24, 53.10, 3.49, 34.04, 54.58, 66.45)),
            _r("CEFLNet", (13, 84.00, 68.00, 67.00, 70.00, 52.00, 0.00, 17.00, 51.14, 65.35)),
            _r("NR-DFERNet", (19, 86.42, 65.10, 70.40, 72.88, 50.10, 0.00, 45.44, 55.77, 68.01)),
            _r("DPCNet", (51, 89.93, 64.61, 67.12, 63.18, 53.67, 15.86, 31.56, 55.13, 66.32)),
            _r("EST", (43, 86.87, 66.58, 67.18, 71.84, 47.52, 5.52, 28.49, 53.43, 65.85)),
            _r("LOGO-Former", (NA, 85.39, 66.52, 68.94, 71.33, 54.59, 0.00, 32.71, 54.21, 66.98)),
            _r("Ours", (17, 88.42, 67.39, 71.75, 72.72, 54.77, 0.00, 36.90, 55.85, 68.73), "kp_gcn_msa", "full"),
        ),
        non_percent=("params_M",),
        note="Resnet18+LSTM's WAR (51.32) equals its UAR as printed",
    ),
    PaperTable(
        "kp_table4", "kp_gcn_msa", "Table 4", "Comparison with SOTA methods on AFEW",
        ("AFEW",), PROTOCOL_AFEW, "UAR, WAR (%)", ("params_M", "UAR", "WAR"),
        (
            _r("EmotiW-Baseline", (NA, NA, 38.81)),
            _r("C3D", (78, 43.75, 46.72)),
            _r("DenseNet161", (27, NA, 51.44)),
            _r("Emotion-FAN", (NA, NA, 51.18), "fan", "full"),
            _r("Emotion-BEEU", (NA, NA, 52.49)),
            _r("3D ResNet18", (33, 42.14, 45.67), "r3d_18", "full"),
            _r("ResNet18+LSTM", (NA, 43.96, 48.82), "cnn_lstm", "full"),
            _r("ResNet18+GRU", (NA, 45.12, 49.34), "cnn_gru", "full"),
            _r("Former-DFER", (18, 47.42, 50.92)),
            _r("CEFLNet", (13, 48.29, 53.98)),
            _r("EST", (43, 49.57, 54.26)),
            _r("ESTLNet", (NA, NA, 53.79)),
            _r("Ours", (17, 50.14, 55.00), "kp_gcn_msa", "full"),
        ),
        non_percent=("params_M",),
    ),
    PaperTable(
        "kp_table5", "kp_gcn_msa", "Table 5", "Comparison with SOTA methods on FERV39k",
        ("FERV39k",), PROTOCOL_FERV, "per-class accuracy, UAR, WAR (%)", ("params_M", *_DFEW7, "UAR", "WAR"),
        (
            _r("C3D", (78, 48.20, 35.53, 52.71, 13.72, 3.45, 4.93, 0.23, 22.68, 31.69)),
            _r("P3D", (98, 61.85, 42.21, 49.80, 42.57, 10.50, 0.86, 5.57, 30.48, 40.81)),
            _r("3D Resnet18", (33, 57.64, 28.21, 59.60, 33.29, 4.70, 0.21, 3.02, 26.67, 37.57), "r3d_18", "full"),
            _r("Resnet18+LSTM", (NA, 61.91, 31.95, 61.70, 45.93, 14.26, 0.00, 0.70, 30.92, 42.59), "cnn_lstm", "full"),
            _r("Former-DFER", (18, 65.65, 51.33, 56.74, 43.64, 21.94, 8.57, 12.53, 37.20, 46.85)),
            _r("STT", (NA, 69.77, 47.81, 59.14, 47.41, 20.22, 10.49, 9.51, 37.76, 48.11)),
            _r("NR-DFERNet", (19, 69.18, 54.77, 51.12, 49.70, 13.17, 0.00, 0.23, 35.82, 48.54)),
            _r("LOGO-Former", (NA, NA, NA, NA, NA, NA, NA, NA, 38.22, 48.13)),
            _r("Ours", (17, 64.90, 49.95, 66.24, 51.54, 13.25, 0.00, 0.00, 35.16, 47.80), "kp_gcn_msa", "full"),
        ),
        non_percent=("params_M",),
    ),
    PaperTable(
        "kp_table6", "kp_gcn_msa", "Table 6", "FERV39k scene subsets",
        ("FERV39k",), PROTOCOL_FERV, "WAR (%)",
        ("All", "DL11k", "WIS9k", "SIA10k", "AI9k", "Social", "Conflict", "Argue", "Action", "Art"),
        (
            _r("R18", (39.33, 39.75, 40.50, 42.31, 33.90, 39.74, 39.52, 44.09, 50.61, 33.33)),
            _r("R50", (30.57, 30.46, 32.52, 30.56, 30.14, 27.51, 31.14, 36.96, 37.80, 31.35)),
            _r("C3D", (31.69, 26.95, 30.15, 42.70, 27.29, 34.50, 21.96, 31.52, 35.98, 28.97)),
            _r("I3D", (38.78, 38.56, 38.52, 40.55, 37.44, 37.55, 34.93, 43.34, 39.63, 37.72)),
            _r("Ours", (47.80, 49.88, 44.83, 46.56, 47.65, 52.73, 47.66, 59.28, 59.46, 55.74), "kp_gcn_msa", "full"),
        ),
        note="the metric is not named in the table; 'All' equals the WAR of Table 5",
    ),
    PaperTable(
        "kp_table7", "kp_gcn_msa", "Table 7", "Comparison with SOTA methods on MAFW",
        ("MAFW",), PROTOCOL_MAFW, "per-class accuracy, UAR, WAR (%)", (*_MAFW11, "UAR", "WAR"),
        (
            _r("ResNet18", (45.02, 9.25, 22.51, 70.69, 35.94, 52.25, 39.04, 0.00, 6.67, 0.00, 0.00, 25.58, 36.65)),
            _r("ViT", (46.03, 18.18, 27.49, 76.89, 50.70, 68.19, 45.13, 1.27, 18.93, 1.53, 1.65, 32.36, 45.04)),
            _r("C3D", (51.47, 10.66, 24.66, 70.64, 43.81, 55.04, 46.61, 1.68, 24.34, 5.73, 4.93, 31.17, 42.25)),
            _r("Res+LSTM", (46.25, 4.70, 25.56, 68.92, 44.99, 51.91, 45.88, 1.69, 15.75, 1.53, 1.65, 28.08, 39.38),
               "cnn_lstm", "full"),
            _r("ViT+LSTM", (42.42, 14.58, 35.69, 76.25, 54.48, 68.87, 41.01, 0.00, 24.40, 0.00, 1.65, 32.67, 45.56)),
            _r("C3D+LSTM", (54.91, 0.47, 9.00, 73.43, 41.39, 64.92, 58.43, 0.00, 24.62, 0.00, 0.00, 29.75, 43.76)),
            _r("T-ESFL", (62.70, 2.51, 29.90, 83.82, 61.16, 67.98, 48.50, 0.00, 9.52, 0.00, 0.00, 33.28, 48.18)),
            _r("Ours", (61.87, 13.28, 15.20, 74.40, 51.75, 69.18, 47.20, 0.00, 28.42, 5.66, 0.00, 33.39, 47.44),
               "kp_gcn_msa", "full"),
        ),
        note="AN anger, DI disgust, FE fear, HA happiness, NE neutral, SA sadness, SU surprise, CO contempt, "
             "AX anxiety, HL helplessness, DS disappointment",
    ),
    PaperTable(
        "kp_table8", "kp_gcn_msa", "Table 8", "Parameters and inference efficiency (RTX 3090; training on DFEW fold 1, 80 epochs)",
        ("DFEW",), PROTOCOL_DFEW, "params (M), inference (samples/s), training time (h), WAR (%)",
        ("params_M", "inference_samples_per_s", "training_time_h", "WAR"),
        (
            _r("Dense-161", (27, 4, 19, 60.40)),
            _r("Former-DFER", (13, 86, 17.5, 65.70)),
            _r("NR-DFER", (19, 76, 8.5, 68.01)),
            _r("Ours", (17, 52, 6, 68.73), "kp_gcn_msa", "full"),
        ),
        non_percent=("params_M", "inference_samples_per_s", "training_time_h"),
        note="Former-DFER is listed with 13 M parameters here and 18 M in Tables 3–5, as printed",
    ),
    PaperTable(
        "kp_table9", "kp_gcn_msa", "Table 9", "Ablation on the proposed components (Fig. 7 a–e)",
        ("DFEW",), PROTOCOL_DFEW, "WAR (%)", ("FEM", "GCN", "LSTM", "MSA", "DFEW"),
        (
            _r("A", (1, 0, 0, 0, 64.80), "kp_gcn_msa", "table9_A"),
            _r("B", (1, 1, 0, 0, 65.48), "kp_gcn_msa", "table9_B"),
            _r("C", (1, 1, 1, 0, 66.72), "kp_gcn_msa", "table9_C"),
            _r("D", (1, 0, 0, 1, 67.30), "kp_gcn_msa", "table9_D"),
            _r("E", (1, 1, 0, 1, 68.73), "kp_gcn_msa", "full"),
        ),
        non_percent=("FEM", "GCN", "LSTM", "MSA"),
        note="FEM/GCN/LSTM/MSA are 1 where the row uses the component (reconstructed from the text, see module docstring)",
    ),
    PaperTable(
        "kp_table10_fusion", "kp_gcn_msa", "Table 10", "Ablation of the spatial feature fusion module",
        ("DFEW", "AFEW"), f"DFEW: {PROTOCOL_DFEW}; AFEW: {PROTOCOL_AFEW}", "WAR (%)", ("DFEW", "AFEW"),
        (
            _r("mean", (67.07, 53.95), "kp_gcn_msa", "fusion_mean"),
            _r("lstm", (67.02, 53.68), "kp_gcn_msa", "fusion_lstm"),
            _r("structure", (68.73, 55.00), "kp_gcn_msa", "full"),
        ),
        note="the paper's rows read 'mean-based', 'LSTM-based' and 'structure-based fusion method'",
    ),
    PaperTable(
        "kp_table11_heads", "kp_gcn_msa", "Table 11", "Number of heads of the MSA module",
        ("DFEW", "AFEW"), f"DFEW: {PROTOCOL_DFEW}; AFEW: {PROTOCOL_AFEW}", "WAR (%)", ("DFEW", "AFEW"),
        (
            _r("H=6", (68.01, 53.42), "kp_gcn_msa", "heads6"),
            _r("H=8", (68.73, 55.00), "kp_gcn_msa", "heads8"),
            _r("H=10", (65.70, 53.95), "kp_gcn_msa", "heads10"),
            _r("H=12", (68.35, 54.47), "kp_gcn_msa", "heads12"),
        ),
    ),
    PaperTable(
        "kp_table12_depth", "kp_gcn_msa", "Table 12", "Depth of the temporal transformer",
        ("DFEW", "AFEW"), f"DFEW: {PROTOCOL_DFEW}; AFEW: {PROTOCOL_AFEW}", "WAR (%)", ("DFEW", "AFEW"),
        (
            _r("L=2", (63.56, 53.16), "kp_gcn_msa", "depth2"),
            _r("L=3", (68.73, 55.00), "kp_gcn_msa", "full"),
            _r("L=4", (67.41, 53.68), "kp_gcn_msa", "depth4"),
            _r("L=5", (67.24, 51.58), "kp_gcn_msa", "depth5"),
            _r("L=6", (67.66, 52.11), "kp_gcn_msa", "depth6"),
        ),
    ),
    PaperTable(
        "kp_fig8_lambda", "kp_gcn_msa", "Fig. 8 (best point, Sec. 4.4.3)", "Loss weight λ of eq. 13",
        ("DFEW",), PROTOCOL_DFEW, "WAR (%)", ("lambda", "DFEW"),
        (_r("λ=0.2", (0.2, 68.73), "kp_gcn_msa", "full"),),
        non_percent=("lambda",),
        note="Fig. 8 is a plot; only its best point (λ = 0.2 → 68.73 %) is given as a number. "
             "λ is not tried above 0.5 (L_S is the auxiliary loss)",
    ),
    # ------------------------------------------------------------------ ST-GCN (blog post)
    PaperTable(
        "stgcn_affwild2", "stgcn", "blog post text", "ST-GCN over 68 landmarks × 45 frames on Aff-Wild2",
        ("Aff-Wild2",), "5 classes (happy, sad, neutral, anger, surprise), 45-frame clips; 1200 train / 586 validation clips",
        "validation accuracy (%)", ("Aff-Wild2",),
        (
            _r("ST-GCN", (58.27,), "stgcn", "full"),
            _r("multi-stream ST-GCN (RA-GCN style)", (44.93,), "stgcn", "multistream"),
        ),
        note="the post says the multi-stream model over-fitted the small training set",
    ),
]

#: key → table
PAPER_TABLES: dict[str, PaperTable] = {t.key: t for t in _TABLES}

#: each method's headline results: (table key, row label, column) per data set
HEADLINES: dict[str, list[tuple[str, str, str]]] = {
    "fer_gcn": [("fer_gcn_table1", "FER-GCN (Ours)", "CK+"), ("fer_gcn_table1", "FER-GCN (Ours)", "Oulu-CASIA"),
                ("fer_gcn_table1", "FER-GCN (Ours)", "MMI"), ("fer_gcn_table6", "FER-GCN (Ours)", "AFEW 8.0")],
    "fan": [("fan_table1", "FAN", "CK+"), ("fan_table2", "FAN", "AFEW 8.0")],
    "kp_gcn_msa": [("kp_table3", "Ours", "WAR"), ("kp_table3", "Ours", "UAR"), ("kp_table4", "Ours", "WAR"),
                   ("kp_table4", "Ours", "UAR"), ("kp_table5", "Ours", "WAR"), ("kp_table5", "Ours", "UAR"),
                   ("kp_table7", "Ours", "WAR"), ("kp_table7", "Ours", "UAR")],
    "stgcn": [("stgcn_affwild2", "ST-GCN", "Aff-Wild2"), ("stgcn_affwild2", "multi-stream ST-GCN (RA-GCN style)", "Aff-Wild2")],
}

#: KP-GCN-MSA Table 2, the sizes of the in-the-wild sets: training and validation (= test) clips per
#: fold and the folds (DFEW's and MAFW's sizes are printed as "≈ 9400", "≈ 2300", "≈ 7300", "≈ 1830")
DATASET_SIZES: dict[str, dict[str, float]] = {
    "afew": {"train": 773, "test": 383, "folds": 1},
    "dfew": {"train": 9400, "test": 2300, "folds": 5},
    "ferv39k": {"train": 31088, "test": 7847, "folds": 1},
    "mafw": {"train": 7300, "test": 1830, "folds": 5},
}


def paper_tables() -> list[str]:
    """The keys :func:`paper_table` knows."""
    return list(PAPER_TABLES)


def paper_table(key: str) -> pd.DataFrame:
    """One of the papers' tables as a DataFrame.

    Index: the paper's row labels. Columns: ``method`` and ``variant`` (the ferlib model a row
    corresponds to, or ``None`` for other published methods), then the table's numeric columns
    (percent unless listed in ``attrs["non_percent"]``; NaN where the paper prints "-").
    ``attrs``: key, paper, source (table/figure), title, datasets, protocol, metric, non_percent, note.
    ``"headlines"`` gives every method's main results (see :func:`headline_results`)."""
    if key == "headlines":
        return headline_results()
    if key not in PAPER_TABLES:
        raise KeyError(f"unknown paper table {key!r}; known tables: {', '.join(paper_tables() + ['headlines'])}")
    return PAPER_TABLES[key].frame()


def headline_results(method: str | None = None) -> pd.DataFrame:
    """The main results of each method (or of one): one row per (method, data set, metric) with the
    value (%), the data set, protocol, the table it comes from and the paper's file."""
    if method is not None and method not in HEADLINES:
        raise KeyError(f"unknown method {method!r}; known: {sorted(HEADLINES)}")
    rows = []
    for m, entries in HEADLINES.items():
        if method is not None and m != method:
            continue
        for key, label, column in entries:
            t = PAPER_TABLES[key]
            value = t.frame().loc[label, column]
            dataset = column if column in t.datasets else t.datasets[0]
            metric = column if column in ("UAR", "WAR") else t.metric
            rows.append({"method": m, "model": label, "dataset": dataset, "metric": metric, "value": float(value),
                         "protocol": t.protocol, "source": t.source, "paper": t.paper})
    return pd.DataFrame(rows)


#: the papers' class abbreviations → ferlib's canonical class names
CLASS_CODES = {"an": "anger", "co": "contempt", "di": "disgust", "fe": "fear", "ha": "happy", "sa": "sad",
               "su": "surprise", "ne": "neutral", "ax": "anxiety", "hl": "helplessness", "ds": "disappointment"}
#: tables holding per-class accuracy (%): the confusion matrices (diagonal) and the per-class columns
PER_CLASS_TABLES = ("fer_gcn_table2", "fer_gcn_table3", "fer_gcn_table4", "kp_table3", "kp_table5", "kp_table7")


def canonical(name: str) -> str:
    """A paper's class label (``"An"``, ``"HA"``, ``"happy"``) as ferlib's canonical lower-case name."""
    low = name.strip().lower()
    return CLASS_CODES.get(low, low)


def paper_per_class(key: str, row: str | None = None) -> pd.Series:
    """Per-class accuracy (%) a paper reports, indexed by canonical class name.

    For a confusion matrix (FER-GCN Tables II–IV) it is the diagonal; for KP-GCN-MSA Tables 3, 5
    and 7 it is the per-class columns of ``row`` (default: the paper's own method, "Ours")."""
    if key not in PER_CLASS_TABLES:
        raise KeyError(f"paper table {key!r} has no per-class numbers; those that do: {', '.join(PER_CLASS_TABLES)}")
    t = PAPER_TABLES[key]
    df = t.frame()
    if key.startswith("fer_gcn_table"):
        values = [df.loc[c, c] for c in t.columns]
        classes = list(t.columns)
    else:
        own = list(df.index[(df["variant"] == "full") & (df["method"] == t.method)])
        if row is None and len(own) != 1:  # rows sharing the variant differ by a setting: none is "the" row
            raise KeyError(f"paper table {key!r} has {len(own)} rows of {t.method!r} variant 'full', expected one; name the row")
        label = row if row is not None else own[0]
        if label not in df.index:
            raise KeyError(f"paper table {key!r} has no row {label!r}; rows: {list(df.index)}")
        classes = [c for c in t.columns if c not in ("params_M", "UAR", "WAR")]
        values = [df.loc[label, c] for c in classes]
    out = pd.Series([float(v) for v in values], index=[canonical(c) for c in classes], name=f"{t.source} ({t.datasets[0]})")
    out.index.name = "class"
    return out


@dataclass(frozen=True)
class PaperCost:
    """A published cost figure: parameters (M), inference clips/s, training hours, and where from."""

    params_m: float = NA
    clips_per_s: float = NA
    train_h: float = NA
    source: str = ""


def _kp_table8_cost() -> PaperCost:
    row = PAPER_TABLES["kp_table8"].frame().loc["Ours"]
    return PaperCost(float(row["params_M"]), float(row["inference_samples_per_s"]), float(row["training_time_h"]),
                     "KP-GCN-MSA Table 8: RTX 3090; training = 80 epochs on DFEW fold 1")


#: the published cost figures of ferlib's methods, by method (NaN where the source gives none; the cost
#: table, :func:`ferlib.analysis.cost.cost_table`, shows them beside ours)
PAPER_COST: dict[str, PaperCost] = {
    "kp_gcn_msa": _kp_table8_cost(),
    "r3d_18": PaperCost(33, source="KP-GCN-MSA Table 3 (3D ResNet-18)"),
    "fan": PaperCost(11.19, source="not in the FAN paper: the official Emotion-FAN code has 11,188,816"),
    "stgcn": PaperCost(3.2, source="not in the blog post: ST-GCN's reference code on 68 landmarks, about 3.2 M"),
    "cnn_lstm": PaperCost(source="KP-GCN-MSA Table 3 lists ResNet18+LSTM without a parameter count"),
    "fer_gcn": PaperCost(source="the FER-GCN paper gives no cost figures"),
}
