"""Autoencoder: a deterministic code z = f(x) and a decoder trained to reconstruct x.

It has no prior over z, so nothing says which codes decode to digits: the app lets the
user decode random codes and see the holes that the VAE's prior fills.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from training.layers import ConvDecoder, ConvEncoder
from training.models.base import Network, bernoulli_log_prob


@dataclass
class AutoencoderConfig:
    image_size: int = 28
    z_dim: int = 16
    # Not tuned: the project's first choice, small enough to train in minutes on a CPU. Only the epoch
    # is chosen, on the validation split (the trainer keeps the epoch with the lowest validation loss).
    channels: tuple[int, int] = (16, 32)
    hidden: int = 256


class Autoencoder(nn.Module):
    Config = AutoencoderConfig

    def __init__(self, config: AutoencoderConfig):
        super().__init__()
        self.config = config
        c = config
        self.encoder = ConvEncoder(c.image_size, c.z_dim, tuple(c.channels), c.hidden)
        self.decoder = ConvDecoder(c.image_size, c.z_dim, tuple(c.channels), c.hidden)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # Bernoulli logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        bce = -bernoulli_log_prob(self(x), x).mean()  # nats per image
        return {"loss": bce, "bce": bce}

    def networks(self) -> dict[str, Network]:
        c = self.config
        x = torch.zeros(2, 1, c.image_size, c.image_size)
        z = torch.zeros(2, c.z_dim)
        return {
            "encoder": Network(self.encoder, (x,), ["x"], ["z"]),
            "decoder": Network(self.decoder, (z,), ["z"], ["logits"]),
        }
