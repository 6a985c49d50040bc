"""Face embeddings for the CNN-LSTM experiment: one vector per face, the same for a face and its mirror image."""

import numpy as np

from models.classifier import network_logits
from models.network import DEFAULT_WIDTHS, EmoNet
from models.training.embeddings import embedding_network


def test_each_face_gets_the_pooled_features_its_mirror_image_gets_too():
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    embed = embedding_network(EmoNet().eval())
    embeddings = network_logits(embed, faces)
    assert embeddings.shape == (5, DEFAULT_WIDTHS[-1]) and embeddings.dtype == np.float32
    np.testing.assert_allclose(network_logits(embed, faces[:, :, ::-1]), embeddings, atol=1e-5)
    assert network_logits(embed, faces[:0]).shape[0] == 0
