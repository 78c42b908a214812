"""A second judge of sample quality: a multilayer perceptron, unlike the CNN judge in every way that matters.

One classifier's features define what "close to real digits" means for the Frechet distance, so a
ranking of models by it may say as much about that classifier as about the models. This judge sees
the 784 pixels as a flat vector (no convolutions, no notion of neighbouring pixels) and is trained
without the CNN's random shifts. Where the two judges rank two models the same way, the ranking is
not an accident of one feature space; where they disagree, the cards and the Compare page say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from training.models.classifier import Judge


@dataclass
class MLPClassifierConfig:
    image_size: int = 28
    hidden: int = 512
    features: int = 128  # the feature space its Frechet distance is measured in, as wide as the CNN's
    num_classes: int = 10
    dropout: float = 0.3


class MLPClassifier(Judge):
    Config = MLPClassifierConfig

    def __init__(self, config: MLPClassifierConfig):
        super().__init__()
        self.config = c = config
        self.body = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c.image_size * c.image_size, c.hidden), nn.ReLU(), nn.Dropout(c.dropout),
            nn.Linear(c.hidden, c.features), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(c.features, c.num_classes))
