"""In-the-wild stills: framed as the app frames a face, split by person or film, cached."""

from __future__ import annotations

import cv2
import numpy as np

import models.training.wild as wild
from models.training.wild import HELD_OUT_SHARE, centre_crop, frame_stills, is_held_out, load_wild
from tests.conftest import SAMPLE_CLIP, read_frames


def test_a_group_is_always_on_one_side_and_about_the_chosen_share_is_held_out():
    assert is_held_out("lfw-expr", "George_W_Bush") == is_held_out("lfw-expr", "George_W_Bush")
    share = np.mean([is_held_out("nhfi", f"g{i}") for i in range(4000)])
    assert abs(share - HELD_OUT_SHARE) < 0.02


def test_a_still_with_a_face_is_aligned_and_one_without_falls_back_to_its_centre(tmp_path):
    frame = cv2.cvtColor(read_frames(SAMPLE_CLIP, every=1000)[0], cv2.COLOR_BGR2GRAY)
    height, width = frame.shape
    side = min(height, width)
    face_still = cv2.resize(frame[:, (width - side) // 2 : (width + side) // 2], (96, 96))
    noise = np.random.default_rng(0).integers(0, 256, (96, 96), dtype=np.uint8)
    for name, image in (("face.png", face_still), ("noise.png", noise)):
        cv2.imwrite(str(tmp_path / name), image)
    rows = [{"file": "face.png", "set": "nhfi"}, {"file": "noise.png", "set": "lfw-expr"}]
    crops, found = frame_stills(tmp_path, rows)
    assert found.tolist() == [True, False]
    np.testing.assert_array_equal(crops[1], centre_crop(noise, wild.FALLBACK_CENTRE["lfw-expr"]))


def test_the_framed_stills_are_cached(tiny_corpus):
    first = load_wild(tiny_corpus.wild)
    assert len(list(wild.CACHE_DIR.glob("wild-*.npz"))) == 1
    again = load_wild(tiny_corpus.wild)
    np.testing.assert_array_equal(first.faces, again.faces)
    assert first.held_out.any() and not first.held_out.all()
