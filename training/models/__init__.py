"""The model registry: one entry per shipped model, naming its class, config and training recipe.

Adding a model: write training/models/<model>.py (a module with ``Config``, ``loss``,
``networks`` and ``evaluate``), add an entry here, run ``python -m training train <name>``
and ``python -m training export <name>``; the app picks it up from its model card.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from training.models.autoencoder import Autoencoder
from training.models.vae import VAE


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    model: type[nn.Module]
    config: dict = field(default_factory=dict)  # overrides of model.Config's defaults
    architecture: str = ""  # which inference class runs it: "autoencoder", "vae", ...
    family: str = ""  # the lecture's taxonomy: autoencoder, latent-variable, autoregressive, implicit, flow
    density: str = "none"  # what it gives for log p(x): exact, bound, none
    description: str = ""
    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3

    def build(self, image_size: int) -> nn.Module:
        return self.model(self.model.Config(**{**self.config, "image_size": image_size}))


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            name="ae",
            title="Autoencoder, 16-d code",
            model=Autoencoder,
            config={"z_dim": 16},
            architecture="autoencoder",
            family="autoencoder",
            density="none",
            description="Convolutional autoencoder trained to reconstruct binarized digits (Bernoulli loss). "
            "No prior over codes, so no likelihood and no principled way to sample.",
            epochs=100,
        ),
        ModelSpec(
            name="vae",
            title="VAE, 16-d latent",
            model=VAE,
            config={"z_dim": 16},
            architecture="vae",
            family="latent-variable",
            density="bound",
            description="Variational autoencoder: Gaussian q(z|x), N(0, I) prior, Bernoulli p(x|z). "
            "Trained on the ELBO; log p(x) estimated with the IWAE bound.",
            # Held-out IWAE stopped improving after about 100-150 epochs on 4,000 images.
            epochs=150,
        ),
        ModelSpec(
            name="vae2d",
            title="VAE, 2-d latent",
            model=VAE,
            config={"z_dim": 2},
            architecture="vae",
            family="latent-variable",
            density="bound",
            description="The same VAE with a 2-d latent, so the whole latent space can be drawn: "
            "the learned manifold of digits (Kingma and Welling 2014, fig. 4).",
            epochs=100,
        ),
    ]
}


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}") from None
