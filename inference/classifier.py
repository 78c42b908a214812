"""The MNIST classifier on the app side: predictions, and the features sample quality is measured in."""

from __future__ import annotations

import numpy as np

from inference.base import OnnxModel, as_batch


class Classifier(OnnxModel):
    def run(self, x: np.ndarray, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
        """(N, H, W) grayscale images in [0, 1] -> logits (N, 10), features (N, F)."""
        x = as_batch(x, self.image_size)
        logits, features = [], []
        for start in range(0, len(x), batch):
            out = self.networks["classifier"](x[start : start + batch])
            logits.append(out["logits"])
            features.append(out["features"])
        return np.concatenate(logits), np.concatenate(features)

    def features(self, x: np.ndarray) -> np.ndarray:
        return self.run(x)[1]

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.run(x)[0].argmax(1)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        logits = self.run(x)[0]
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)
