"""Building blocks shared by the models: a convolutional encoder and its mirror decoder.

Both work for any square image whose side is divisible by 4 (28 for MNIST, 8 for
scikit-learn's digits): two stride-2 convolutions take S x S to S/4 x S/4.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvEncoder(nn.Module):
    """(B, 1, S, S) image -> (B, out_dim) features: two stride-2 convolutions, then an MLP."""

    def __init__(self, image_size: int, out_dim: int, channels: tuple[int, int] = (16, 32), hidden: int = 256):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4, got {image_size}")
        c1, c2 = channels
        s = image_size // 4
        self.net = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1),  # S -> S/2
            nn.ReLU(),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1),  # S/2 -> S/4
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(c2 * s * s, hidden),
            nn.ReLU(),
            nn.Linear(hidden, out_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvDecoder(nn.Module):
    """(B, in_dim) code -> (B, 1, S, S) Bernoulli logits: an MLP, then two transposed convolutions."""

    def __init__(self, image_size: int, in_dim: int, channels: tuple[int, int] = (16, 32), hidden: int = 256):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4, got {image_size}")
        c1, c2 = channels
        s = image_size // 4
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, c2 * s * s),
            nn.ReLU(),
            nn.Unflatten(1, (c2, s, s)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1),  # S/4 -> S/2
            nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),  # S/2 -> S, logits
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
