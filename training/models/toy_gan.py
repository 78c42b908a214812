"""A GAN on 2-D points, for the GAN lab page (after GAN Lab, Kahng et al. 2018, poloclub/ganlab).

Small MLPs: G maps 2-D noise to a point, D maps a point to the logit of "real". With 2-D
noise, G's image of a grid of noise values is a sheet folded over the plane (its
"manifold"); with 2-D data, D's output can be drawn as a heat map. The lab's training runs,
their snapshots and settings are in training/studies/ganlab.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass
class ToyGANConfig:
    z_dim: int = 2
    hidden: int = 128
    layers: int = 3
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5  # as in DCGAN: less momentum for a two-player game
    d_steps: int = 1  # discriminator updates per generator update
    r1: float = 0.0  # weight of the R1 gradient penalty on real points (0: none)
    batch: int = 256
    steps: int = 4000
    snapshots: int = 40


def mlp(inputs: int, hidden: int, layers: int, outputs: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(layers):
        mods += [nn.Linear(inputs if i == 0 else hidden, hidden), nn.LeakyReLU(0.2)]
    return nn.Sequential(*mods, nn.Linear(hidden, outputs))


class ToyGAN(nn.Module):
    def __init__(self, config: ToyGANConfig):
        super().__init__()
        self.config = c = config
        self.generator = mlp(c.z_dim, c.hidden, c.layers, 2)
        self.discriminator = mlp(2, c.hidden, c.layers, 1)
