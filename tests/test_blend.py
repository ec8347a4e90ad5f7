"""ferlib.experiments.blend: new identities as landmark-aligned blends of two real people's photos."""

from pathlib import Path

import numpy as np
import pytest

from ferlib.experiments.blend import blend_identities, blend_pair
from ferlib.synth.photo import dlib_landmarker, list_photos, photo_identity, read_rgb


def test_blend_pair_of_an_image_with_itself_is_the_image():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    pts = rng.uniform(5, 35, (68, 2))
    assert np.array_equal(blend_pair(image, image, pts, pts), image)


def test_blend_pair_moves_both_faces_onto_their_mean_landmarks():
    a = np.zeros((60, 60, 3), np.uint8)
    b = np.zeros((60, 60, 3), np.uint8)
    a[18:23, 18:23] = 255  # a bright dot at (20, 20) in a, at (30, 30) in b
    b[28:33, 28:33] = 255
    la = np.array([[20.0, 20.0], [40.0, 20.0], [20.0, 40.0]])
    out = blend_pair(a, b, la, la + 10)[..., 0]
    y, x = np.unravel_index(out.argmax(), out.shape)
    assert abs(x - 25) <= 1 and abs(y - 25) <= 1 and out.max() > 200  # both dots land on the mean point


@pytest.mark.fixtures
def test_blends_are_new_faces_of_the_chosen_people_only(fixtures_dir: Path, tmp_path: Path):
    root = fixtures_dir / "london_frl_subset"
    out = blend_identities(root, tmp_path / "b", ["002", "001", "003"], n_blends=2, seed=0)
    ids = sorted(photo_identity(p) for p in list_photos(out))
    blends = [i for i in ids if "x" in i]
    assert len(ids) == 5 and len(blends) == 2 and {"001", "002", "003"} < set(ids)
    assert all(set(b.split("x")) <= {"001", "002", "003"} for b in blends)
    assert len(list((out / "smiling_front").iterdir())) == 5  # each blend has its smiling blend (the exemplar)
    a, b = blends[0].split("x")
    find = dlib_landmarker()
    lm = {i: find(read_rgb(next((root / "neutral_front").glob(f"{i}_03.*"))))[0] for i in (a, b)}
    found = find(read_rgb(out / "neutral_front" / f"{blends[0]}_03.jpg"))[0]
    iod = np.linalg.norm(lm[a][45] - lm[a][36])
    assert np.abs(found - (lm[a] + lm[b]) / 2).mean() < 0.05 * iod  # the blend's face sits on the mean landmarks
    assert blend_identities(root, tmp_path / "b", ["001", "002", "003"], n_blends=2, seed=0) == out  # made once
    with pytest.raises(ValueError, match="holds the photos of"):
        blend_identities(root, tmp_path / "b", ["001", "002", "003"], n_blends=1, seed=0)
    with pytest.raises(ValueError, match=r"n_blends must be an integer in \[0, 3\]"):
        blend_identities(root, tmp_path / "c", ["001", "002", "003"], n_blends=4)
    with pytest.raises(ValueError, match=r"ids \['999'\] have no photo"):
        blend_identities(root, tmp_path / "d", ["001", "999"], n_blends=1)
