"""The digit classifiers on the app side: predictions, and the features sample quality is measured in."""

from __future__ import annotations

import numpy as np

from inference.base import OnnxModel, as_batch


class Classifier(OnnxModel):
    """A judge of sample quality: class logits and the penultimate features the Frechet distance uses."""

    generative = False
    image_kind = "grayscale"

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, H, W) grayscale images in [0, 1] -> logits (N, 10), features (N, F)."""
        out = self.networks["classifier"](as_batch(x, self.image_size))
        return out["logits"], out["features"]

    def features(self, x: np.ndarray) -> np.ndarray:
        return self.run(x)[1]

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.run(x)[0].argmax(1)
