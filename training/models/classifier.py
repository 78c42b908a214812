"""A small MNIST classifier: the judge of sample quality for models without a likelihood.

GANs have no likelihood, so their samples are scored by how a classifier trained on real
digits sees them: the Frechet distance between its penultimate features for generated
images and for the test split (the MNIST analogue of FID, which uses Inception features),
and, for class-conditional models, how often it agrees with the class that was asked for.
It is trained on grayscale digits, since that is what generators produce, with random
shifts of up to 2 pixels so it does not judge a digit by its exact position.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from training.models.base import Network


@dataclass
class ClassifierConfig:
    image_size: int = 28
    channels: tuple[int, int] = (32, 64)
    features: int = 128  # the feature space the Frechet distance is measured in
    num_classes: int = 10
    dropout: float = 0.3
    max_shift: int = 2  # pixels of random translation in training


class Judge(nn.Module):
    """What every judge of sample quality shares: ``body`` maps an image to the features the Frechet
    distance is measured in, ``head`` maps them to class logits; trained by cross-entropy."""

    uses_labels = True
    body: nn.Module
    head: nn.Module

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, H, W) in [0, 1] -> class logits (B, 10) and features (B, F)."""
        features = self.body(x)
        return self.head(features), features

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """What training shows the judge instead of x (none by default)."""
        return x

    def loss(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        logits, _ = self(self.augment(x) if self.training else x)
        ce = F.cross_entropy(logits, labels)
        accuracy = (logits.argmax(1) == labels).float().mean()
        return {"loss": ce, "cross_entropy": ce, "accuracy": accuracy.detach()}

    def networks(self) -> dict[str, Network]:
        x = torch.zeros(2, 1, self.config.image_size, self.config.image_size)
        return {"classifier": Network(self, (x,), ["x"], ["logits", "features"])}


class Classifier(Judge):
    Config = ClassifierConfig

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = c = config
        c1, c2 = c.channels
        s = c.image_size // 4
        self.body = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c1, 3, stride=2, padding=1), nn.ReLU(),  # S -> S/2
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c2, c2, 3, stride=2, padding=1), nn.ReLU(),  # S/2 -> S/4
            nn.Flatten(),
            nn.Linear(c2 * s * s, c.features), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(c.features, c.num_classes))

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """Each image moved by a random whole number of pixels in [-max_shift, max_shift]^2."""
        m = self.config.max_shift
        padded = F.pad(x, (m, m, m, m))
        H, W = x.shape[-2:]
        dy, dx = torch.randint(0, 2 * m + 1, (2, len(x)))
        return torch.stack([padded[i, :, dy[i] : dy[i] + H, dx[i] : dx[i] + W] for i in range(len(x))])
