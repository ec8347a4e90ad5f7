"""The contract every registered method keeps, for every variant and size: it builds from its spec,
runs forward and backward on the inputs its spec takes from a batch, returns the by-products it
promises (one row per clip), and rejects a malformed input with a ValueError."""

from __future__ import annotations

import pytest
import torch

from ferlib.models import METHODS, build_model, example_batch, method_spec, model_inputs
from ferlib.train.recipes import get_recipe, recipe_keys

CASES = [(m, v, size) for m in METHODS for v in method_spec(m).variants for size in ("demo", "paper")]


@pytest.mark.parametrize("method,variant,size", CASES, ids=[f"{m}-{v}-{s}" for m, v, s in CASES])
def test_method_contract(method, variant, size):
    spec = method_spec(method)
    torch.manual_seed(0)
    model = build_model(method, size, num_classes=3, variant=variant).train()
    assert getattr(model, "input_kind", "frames") == spec.inputs  # the class and its spec agree
    prof = spec.profiles[size]
    side = 32 if size == "paper" else None  # the paper's trunks at a small side keep the test fast
    frames = 16 if spec.inputs == "landmarks" else None  # ST-GCN takes any T: 16 instead of 45 keeps it quick
    batch = example_batch(method, size, batch=2, input_side=side, num_frames=frames)
    logits, extras = model(*model_inputs(method, batch))
    assert logits.shape == (2, 3) and torch.isfinite(logits).all()
    missing = set(spec.byproducts) - set(extras)
    assert not missing, f"{method}/{variant} promises {sorted(missing)}"
    for key, value in extras.items():
        assert value.shape[0] == 2, f"{key} has no row per clip: {tuple(value.shape)}"
    logits.sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    if prof.input_side and spec.inputs != "landmarks":
        bad = dict(batch, frames=batch["frames"][:, 0])  # (B, 3, S, S): the time axis is missing
        with pytest.raises(ValueError, match="B, T, C, H, W"):
            model(*model_inputs(method, bad))
    else:
        bad = dict(batch, landmarks=batch["landmarks"][..., :1])  # one coordinate instead of (x, y)
        with pytest.raises(ValueError):
            model(*model_inputs(method, bad))


@pytest.mark.parametrize("method", METHODS)
def test_every_method_declares_a_demo_recipe_and_valid_recipes(method):
    keys = recipe_keys(method)
    assert "demo" in keys
    for key in keys:
        ds, _, name = key.partition(":")
        rec = get_recipe(method, "synth" if ds == "demo" else ds, "demo" if ds == "demo" else name or "paper")
        assert rec.sources["protocol"] and all(rec.sources[k] for k in rec.fields)
