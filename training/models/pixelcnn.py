"""PixelCNN (van den Oord et al. 2016, "Pixel Recurrent Neural Networks", section 3.5).

The chain rule writes the likelihood of a binary image exactly,

    log p(x) = sum_i log p(x_i | x_1, ..., x_{i-1})     (raster order),

and masked convolutions make every output position see only earlier pixels, so a single
pass gives all 784 conditionals at once for training and exact evaluation. Sampling is
sequential: one pixel at a time.

Architecture (the paper's MNIST PixelCNN, smaller): a 7 x 7 mask-A convolution, residual
blocks of [1x1 -> 3x3 mask B -> 1x1] (the paper's figure 5), then two 1x1 layers to one
Bernoulli logit per pixel.

Fast sampling (Ramachandran et al. 2017): in raster order, a mask-B layer's output at a
position depends on its input at that position and earlier ones only, so one *step* can
compute every layer at one new position, given a cache of each masked layer's inputs at
earlier positions. ``step`` is that computation; it is exported as its own network and
the app keeps the caches, so each activation is computed once per sample instead of
784 times.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from training.layers import MaskedConv2d
from training.models.base import Method, Network, bernoulli_log_prob


@dataclass
class PixelCNNConfig:
    image_size: int = 28
    channels: int = 32  # h: the residual stream has 2h channels, the 3x3 convolutions h
    residual_blocks: int = 8  # 8 blocks: 7x7 then eight 3x3 layers give 11 rows of context above a pixel
    first_kernel: int = 7
    head_channels: int = 64


class ResidualBlock(nn.Module):
    """x + 1x1(ReLU(3x3 mask B(ReLU(1x1(ReLU(x)))))): 2h -> h -> h -> 2h channels."""

    def __init__(self, h: int):
        super().__init__()
        self.reduce = nn.Conv2d(2 * h, h, 1)
        self.conv = MaskedConv2d(h, h, 3, "B")
        self.expand = nn.Conv2d(h, 2 * h, 1)

    def conv_input(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.reduce(torch.relu(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.expand(torch.relu(self.conv(self.conv_input(x))))


class PixelCNN(nn.Module):
    Config = PixelCNNConfig

    def __init__(self, config: PixelCNNConfig):
        super().__init__()
        self.config = c = config
        self.input_conv = MaskedConv2d(1, 2 * c.channels, c.first_kernel, "A")
        self.blocks = nn.ModuleList(ResidualBlock(c.channels) for _ in range(c.residual_blocks))
        self.head = nn.Sequential(
            nn.ReLU(), nn.Conv2d(2 * c.channels, c.head_channels, 1), nn.ReLU(), nn.Conv2d(c.head_channels, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) binary image -> (B, 1, H, W) logits of p(x_i = 1 | x_<i)."""
        h = self.input_conv(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) per image, in nats."""
        return bernoulli_log_prob(self(x), x)

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        nll = -self.log_prob(x).mean()
        return {"loss": nll, "nll": nll}

    def step(self, pixel_window: torch.Tensor, conv_window: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Every layer at one position, from cached windows of earlier positions.

        pixel_window: (B, K, K) the pixels around the position (K = first_kernel), zeros at
            the position and after it.
        conv_window: (B, 3, 3, R*h) the inputs of every block's 3x3 masked convolution around
            the position, blocks side by side on the last axis (channels last, so the
            caller's cache slices cheaply), zeros at the position and after it.
        Returns the logit at the position (B,) and the blocks' 3x3 inputs at the position
        (B, R*h), which the caller writes into its cache.
        """
        h = self.input_conv.at_center(pixel_window[:, None])  # (B, 2h)
        windows = conv_window.permute(0, 3, 1, 2).chunk(len(self.blocks), dim=1)  # R x (B, h, 3, 3)
        centers = []
        for block, window in zip(self.blocks, windows, strict=True):
            a = torch.relu(nn.functional.linear(torch.relu(h), block.reduce.weight[:, :, 0, 0], block.reduce.bias))
            centers.append(a)
            out = torch.relu(block.conv.at_center(window, a))
            h = h + nn.functional.linear(out, block.expand.weight[:, :, 0, 0], block.expand.bias)
        logit = self.head(h[:, :, None, None]).flatten()
        return logit, torch.cat(centers, dim=1)

    def networks(self) -> dict[str, Network]:
        c = self.config
        x = torch.zeros(2, 1, c.image_size, c.image_size)
        return {
            "full": Network(self, (x,), ["x"], ["logits"]),
            "step": Network(
                Method(self, "step"),
                (torch.zeros(2, c.first_kernel, c.first_kernel), torch.zeros(2, 3, 3, len(self.blocks) * c.channels)),
                ["pixel_window", "conv_window"],
                ["logit", "centers"],
            ),
        }
