"""FER-GCN: graph-based spatial-temporal modules over the frames of a clip (the FER-GCN paper and its slides).

Pipeline, for a clip of N frames ``(B, N, C, H, W)``:

1. **CNN feature extraction** — ``self.trunk`` (VGG16-BN in the paper model) runs once on the
   ``B·N`` frames; each ``(C', h, w)`` map becomes a d-dimensional node feature ``H_i``.
2. **Graph-based modules** (Sec. III-A), ``num_modules`` of them stacked (2 in the paper). Each one
   is a GCN layer over the N frame nodes followed by a BiLSTM. The GCN layer implements eq. 1–4:
   ``o_i = f(A_iī M_i ⊕ A_ii H_i W) = f(Σ_j A_ij H_j W)``, i.e. ``O = LeakyReLU_0.2(A · H · W)``
   with one learnable adjacency ``A ∈ R^{N×N}`` initialised to the identity and **shared by all
   modules** ("two such graph based modules sharing the same adjacency matrix").
3. **Weighted feature fusion** (Sec. III-B): ``weight = softmax(mean(A, dim=0))`` (eq. 7) computed
   on a *detached* A (the paper freezes A's gradient in this branch), then ``r = Σ_i weight_i H_i``
   (eq. 8).
4. A linear classifier on ``r``.

Choices the paper leaves open (each one a constructor parameter):

* **CNN map → node feature** (``node_activation``): global average pooling of the trunk's last
  map, then ``Linear(C' → d)`` and, by default, a ReLU. The paper says only that the CNN gives
  d = 256-dimensional node features.
* **GCN weight** (``gcn_bias``): ``W^l`` is a ``d×d`` matrix without bias, as in eq. 2.
* **BiLSTM size and read-out** (``lstm_output``): eq. 6 gives ``U_f, U_b ∈ R^{d/2×2d}``, so each
  direction has ``d/2`` hidden units; its ``V_f, V_b`` (``d/2 → d``) plus bias and ``tanh`` map the
  two directions back to d. ``"project"`` (default) implements that read-out as
  ``tanh(Linear(d → d)([h_f : h_b]))``; ``"concat"`` uses the plain concatenation ``[h_f : h_b]``.
  One LSTM layer per module.
* **Classifier**: ``Dropout(dropout)`` (0 by default: the paper names none) then ``Linear(d → C)``.
* **Frame count**: A is N×N, so the model takes exactly ``num_frames`` frames (the
  ``chronological`` sampler reuses frames of short clips, as the paper does).
* **Pretrained CNN**: the paper starts VGG16-BN from ImageNet. The paper model keeps
  ``weights=None`` so that it builds on machines without the file; pass
  ``weights="IMAGENET1K_V1"`` when it is in torch's hub cache.
* **Training recipe** (for the engine, not used here): input resized to 256, random crop 224, flip
  and illumination jitter; SGD, lr 1e-3, weight decay 5e-5, 120 epochs (momentum unstated).

Table V ablation rows are registry variants: ``backbone`` (CNN, mean over frames), ``gcn_x1``,
``gcn_x2``, ``gcn_x3`` (modules, mean over frames) and ``full`` (two modules + weighted fusion).

``extras`` keys:

* ``"intensity_weights"`` ``(B, N)`` — the fusion weights of eq. 7 (uniform ``1/N`` in the
  variants without weighted fusion). They depend only on A, so every clip gets the same row.
* ``"frame_weights"`` ``(B, N)`` — the same tensor, under the name every ferlib model uses.
* ``"embedding"`` ``(B, d)`` — the fused representation r of eq. 8.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

from ferlib.models.backbones import InputNormalisation, build_backbone
from ferlib.models.base import FERModel, ModelOutput
from ferlib.models.registry import DEMO_CHOICE, DEMO_DEFAULTS, DEMO_PRETRAINED, GALLERY, MethodSpec, ModelProfile, PaperItem, PaperRefs, cite, register

Fusion = Literal["weighted", "mean"]
LSTMOutput = Literal["project", "concat"]


class GraphModule(nn.Module):
    """One graph-based spatial-temporal module: GCN layer (eq. 1–4) then BiLSTM (eq. 6).

    The adjacency is *not* a parameter of this module: the owner passes its shared A to
    :meth:`forward`, so every module of a model uses the very same tensor.
    """

    def __init__(
        self,
        dim: int,
        negative_slope: float = 0.2,
        gcn_bias: bool = False,
        lstm_output: LSTMOutput = "project",
    ) -> None:
        super().__init__()
        if dim < 2 or dim % 2:
            raise ValueError(f"node_dim must be an even int >= 2 (BiLSTM of d/2 units per direction), got {dim!r}")
        if lstm_output not in ("project", "concat"):
            raise ValueError(f"lstm_output must be 'project' or 'concat', got {lstm_output!r}")
        self.weight = nn.Linear(dim, dim, bias=gcn_bias)  # W^l of eq. 2
        self.act = nn.LeakyReLU(negative_slope)  # f(·) of eq. 4
        self.lstm = nn.LSTM(dim, dim // 2, batch_first=True, bidirectional=True)  # eq. 6, d/2 per direction
        self.readout: nn.Module = (
            nn.Sequential(nn.Linear(dim, dim), nn.Tanh()) if lstm_output == "project" else nn.Identity()
        )

    def forward(self, nodes: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        """``nodes (B, N, d)``, ``adjacency (N, N)`` → updated node features ``(B, N, d)``."""
        messages = self.weight(nodes)  # H W: eq. 2 for every node at once
        out = self.act(torch.matmul(adjacency, messages))  # eq. 4: o_i = f(Σ_j A_ij H_j W)
        out, _ = self.lstm(out)  # eq. 6: both directions, (B, N, d)
        return self.readout(out)


class FERGCN(FERModel):
    """FER-GCN (see the module docstring for the equations and every open choice).

    Takes clips ``(B, N, 3, H, W)`` with ``N == num_frames``; returns logits ``(B, num_classes)`` and
    ``extras`` with ``intensity_weights``/``frame_weights`` ``(B, N)`` and ``embedding`` ``(B, d)``.
    """

    def __init__(
        self,
        num_classes: int,
        backbone: str = "vgg16_bn",
        weights: str | None = None,
        backbone_kwargs: dict[str, Any] | None = None,
        num_frames: int = 16,
        node_dim: int = 256,
        num_modules: int = 2,
        fusion: Fusion = "weighted",
        negative_slope: float = 0.2,
        gcn_bias: bool = False,
        lstm_output: LSTMOutput = "project",
        node_activation: bool = True,
        dropout: float = 0.0,
        detach_fusion: bool = True,
    ) -> None:
        super().__init__(num_classes)
        if not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f"num_frames must be an int >= 1, got {num_frames!r}")
        if not isinstance(num_modules, int) or num_modules < 0:
            raise ValueError(f"num_modules must be an int >= 0, got {num_modules!r}")
        if fusion not in ("weighted", "mean"):
            raise ValueError(f"fusion must be 'weighted' or 'mean', got {fusion!r}")
        if fusion == "weighted" and num_modules == 0:
            raise ValueError(
                "fusion='weighted' needs at least one graph module: the weights come from the GCN "
                "adjacency A, which is only learned through the modules (use fusion='mean')"
            )
        self.num_frames = num_frames
        self.fusion = fusion
        self.detach_fusion = detach_fusion

        net = build_backbone(backbone, weights, **(backbone_kwargs or {}))
        self.trunk = net.trunk
        self.input_norm = InputNormalisation()
        embed: list[nn.Module] = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(net.out_channels, node_dim)]
        if node_activation:
            embed.append(nn.ReLU(inplace=True))
        self.embed = nn.Sequential(*embed)

        # the one adjacency A (N×N), initialised to the identity; shared by every module
        self.adjacency = nn.Parameter(torch.eye(num_frames)) if num_modules > 0 else None
        self.graph_modules = nn.ModuleList(
            GraphModule(node_dim, negative_slope, gcn_bias, lstm_output) for _ in range(num_modules)
        )
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(node_dim, num_classes))

    def gcn_adjacency(self) -> torch.Tensor:
        """The adjacency the GCN layers use (the shared parameter A itself)."""
        assert self.adjacency is not None
        return self.adjacency

    def intensity_weights(self) -> torch.Tensor:
        """Expression intensity weights ``(N,)``: ``softmax(mean(A, dim=0))`` (eq. 7) on a detached A,
        or uniform ``1/N`` when the model fuses by the mean."""
        if self.fusion == "mean" or self.adjacency is None:
            return torch.full((self.num_frames,), 1.0 / self.num_frames, device=self.classifier[1].weight.device)
        a = self.adjacency.detach() if self.detach_fusion else self.adjacency
        return torch.softmax(a.mean(dim=0), dim=0)

    def forward(self, clips: torch.Tensor) -> ModelOutput:
        b, t = self.check_clips(clips)
        if t != self.num_frames:
            raise ValueError(
                f"FERGCN was built for N={self.num_frames} frames (its adjacency is "
                f"{self.num_frames}x{self.num_frames}), got clips with T={t}; sample clips with the "
                "'chronological' sampler of the same size or build the model with num_frames=T"
            )
        maps = self.trunk(self.input_norm(clips.flatten(0, 1)))  # (B·N, C', h, w), one pass over all frames
        nodes = self.embed(maps).unflatten(0, (b, t))  # (B, N, d)
        for module in self.graph_modules:
            nodes = module(nodes, self.gcn_adjacency())
        weights = self.intensity_weights().unsqueeze(0).expand(b, -1)  # (B, N)
        fused = torch.einsum("bn,bnd->bd", weights, nodes)  # eq. 8: r = Σ_i weight_i H_i
        logits = self.classifier(fused)
        return logits, {"intensity_weights": weights, "frame_weights": weights, "embedding": fused}


def build_fer_gcn(num_classes: int = 7, **kwargs: Any) -> FERGCN:
    """Registry factory."""
    return FERGCN(num_classes=num_classes, **kwargs)


# --------------------------------------------------------------------------- the method

#: the FER-GCN paper's tables and figures, and what regenerates each (the gallery's list)
PAPER_ITEMS = (
    PaperItem("Table I", "accuracy on CK+, Oulu-CASIA and MMI beside earlier methods", "table",
              "notebook 02, *Beside the paper*", ("02_fer_gcn_vs_paper.csv", "02_fer_gcn_vs_paper.md")),
    PaperItem("Table II", "CK+ per-class accuracy (confusion matrix)", "table", "notebook 02, *Confusion matrix*",
              ("02_fer_gcn_per_class_vs_paper.csv", "02_fer_gcn_per_class_vs_paper.md", "02_fer_gcn_confusion.png")),
    PaperItem("Table III", "Oulu-CASIA per-class accuracy", "table", f"{GALLERY} (Oulu-CASIA layout)",
              ("gallery/fer_gcn_oulu_per_class.csv", "gallery/fer_gcn_oulu_per_class.md",
               "gallery/fer_gcn_oulu_confusion.png")),
    PaperItem("Table IV", "MMI per-class accuracy", "table", f"{GALLERY} (MMI layout)",
              ("gallery/fer_gcn_mmi_per_class.csv", "gallery/fer_gcn_mmi_per_class.md", "gallery/fer_gcn_mmi_confusion.png")),
    PaperItem("Table V", "ablation: graph modules and weighted fusion", "table", "notebook 06, *FER-GCN Table V*",
              ("06_fer_gcn_table5.csv", "06_fer_gcn_table5.md", "06_fer_gcn_table5.png")),
    PaperItem("Table VI", "AFEW 8.0 Train → Val beside earlier methods", "table", f"{GALLERY} (AFEW layout)",
              ("gallery/fer_gcn_afew_vs_paper.csv", "gallery/fer_gcn_afew_vs_paper.md", "gallery/fer_gcn_afew_vs_paper.png")),
    PaperItem("Fig. 1", "a clip's frames, their CNN features and their GCN features as heat-maps", "figure",
              "notebook 08, *FER-GCN Fig. 1* (maps of the per-frame CNN and of FER-GCN; how much a clip's frames agree)",
              ("08_fer_gcn_fig1.png", "08_fer_gcn_fig1_consistency.csv", "08_fer_gcn_fig1_consistency.md")),
    PaperItem("Fig. 2", "architecture", "diagram"),
    PaperItem("Fig. 3", "features of a clip's frames before and after the GCN layer", "figure",
              "notebook 08, *FER-GCN Fig. 3* (as similarity to the apex frame, not heat-maps)",
              ("08_fer_gcn_fig3.png", "08_fer_gcn_fig3_similarity.csv", "08_fer_gcn_fig3_similarity.md")),
    PaperItem("Fig. 4", "expression-intensity weights over 16 frames", "figure", "notebook 07, *FER-GCN Fig. 4*",
              ("07_fer_gcn_intensity.png", "07_weight_correlations.csv", "07_weight_correlations.md")),
)

_TEXT = "FER-GCN paper §IV-B"
_PAPER = {
    **cite(_TEXT, optimizer="sgd", lr=1e-3, weight_decay=5e-5, epochs=120, sampler="chronological", num_frames=16,
           test_sampler="chronological", augmentation="resize_crop", init_trunk="imagenet"),
    **cite("ferlib's choice (the paper states no momentum)", momentum=0.9),
    **cite("ferlib's choice (the paper states no batch size)", batch_size=16),
    **cite("FER-GCN paper §IV-B names no lr schedule", schedule="constant"),
}
_SUBJECT10 = cite("FER-GCN paper §IV-A: 10-fold subject-independent CV", protocol=("subject_kfold", {"k": 10}))

SPEC = register(MethodSpec(
    name="fer_gcn",
    factory=build_fer_gcn,
    description="FER-GCN (Liu, Zhang, Zhou): frame nodes, learnable shared adjacency, BiLSTM, intensity-weighted fusion",
    inputs="frames",
    byproducts=("embedding", "frame_weights", "intensity_weights"),
    weight_claims=(
        ("intensity_weights", "same", "FER-GCN Fig. 4: do its weights follow the intensity?"),
        ("intensity_weights", "return", "FER-GCN trained where the apex is mid-clip: a mid-clip peak?"),
        ("intensity_weights", "moved", "the same FER-GCN weights on clips with another timing"),
    ),
    cost_row=True,
    profiles={
        "demo": ModelProfile(
            kwargs={"backbone": "small_cnn", "backbone_kwargs": {"width": 16, "whole_map": 4}, "num_frames": 16, "node_dim": 64},
            input_side=64,
            num_frames=16,
            sampler="chronological",
        ),
        "paper": ModelProfile(
            kwargs={"backbone": "vgg16_bn", "num_frames": 16, "node_dim": 256},
            input_side=224,
            num_frames=16,
            sampler="chronological",
        ),
    },
    variants={
        "backbone": {"num_modules": 0, "fusion": "mean"},
        "gcn_x1": {"num_modules": 1, "fusion": "mean"},
        "gcn_x2": {"num_modules": 2, "fusion": "mean"},
        "gcn_x3": {"num_modules": 3, "fusion": "mean"},
        "full": {"num_modules": 2, "fusion": "weighted"},
    },
    recipes={
        "ckplus": {**_PAPER, **_SUBJECT10},
        "oulu": {**_PAPER, **_SUBJECT10},
        "mmi": {**_PAPER, **_SUBJECT10},
        "afew": {**_PAPER, **cite("FER-GCN paper Table VI: AFEW 8.0 Train → Val",
                                   protocol=("train_test", {"train": "train", "test": "val"}))},
        "synth": {**_PAPER, **cite("ferlib's choice: the CK+ recipe on the generated set", protocol=("subject_kfold", {"k": 10}))},
        # Adam at a constant 1e-3 trained the small model better than AdamW with cosine decay on the generated
        # set; 10 epochs keep `make demo`, which trains FER-GCN in several notebooks, in budget (the results are
        # notebook 02's and 06's files)
        "demo": {**DEMO_DEFAULTS, **DEMO_PRETRAINED,
                 **cite(DEMO_CHOICE, optimizer="adam", lr=1e-3, weight_decay=0.0,
                        schedule="constant", epochs=10)},
    },
    papers=PaperRefs(
        paper='FER-GCN (Liu, Zhang, Zhou)', items=PAPER_ITEMS,
        main={"ckplus": ("fer_gcn_table1", "CK+"), "oulu": ("fer_gcn_table1", "Oulu-CASIA"),
              "mmi": ("fer_gcn_table1", "MMI"), "afew": ("fer_gcn_table6", "AFEW 8.0")},
        per_class={"ckplus": "fer_gcn_table2", "oulu": "fer_gcn_table3", "mmi": "fer_gcn_table4"},
        # rows named by what they add to the per-frame CNN, not by the paper's VGG16: the trunk is
        # the run's (the demo's small CNN, or VGG16-BN under the paper model); the paper's rows match by variant
        ablations={"fer_gcn_table5": [
            {"label": "CNN only (backbone)", "variant": "backbone"},
            {"label": "CNN + GCN x1", "variant": "gcn_x1"},
            {"label": "CNN + GCN x2", "variant": "gcn_x2"},
            {"label": "CNN + GCN x3", "variant": "gcn_x3"},
            {"label": "FER-GCN (x2 + weighted fusion)", "variant": "full"},
        ]},
    ),
    notebook="02_fer_gcn.ipynb",
))
