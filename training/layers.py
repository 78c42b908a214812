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


class MaskedConv2d(nn.Conv2d):
    """A convolution that sees only pixels before the center in raster order (PixelCNN).

    Mask A (first layer) hides the center itself: the output at a pixel must not see that
    pixel's own value. Mask B (later layers) keeps the center, which by then holds
    features computed only from earlier pixels. For a 5 x 5 kernel:

        mask A          mask B
        1 1 1 1 1       1 1 1 1 1
        1 1 1 1 1       1 1 1 1 1
        1 1 0 0 0       1 1 1 0 0
        0 0 0 0 0       0 0 0 0 0
        0 0 0 0 0       0 0 0 0 0

    The mask multiplies the weight inside forward (never in place), so the exported graph
    and the state dict hold the unmasked weight and training cannot leak through it.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mask_type: str):
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        k = kernel_size
        mask = torch.ones(k, k)
        mask[k // 2, k // 2 + (mask_type == "B") :] = 0
        mask[k // 2 + 1 :] = 0
        self.mask_type = mask_type
        self.register_buffer("mask", mask[None, None], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)

    def at_center(self, window: torch.Tensor, center: torch.Tensor | None = None) -> torch.Tensor:
        """The output at one position from its k x k input window, (B, C, k, k) -> (B, out).

        ``window`` holds the inputs at earlier positions (zeros elsewhere); for mask B the
        input at the position itself comes separately as ``center`` (B, C), because it is
        computed in the same step.
        """
        out = nn.functional.conv2d(window, self.weight * self.mask, self.bias).flatten(1)
        if center is not None:
            k = self.kernel_size[0] // 2
            out = out + center @ self.weight[:, :, k, k].T  # the center tap, unmasked in mask B
        return out
