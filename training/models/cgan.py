"""Class-conditional GAN (Mirza and Osindero 2014) on the DCGAN backbone.

The generator gets a one-hot class beside its noise, G(z, y), and the discriminator sees
the class as ten constant input planes, D(x, y): it rejects a realistic 3 presented as a
7, so G must draw the digit it was asked for. Everything else is the DCGAN (dcgan.py),
trained the same way, and R1 on or off is chosen the same way, on the validation split: R1 is
what balanced the DCGAN's digits, but here the class input already does that, and after 60
epochs the validation FCD was 164 without R1 (the judge saw the class asked for in 91.7% of
the samples) against 205 with it (84.3%).
"""

from __future__ import annotations

from dataclasses import dataclass

from training.models.dcgan import DCGAN, DCGANConfig


@dataclass
class ConditionalGANConfig(DCGANConfig):
    num_classes: int = 10
    r1_gamma: float = 0.0  # off: chosen on validation, see the docstring


class ConditionalGAN(DCGAN):
    Config = ConditionalGANConfig
    uses_labels = True  # train_step receives the real images' labels
