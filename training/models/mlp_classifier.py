"""A second judge of sample quality: a multilayer perceptron, unlike the CNN judge in every way that matters.

One classifier's features define what "close to real digits" means for the Frechet distance, so a
ranking of models by it may say as much about that classifier as about the models. This judge sees
the 784 pixels as a flat vector (no convolutions, no notion of neighbouring pixels) and is trained
without the CNN's random shifts. Where the two judges rank two models the same way, the ranking is
not an accident of one feature space; where they disagree, the cards and the Compare page say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from training.models.base import Network


@dataclass
class MLPClassifierConfig:
    image_size: int = 28
    hidden: int = 512
    features: int = 128  # the feature space its Frechet distance is measured in, as wide as the CNN's
    num_classes: int = 10
    dropout: float = 0.3


class MLPClassifier(nn.Module):
    Config = MLPClassifierConfig
    uses_labels = True

    def __init__(self, config: MLPClassifierConfig):
        super().__init__()
        self.config = c = config
        self.body = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c.image_size * c.image_size, c.hidden), nn.ReLU(), nn.Dropout(c.dropout),
            nn.Linear(c.hidden, c.features), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(c.features, c.num_classes))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, H, W) in [0, 1] -> class logits (B, 10) and features (B, 128)."""
        features = self.body(x)
        return self.head(features), features

    def loss(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        logits, _ = self(x)
        ce = F.cross_entropy(logits, labels)
        accuracy = (logits.argmax(1) == labels).float().mean()
        return {"loss": ce, "cross_entropy": ce, "accuracy": accuracy.detach()}

    def networks(self) -> dict[str, Network]:
        x = torch.zeros(2, 1, self.config.image_size, self.config.image_size)
        return {"classifier": Network(self, (x,), ["x"], ["logits", "features"])}
