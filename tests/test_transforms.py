import numpy as np
import pytest
import torch

from ferlib.data.landmarks68 import FLIP_INDEX, MEAN_SHAPE, flip_landmarks
from ferlib.data.transforms import AUGMENTATIONS, ClipTransform, make_transform


def _dot_clip(t=3, size=48):
    """Frames with one bright pixel at landmark 36 (right eye corner) and landmarks around it."""
    lm = np.tile((MEAN_SHAPE * 12 + [24, 18])[None], (t, 1, 1)).astype(np.float32)
    x, y = np.round(lm[0, 36]).astype(int)
    lm[:, 36] = [x, y]
    frames = np.zeros((t, size, size, 3), np.uint8)
    frames[:, y - 1 : y + 2, x - 1 : x + 2] = 255
    return frames, lm


def test_landmarks_follow_pixels_through_crop_flip_resize():
    frames, lm = _dot_clip()
    for seed in range(8):
        tf = ClipTransform(side=32, train=True, crop_scale=(0.7, 0.9), jitter=0.0)
        out, lm_out = tf(frames, lm, np.random.default_rng(seed))
        assert out.shape == (3, 3, 32, 32) and out.dtype == torch.float32
        heat = out[0].sum(0)
        yy, xx = divmod(int(heat.argmax()), 32)
        # the bright dot sits at landmark 36, or at 45 after a flip (re-indexed mirror)
        cands = [lm_out[0, 36].numpy(), lm_out[0, 45].numpy()]
        assert min(np.hypot(c[0] - xx, c[1] - yy) for c in cands) < 1.5


def test_one_draw_per_clip():
    frames = np.repeat(np.random.default_rng(0).integers(0, 255, (1, 40, 40, 3), dtype=np.uint8), 5, axis=0)
    lm = np.zeros((5, 68, 2), np.float32)
    out, lm_out = ClipTransform(side=24, train=True)(frames, lm, np.random.default_rng(1))
    assert torch.allclose(out[0], out[4]) and torch.allclose(lm_out[0], lm_out[4])


def test_flip_reindexes_landmarks():
    lm = (MEAN_SHAPE * 10 + 20).astype(np.float32)
    flipped = flip_landmarks(lm, 40)
    # the mirrored right outer eye corner (36) is the new 45 and stays the subject's left
    assert np.isclose(flipped[45, 0], 39 - lm[36, 0]) and flipped[36, 0] < flipped[45, 0]
    assert sorted(FLIP_INDEX.tolist()) == list(range(68)) and (FLIP_INDEX[FLIP_INDEX] == np.arange(68)).all()


def test_eval_is_deterministic_resize_only():
    frames, lm = _dot_clip()
    a, la = ClipTransform(side=24)(frames, lm, np.random.default_rng(0))
    b, lb = ClipTransform(side=24)(frames, lm, np.random.default_rng(9))
    assert torch.equal(a, b) and torch.equal(la, lb)
    np.testing.assert_allclose(la[0, 0].numpy(), (lm[0, 0] + 0.5) * 0.5 - 0.5, atol=1e-5)


def _reference(tf: ClipTransform, frames: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """The transform's pixels step by step, unfused and in float: the same draws in the same order,
    then crop, resize (antialiased), flip, brightness, saturation, contrast (mean grey after brightness), clamp."""
    t, h, w, _ = frames.shape
    u = rng.random(8) if tf.train else np.zeros(8)  # all draws at once: window 0-3, flip 4, jitter 5-7
    x0, y0, cw, ch = 0, 0, w, h
    if tf.resize_ratio > 1:
        cw, ch = int(round(w / tf.resize_ratio)), int(round(h / tf.resize_ratio))
        x0, y0 = (int(u[2] * (w - cw + 1)), int(u[3] * (h - ch + 1))) if tf.train else ((w - cw) // 2, (h - ch) // 2)
    elif tf.train and tf.crop_scale != (1.0, 1.0):
        area = tf.crop_scale[0] + (tf.crop_scale[1] - tf.crop_scale[0]) * u[0]
        aspect = 0.9 * (1.1 / 0.9) ** u[1]  # log-uniform on [0.9, 1.1]
        cw, ch = int(min(w, round(w * np.sqrt(area * aspect)))), int(min(h, round(h * np.sqrt(area / aspect))))
        x0, y0 = int(u[2] * (w - cw + 1)), int(u[3] * (h - ch + 1))
    clip = torch.from_numpy(frames[:, y0:y0 + ch, x0:x0 + cw].copy()).permute(0, 3, 1, 2).float() / 255
    clip = torch.nn.functional.interpolate(clip, size=(tf.side, tf.side), mode="bilinear", antialias=True)
    if tf.train and tf.flip and u[4] < 0.5:
        clip = clip.flip(-1)
    if tf.train and tf.jitter > 0:
        b, c, s = 1 + tf.jitter * (2 * u[5:8] - 1)
        clip = clip * b
        grey = (0.299 * clip[:, 0] + 0.587 * clip[:, 1] + 0.114 * clip[:, 2]).unsqueeze(1)
        clip = grey + s * (clip - grey)
        clip = (grey.mean() + c * (clip - grey.mean())).clamp(0, 1)
    return clip


@pytest.mark.parametrize("policy", sorted(AUGMENTATIONS))
@pytest.mark.parametrize("side", [24, 48, 64])
def test_fused_pixels_equal_the_step_by_step_reference(policy, side):
    frames = np.random.default_rng(7).integers(0, 256, (4, 48, 52, 3), dtype=np.uint8)
    lm = np.random.default_rng(8).uniform(4, 44, (4, 68, 2)).astype(np.float32)
    for train in (True, False):
        tf = make_transform(side, train, policy)
        for seed in range(4):
            out, _ = tf(frames, lm, np.random.default_rng(seed))
            ref = _reference(tf, frames, np.random.default_rng(seed))
            # the resize runs on uint8 (rounded to whole levels, as torchvision's): within a level or two,
            # unbiased; a window or flip off by one pixel moves random pixels by a third of the range
            torch.testing.assert_close(out, ref, rtol=0, atol=2.5 / 255)
            assert (out - ref).abs().mean() < 0.6 / 255 and abs(float((out - ref).mean())) < 0.1 / 255
