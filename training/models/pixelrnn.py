"""PixelRNN with Row LSTM layers (van den Oord et al. 2016, "Pixel Recurrent Neural Networks", 3.1).

A Row LSTM processes the image one row at a time, top to bottom, computing the state of a
whole row at once with one-dimensional convolutions:

    [o, f, i, g] = sigmoid/tanh( K_ss (*) h_{row-1}  +  K_is (*) x_row )
    c_row = f * c_{row-1} + i * g,      h_row = o * tanh(c_row)

K_ss is a width-3 convolution over the previous row's hidden state (the state-to-state
part: a triangular receptive field above the pixel); K_is is a width-2 convolution over
the current row's input at columns j-1 and j (the input-to-state part, masked so it never
sees the right). The first layer is a 7 x 7 mask-A convolution, so a layer input at
(i, j) depends only on pixels before (i, j); each LSTM layer has a residual connection;
two 1 x 1 layers give the Bernoulli logits.

Fast sampling carries the recurrent state: ``step`` takes the previous row's h and c of
each layer near the column, the input one column to the left, and the pixel window, and
returns the next pixel's logit with the new states. Nothing is recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from training.layers import MaskedConv2d
from training.models.base import Method, Network, bernoulli_log_prob


@dataclass
class PixelRNNConfig:
    image_size: int = 28
    channels: int = 32  # h: LSTM hidden size and feature channels
    layers: int = 2
    first_kernel: int = 7
    head_channels: int = 64


def lstm_cell(gates: torch.Tensor, c_prev: torch.Tensor, dim: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """The LSTM update: ``gates`` hold o, f, i, g in turn along ``dim`` (4C there, c_prev C) -> (h, c)."""
    o, f, i, g = gates.chunk(4, dim=dim)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class RowLSTM(nn.Module):
    """(B, C, H, W) -> (B, C, H, W), row by row; the output at (i, j) sees inputs at (i', j') with
    i' < i (a triangle above) or i' = i, j' <= j."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.input_to_state = nn.Conv2d(channels, 4 * channels, (1, 2))  # columns j-1, j
        self.state_to_state = nn.Conv2d(channels, 4 * channels, (1, 3), bias=False)  # j-1, j, j+1

    def cell(self, gates: torch.Tensor, c_prev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return lstm_cell(gates, c_prev, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        is_all = self.input_to_state(F.pad(x, (1, 0, 0, 0)))  # (B, 4C, H, W), all rows at once
        h = x.new_zeros(B, C, 1, W)
        c = x.new_zeros(B, C, 1, W)
        rows = []
        for r in range(H):
            gates = is_all[:, :, r : r + 1] + self.state_to_state(F.pad(h, (1, 1, 0, 0)))
            h, c = self.cell(gates, c)
            rows.append(h)
        return torch.cat(rows, dim=2)


class PixelRNN(nn.Module):
    Config = PixelRNNConfig

    def __init__(self, config: PixelRNNConfig):
        super().__init__()
        self.config = c = config
        self.input_conv = MaskedConv2d(1, c.channels, c.first_kernel, "A")
        self.lstms = nn.ModuleList(RowLSTM(c.channels) for _ in range(c.layers))
        self.head = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c.channels, c.head_channels, 1), nn.ReLU(), nn.Conv2d(c.head_channels, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) binary image -> (B, 1, H, W) logits of p(x_i = 1 | x_<i)."""
        a = self.input_conv(x)
        for lstm in self.lstms:
            a = a + lstm(a)  # residual connection
        return self.head(a)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return bernoulli_log_prob(self(x), x)

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        nll = -self.log_prob(x).mean()
        return {"loss": nll, "nll": nll}

    def step(
        self, pixel_window: torch.Tensor, left: torch.Tensor, h_above: torch.Tensor, c_above: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        """One pixel (i, j) from the carried state; layers side by side on the last axis.

        pixel_window: (B, K, K) pixels around (i, j), zeros at (i, j) and after.
        left: (B, L*C) each layer's input at (i, j-1) (zeros at j = 0).
        h_above: (B, 3, L*C) each layer's hidden state at row i-1, columns j-1 .. j+1 (zeros
            off the image and on row 0).
        c_above: (B, L*C) each layer's cell state at (i-1, j).
        Returns the logit (B,), then each layer's input, h and c at (i, j), (B, L*C) each.
        """
        L = len(self.lstms)
        left, c_above = left.chunk(L, dim=1), c_above.chunk(L, dim=1)
        h_above = h_above.transpose(1, 2).chunk(L, dim=1)  # L x (B, C, 3)
        a = self.input_conv.at_center(pixel_window[:, None])  # (B, C)
        inputs, hs, cs = [], [], []
        for layer, lstm in enumerate(self.lstms):
            inputs.append(a)
            w_is = lstm.input_to_state.weight  # (4C, C, 1, 2): columns j-1, j
            gates = (
                F.linear(left[layer], w_is[:, :, 0, 0])
                + F.linear(a, w_is[:, :, 0, 1], lstm.input_to_state.bias)
                + torch.einsum("bcw,ocw->bo", h_above[layer], lstm.state_to_state.weight[:, :, 0, :])
            )
            h, c = lstm.cell(gates, c_above[layer])
            hs.append(h)
            cs.append(c)
            a = a + h
        logit = self.head(a[:, :, None, None]).flatten()
        return logit, torch.cat(inputs, 1), torch.cat(hs, 1), torch.cat(cs, 1)

    def networks(self) -> dict[str, Network]:
        c = self.config
        B, LC = 2, c.layers * c.channels
        x = torch.zeros(B, 1, c.image_size, c.image_size)
        state = (
            torch.zeros(B, c.first_kernel, c.first_kernel),
            torch.zeros(B, LC),
            torch.zeros(B, 3, LC),
            torch.zeros(B, LC),
        )
        return {
            "full": Network(self, (x,), ["x"], ["logits"]),
            "step": Network(
                Method(self, "step"),
                state,
                ["pixel_window", "left", "h_above", "c_above"],
                ["logit", "input", "h", "c"],
            ),
        }
