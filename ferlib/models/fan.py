"""Frame Attention Networks (FAN, ICIP 2019) and its baselines.

For a clip of T frames ``(B, T, C, H, W)``, a ResNet-18 (``self.trunk``, run once on ``B·T``
frames, average-pooled) gives frame features ``f_i`` (512-d). Then, with ``Drop = Dropout(0.5)``
in front of both attention heads (official code; the paper omits it):

* eq. 1, self-attention: ``α_i = σ(Linear_{512→1}(Drop(f_i)))`` (the Linear has a bias);
* eq. 2, anchor: ``f′ = Σ_i α_i f_i / Σ_i α_i``;
* eq. 3, relation attention: ``β_i = σ(Linear_{1024→1}(Drop([f_i : f′])))``;
* eq. 4, video feature: ``f_v = Σ_i α_i β_i [f_i : f′] / Σ_i α_i β_i`` (1024-d);
* classifier: ``Linear_{1024→C}(Dropout(0.6)(f_v))``.

Variants (registry ``variants``; constructor ``attention``):

* ``full`` (``"relation"``): the model above.
* ``self_attention`` (``"self"``): "FAN w/o relation-attention": ``Linear_{512→C}(Drop(f′))`` (the
  official code applies the 0.5 dropout before this head too).
* ``score_fusion`` (``"score_fusion"``): the papers' baseline: ``Linear_{512→C}`` on every frame,
  scores fused by :func:`ferlib.models.baselines.fuse_frame_scores` (mean of the frame
  probabilities by default; the official baseline sums them, which ranks classes the same).
* ``full_official_eval``: ``full`` with ``official_eval=True``.

**Batch norm in training.** ``bn_batches="clip"`` (default) runs the trunk once over all ``B·T``
frames, so BatchNorm sees one batch of ``B·T`` frames; ``"position"`` reproduces the official code,
which runs the trunk once per frame position (``T`` BatchNorm batches of ``B`` frames). Both give
the same result in eval mode; the ``official`` recipes use ``"position"``.

**Evaluation formula.** The paper's eq. 4 (``αβ`` in numerator and denominator) is used in training
and evaluation. The official code evaluates with ``Σ_i α_i [f_i : f′] / Σ_i α_i β_i`` (numerator
without β); ``official_eval=True`` reproduces that in ``eval()`` mode only (training is unchanged).

**Parameter layout.** ``official_layout=True`` (the ``paper`` size) keeps all four heads of the
official network in every variant — ``alpha`` (512→1), ``beta`` (1024→1), ``self_head`` (official
``pred_fc1``, 512→C) and ``relation_head`` (``pred_fc2``, 1024→C) — so the ResNet-18 paper model
has exactly 11,188,816 parameters for 7 classes and any official checkpoint loads into any
variant (:func:`ferlib.models.foreign.load_emotion_fan_state_dict`). The heads a variant does not
use then get no gradient: under DDP use ``find_unused_parameters=True`` (or ``static_graph=True``).
``official_layout=False`` (the ``demo`` size) builds only the heads the variant uses.

Paper settings not used by the model: K = 3 segments with one random frame each in training,
every frame at evaluation; input 224 (face box + 25 %), no mean/std normalisation; backbone
pre-trained on MS-Celeb-1M and FER+ (load the published file with the foreign loader); SGD,
momentum 0.9, weight decay 1e-4, batch 48.

``extras`` keys (per frame ``(B, T)``, clip ``(B, D)``):

* ``"alpha"`` — α_i (``self_attention`` and ``full``);
* ``"beta"`` and ``"alpha_beta"`` — β_i and α_iβ_i (``full``);
* ``"frame_weights"`` — the weights the aggregation actually applies to the frames:
  ``α/Σα`` (self), ``αβ/Σαβ`` (full; ``α/Σαβ`` under ``official_eval`` in eval mode, which does not
  sum to 1), ``1/T`` (score fusion);
* ``"embedding"`` — f′ (self, 512-d), f_v (full, 1024-d), mean frame feature (score fusion);
* ``"frame_logits"`` ``(B, T, C)`` — score fusion only.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

from ferlib.models.backbones import InputNormalisation, build_backbone
from ferlib.models.base import FERModel, ModelOutput
from ferlib.models.baselines import ScoreFusion, frame_features, fuse_frame_scores
from ferlib.models.registry import DEMO_CHOICE, DEMO_DEFAULTS, DEMO_PRETRAINED, GALLERY, MethodSpec, ModelProfile, PaperItem, PaperRefs, cite, register

Attention = Literal["relation", "self", "score_fusion"]
ATTENTIONS = ("relation", "self", "score_fusion")


class FAN(FERModel):
    """Frame Attention Network; see the module docstring for the equations, variants and options."""

    def __init__(
        self,
        num_classes: int,
        backbone: str = "resnet18",
        weights: str | None = None,
        backbone_kwargs: dict[str, Any] | None = None,
        attention: Attention = "relation",
        official_eval: bool = False,
        attention_dropout: float = 0.5,
        classifier_dropout: float = 0.6,
        official_layout: bool = True,
        score_fusion: ScoreFusion = "mean_probs",
        bn_batches: Literal["clip", "position"] = "clip",
    ) -> None:
        super().__init__(num_classes)
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
        if official_eval and attention != "relation":
            raise ValueError("official_eval only changes the relation-attention formula; use attention='relation'")
        if score_fusion not in ("mean_probs", "mean_logits"):
            raise ValueError(f"score_fusion must be 'mean_probs' or 'mean_logits', got {score_fusion!r}")
        if bn_batches not in ("clip", "position"):
            raise ValueError(f"bn_batches must be 'clip' (one trunk pass over B·T frames) or 'position', got {bn_batches!r}")
        self.bn_batches = bn_batches
        net = build_backbone(backbone, weights, **(backbone_kwargs or {}))
        dim = net.out_channels
        self.trunk = net.trunk
        self.input_norm = InputNormalisation()
        self.attention = attention
        self.official_eval = official_eval
        self.score_fusion = score_fusion
        self.feature_dim = dim
        self.attention_dropout = nn.Dropout(attention_dropout)
        self.classifier_dropout = nn.Dropout(classifier_dropout)
        keep = {
            "relation": {"alpha", "beta", "relation_head"},
            "self": {"alpha", "self_head"},
            "score_fusion": {"self_head"},
        }[attention]
        if official_layout:
            keep = {"alpha", "beta", "self_head", "relation_head"}
        self.alpha = nn.Linear(dim, 1) if "alpha" in keep else None  # q⁰ of eq. 1 (+ bias)
        self.beta = nn.Linear(2 * dim, 1) if "beta" in keep else None  # q¹ of eq. 3 (+ bias)
        self.self_head = nn.Linear(dim, num_classes) if "self_head" in keep else None
        self.relation_head = nn.Linear(2 * dim, num_classes) if "relation_head" in keep else None

    def forward(self, clips: torch.Tensor) -> ModelOutput:
        b, t = self.check_clips(clips)
        clips = self.input_norm(clips)
        if self.bn_batches == "position" and self.training:
            # official code: one trunk pass (one BatchNorm batch of B frames) per frame position
            feats = torch.cat([frame_features(self.trunk, clips[:, i : i + 1]) for i in range(t)], dim=1)
        else:
            feats = frame_features(self.trunk, clips)  # f_i: (B, T, D), one pass over B·T frames
        if self.attention == "score_fusion":
            assert self.self_head is not None
            frame_logits = self.self_head(feats)  # (B, T, C)
            weights = torch.full((b, t), 1.0 / t, dtype=feats.dtype, device=feats.device)
            extras = {"frame_logits": frame_logits, "frame_weights": weights, "embedding": feats.mean(dim=1)}
            return fuse_frame_scores(frame_logits, self.score_fusion), extras

        assert self.alpha is not None
        alpha = torch.sigmoid(self.alpha(self.attention_dropout(feats)))  # eq. 1: (B, T, 1)
        anchor = (alpha * feats).sum(dim=1) / alpha.sum(dim=1)  # eq. 2: f′ (B, D)
        if self.attention == "self":
            assert self.self_head is not None
            logits = self.self_head(self.attention_dropout(anchor))
            weights = alpha.squeeze(-1) / alpha.sum(dim=1)
            return logits, {"alpha": alpha.squeeze(-1), "frame_weights": weights, "embedding": anchor}

        assert self.beta is not None and self.relation_head is not None
        pairs = torch.cat([feats, anchor.unsqueeze(1).expand(-1, t, -1)], dim=-1)  # [f_i : f′] (B, T, 2D)
        beta = torch.sigmoid(self.beta(self.attention_dropout(pairs)))  # eq. 3: (B, T, 1)
        alpha_beta = alpha * beta
        denominator = alpha_beta.sum(dim=1)  # Σ α_i β_i: (B, 1)
        numerator_weights = alpha if (self.official_eval and not self.training) else alpha_beta
        weights = numerator_weights / denominator.unsqueeze(1)  # (B, T, 1)
        video = (weights * pairs).sum(dim=1)  # eq. 4: f_v (B, 2D)
        logits = self.relation_head(self.classifier_dropout(video))
        extras = {
            "alpha": alpha.squeeze(-1),
            "beta": beta.squeeze(-1),
            "alpha_beta": alpha_beta.squeeze(-1),
            "frame_weights": weights.squeeze(-1),
            "embedding": video,
        }
        return logits, extras


def build_fan(num_classes: int = 7, **kwargs: Any) -> FAN:
    """Registry factory."""
    return FAN(num_classes=num_classes, **kwargs)


# --------------------------------------------------------------------------- the method

#: the FAN paper's tables and figures, and what regenerates each (the gallery's list)
PAPER_ITEMS = (
    PaperItem("Table 1", "CK+ accuracy beside earlier methods, with FAN's variants (and the K sweep of Sec. 3.4)",
              "table", "notebook 03, *Beside the paper*; notebook 06, *FAN variants* and *the number of segments K*",
              ("03_fan_vs_paper.csv", "03_fan_vs_paper.md", "06_fan_variants.csv", "06_fan_variants.md",
               "06_fan_variants.png", "06_fan_k_segments.csv", "06_fan_k_segments.md", "06_fan_k_segments.png")),
    PaperItem("Table 2", "AFEW 8.0 Train → Val beside earlier methods", "table", f"{GALLERY} (AFEW layout)",
              ("gallery/fan_afew_vs_paper.csv", "gallery/fan_afew_vs_paper.md", "gallery/fan_afew_vs_paper.png")),
    PaperItem("Fig. 1", "architecture", "diagram"),
    PaperItem("Fig. 2", "self-attention α and final αβ per frame", "figure", "notebook 07, *FAN Fig. 2*",
              ("07_fan_alpha.png", "07_fan_alpha_self_attention.png")),
    PaperItem("Fig. 3", "VGGFace and ResNet backbones under training strategies", "no numbers"),
)

_TEXT = "FAN paper §3.1"
_CODE = "official Emotion-FAN code"
#: FAN's frames, in every size and recipe: K = 3 segments, one random frame each in training (§3.1); tested on
#: every frame (Table 1)
_K, _SAMPLER, _TEST_SAMPLER = 3, "segments", "all"
_FRAMES = {"num_frames": _K, "sampler": _SAMPLER, "test_sampler": _TEST_SAMPLER}
_PAPER = {
    **cite(_TEXT, optimizer="sgd", momentum=0.9, weight_decay=1e-4, batch_size=48, sampler=_SAMPLER, num_frames=_K,
           init_trunk="emotion-fan"),
    **cite("FAN paper Table 1: FAN is tested on all frames", test_sampler=_TEST_SAMPLER),
    **cite(_CODE + " (resize 224, flip; the paper states no augmentation)", augmentation="resize_flip"),
}
_CK_TEXT = {**_PAPER, **cite(_TEXT + ": lr 0.1 → 0.02 at 30 epochs, 60 epochs", lr=0.1, schedule="step",
                              milestones=[30], gamma=0.2, epochs=60),
            **cite("FAN paper §3.1 and the official fold rule (subjects ascending, step 10)",
                   protocol=("fan_ckplus", {"k": 10}))}
_AFEW_TEXT = {**_PAPER, **cite(_TEXT + ": lr 4e-6 → 8e-7 at 60 → 1.6e-7 at 120, 180 epochs", lr=4e-6,
                                schedule="step", milestones=[60, 120], gamma=0.2, epochs=180),
              **cite("FAN paper §3.1: AFEW 8.0 Train → Val", protocol=("train_test", {"train": "train", "test": "val"}))}
# the official code: other learning rates, CK+ segments over the first 3/5 of a clip, frame draws fixed once
# per data set, one BatchNorm batch per frame position
_OFFICIAL = cite(_CODE, model_overrides={"bn_batches": "position"})

SPEC = register(MethodSpec(
    name="fan",
    factory=build_fan,
    description="Frame Attention Networks (Meng, Peng, Wang, Qiao, ICIP 2019): self- and relation-attention over frames",
    inputs="frames",
    byproducts=("embedding", "frame_weights"),
    weight_claims=(
        ("alpha", "same", "FAN Fig. 2: does α follow the intensity?"),
        ("alpha_beta", "same", "does relation attention (αβ) follow it more closely than α?"),
        ("alpha", "moved", "α on unseen clips with another timing: does its peak find the apex?"),
        ("alpha_beta", "moved", "αβ on those clips"),
    ),
    cost_row=True,
    profiles={
        "demo": ModelProfile(
            kwargs={"backbone": "small_cnn", "backbone_kwargs": {"width": 16, "whole_map": 4}, "official_layout": False},
            input_side=64,
            **_FRAMES,
        ),
        "paper": ModelProfile(
            kwargs={"backbone": "resnet18", "official_layout": True},
            input_side=224,
            **_FRAMES,
        ),
    },
    variants={
        "full": {"attention": "relation"},
        "self_attention": {"attention": "self"},
        "score_fusion": {"attention": "score_fusion"},
        "full_official_eval": {"attention": "relation", "official_eval": True},
    },
    recipes={
        "ckplus": _CK_TEXT,
        "ckplus:official": {**_CK_TEXT, **_OFFICIAL,
                            **cite(_CODE + " (fan_ckplus_traintest.py)", lr=1e-2, span=0.6, fixed_draws=True)},
        "afew": _AFEW_TEXT,
        "afew:official": {**_AFEW_TEXT, **_OFFICIAL,
                          **cite(_CODE + " (fan_afew_traintest.py; its loader draws the training frames once)", lr=4e-3,
                                 fixed_draws=True)},
        "synth": {**_CK_TEXT, **cite("ferlib's choice: the CK+ recipe on the generated set",
                                      protocol=("subject_kfold", {"k": 10}))},
        "demo": {**DEMO_DEFAULTS, **DEMO_PRETRAINED, **cite(DEMO_CHOICE, lr=2e-3),
                 # its three-frame CNN, fine-tuned at the head's rate for 20 epochs, carries the expression
                 # to photo renders of unseen people and to real faces better than at a tenth for 10
                 # (benchmarks/photo_renders.py, benchmarks/transfer_seeds.py), on generated folds too
                 **cite("ferlib's choice: FAN's demo CNN transfers better fine-tuned at the full rate",
                        epochs=20, trunk_lr_scale=1.0)},
    },
    papers=PaperRefs(
        paper='Frame Attention Networks (Meng, Peng, Wang, Qiao, ICIP 2019)', items=PAPER_ITEMS,
        main={"ckplus": ("fan_table1", "CK+"), "afew": ("fan_table2", "AFEW 8.0")},
        ablations={
            "fan_variants": [
                {"label": "Score fusion (baseline)", "variant": "score_fusion"},
                {"label": "FAN w/o relation-attention", "variant": "self_attention"},
                {"label": "FAN", "variant": "full"},
            ],
            "fan_k_segments": [
                # K = _K is the recipe's own num_frames: no override, so it shares the method notebook's full run
                {"label": f"K={k}", "variant": "full", "overrides": {"num_frames": k}} if k != _K
                else {"label": f"K={k} (default)", "variant": "full"}
                for k in (2, 3, 5, 8)
            ],
        },
    ),
    notebook="03_fan.ipynb",
))
