"""A multi-scale PixelCNN (after Reed et al. 2017, "Parallel Multiscale Autoregressive Density Estimation").

A 28 x 28 image is split into pixel groups by sub-sampling, coarse to fine:

    level 7:   x[::4, ::4]                                  49 pixels, one at a time
    level 14:  the rest of x[::2, ::2], in three groups      147 pixels, in 3 steps
    level 28:  the rest of x, in three groups                588 pixels, in 3 steps

Going from s x s to 2s x 2s, the 2s x 2s image is four interleaved s x s lattices: (0, 0) is
the level below, and the new pixels come in three groups, in the order (0, 1) (the rest of
the even rows), (1, 0), (1, 1)::

    a 1 a 1        a: known from the level below
    2 3 2 3        1, 2, 3: the groups, each drawn in one step, all its pixels at once
    a 1 a 1
    2 3 2 3

The chain rule over groups gives the likelihood exactly, not a bound:

    log p(x) = log p(x7) + sum over the six groups g of log p(x_g | everything before g),

where the 7 x 7 base is itself an autoregressive PixelCNN++ (pixel by pixel) and the pixels
of one group are independent given the groups before it. That independence is the price:
the model cannot say "this pixel is dark because its neighbour in the same group is", so its
NLL is worse than a full raster-order model's. The gain is in sampling: 49 + 3 + 3 = 55
sequential network calls instead of 784.

Why this and not a coarse-to-fine cascade of full PixelCNNs: a cascade that draws its 28 x 28
level pixel by pixel still needs 784 sequential steps at the top, so it cannot show the
trade-off; grouping the new pixels of each level is what cuts the steps.

Each upsampler sees its level as the four lattices side by side as channels, at s x s: the
known ones with their values, the unknown ones zeroed inside the network from the stage (so
a caller cannot leak a group into its own prediction), and the stage one-hot. Gated ResNet
blocks of ordinary 3 x 3 convolutions (nothing is masked: all it sees is known), and the
discretized logistic mixture of PixelCNN++ for the group's 256 values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from training.models.base import Network
from training.models.pixelcnn_pp import (
    LEVELS,
    GatedResBlock,
    PixelCNNPP,
    PixelCNNPPConfig,
    concat_elu,
    discretized_logistic_mixture_log_prob,
)

LATTICES = ((0, 0), (0, 1), (1, 0), (1, 1))  # the order the groups are drawn in: (0, 0) is the level below
STAGES = 3


@dataclass
class MultiscalePixelCNNConfig:
    image_size: int = 28
    base_size: int = 0  # the level drawn pixel by pixel, each level above doubling it; 0: image_size / 4 (7 for 28)
    base_channels: int = 32
    base_blocks: int = 2  # the 7 x 7 PixelCNN++'s context blocks (one resolution)
    base_row_blocks: int = 3
    channels: int = 48  # each upsampler's width
    blocks: int = 5  # each upsampler's gated blocks
    mixtures: int = 5
    dropout: float = 0.1

    @property
    def sizes(self) -> list[int]:
        """The levels' sides, coarse to fine: 7, 14, 28."""
        sizes = [self.base_size or self.image_size // 4]
        while sizes[-1] < self.image_size:
            sizes.append(2 * sizes[-1])
        if sizes[-1] != self.image_size:
            raise ValueError(f"image_size {self.image_size} is not the base size {sizes[0]} doubled")
        return sizes


def lattices(x: torch.Tensor) -> torch.Tensor:
    """(B, 1, 2s, 2s) -> (B, 4, s, s): the four interleaved lattices, in the order of LATTICES."""
    return torch.cat([x[:, :, a::2, b::2] for a, b in LATTICES], dim=1)


def interleave(parts: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`lattices`: (B, 4, s, s) -> (B, 1, 2s, 2s)."""
    return F.pixel_shuffle(parts, 2)  # channel 2a + b goes to (a, b): the order of LATTICES


class Conv3x3(nn.Conv2d):
    def __init__(self, cin: int, cout: int):
        super().__init__(cin, cout, 3, padding=1)


class Upsampler(nn.Module):
    """One level: the known lattices and the stage -> the mixture parameters of the stage's group, (B, 3K, s, s)."""

    def __init__(self, channels: int, blocks: int, mixtures: int, dropout: float):
        super().__init__()
        self.inputs = nn.Conv2d(4 + 4 + STAGES, channels, 3, padding=1)
        self.blocks = nn.ModuleList(GatedResBlock(channels, Conv3x3, 0, dropout) for _ in range(blocks))
        self.head = nn.Conv2d(2 * channels, 3 * mixtures, 1)

    @staticmethod
    def known_lattices(stage: torch.Tensor) -> torch.Tensor:
        """(B, 3) one-hot stage (group 1, 2 or 3 to draw) -> (B, 4) 1 for the lattices known at that stage."""
        ones = torch.ones_like(stage[:, :1])
        return torch.cat([ones, stage[:, 1:2] + stage[:, 2:3], stage[:, 2:3], torch.zeros_like(ones)], dim=1)

    def forward(self, parts: torch.Tensor, stage: torch.Tensor) -> torch.Tensor:
        """parts (B, 4, s, s) intensities in [0, 1] (unknown ones are ignored), stage (B, 3) one-hot."""
        B, _, s, _ = parts.shape
        known = self.known_lattices(stage)[:, :, None, None].expand(B, 4, s, s)
        values = (2 * parts - 1) * known
        h = self.inputs(torch.cat([values, known, stage[:, :, None, None].expand(B, STAGES, s, s)], dim=1))
        for block in self.blocks:
            h = block(h)
        return self.head(concat_elu(h))


class MultiscalePixelCNN(nn.Module):
    Config = MultiscalePixelCNNConfig

    def __init__(self, config: MultiscalePixelCNNConfig):
        super().__init__()
        self.config = c = config
        self.base = PixelCNNPP(
            PixelCNNPPConfig(
                image_size=c.sizes[0],
                channels=c.base_channels,
                blocks=(c.base_blocks,),
                row_blocks=c.base_row_blocks,
                first_width=3,
                mixtures=c.mixtures,
                dropout=c.dropout,
            )
        )
        self.upsamplers = nn.ModuleList(Upsampler(c.channels, c.blocks, c.mixtures, c.dropout) for _ in c.sizes[1:])

    def pyramid(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(B, 1, 28, 28) -> the levels coarse to fine, [(B, 1, 7, 7), (B, 1, 14, 14), x]."""
        levels = [x]
        while levels[0].shape[-1] > self.config.sizes[0]:
            levels.insert(0, levels[0][:, :, ::2, ::2])
        return levels

    def log_prob_levels(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) intensities -> (B, 1 + 3 * levels): log p of the base, then of each group given those
        before it, nats."""
        levels = self.pyramid(x)
        terms = [self.base.log_prob(levels[0])]
        for upsampler, fine in zip(self.upsamplers, levels[1:], strict=True):
            parts = lattices(fine)  # (B, 4, s, s)
            B = len(parts)
            stages = torch.eye(STAGES, device=x.device).repeat_interleave(B, 0)  # (3B, 3): all stages in one batch
            params = upsampler(parts.repeat(STAGES, 1, 1, 1), stages)  # (3B, 3K, s, s)
            targets = torch.cat([parts[:, g : g + 1] for g in range(1, 4)], dim=0)  # (3B, 1, s, s)
            levels_ = torch.round(targets * (LEVELS - 1)).long()
            log_p = discretized_logistic_mixture_log_prob(params, levels_).flatten(1).sum(1)  # (3B,)
            terms.extend(log_p.reshape(STAGES, B).unbind(0))
        return torch.stack(terms, dim=1)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) per image over 8-bit values, nats: the chain rule over the base's pixels and the groups."""
        return self.log_prob_levels(x).sum(1)

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        nll = -self.log_prob(x).mean()
        return {"loss": nll, "bits_per_dim": nll / (x[0].numel() * math.log(2))}

    def networks(self) -> dict[str, Network]:
        c = self.config
        nets = {"base": self.base.networks()["full"]}
        for index, (upsampler, s) in enumerate(zip(self.upsamplers, c.sizes[:-1], strict=True), start=1):
            size = c.sizes[index]
            nets[f"upsample_{size}"] = Network(
                upsampler,
                (torch.zeros(2, 4, s, s), torch.eye(STAGES)[:2]),
                ["parts", "stage"],
                ["params"],
            )
        return nets
