"""The one protocol every model family on the app side follows, and what each can do.

Pages and metrics ask a model what it can do (:class:`Capabilities`), never which class it is:

* every generative model: ``sample(n, seed, *, temperature=1.0, labels=None)`` -> (n, H, W) in [0, 1].
  A class-conditional model draws classes 0, 1, 2, ... in turn when no labels are given; a model that
  cannot use labels refuses them with a ValueError.
* a model with an encoder: ``encode(x)`` -> codes (a VAE's posterior mean), ``reconstruct(x)``,
  ``reconstruction_error(x)`` (nats per image).
* a model with a latent space: ``random_latents(n, seed, temperature)`` and ``decode(z, labels=None)``.
* a model with a likelihood (exact or a bound): ``log_prob(x)`` in nats per image, on binary images
  for the binary track (every model shipped so far).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.cards import ModelCard
from inference.numeric import one_hot
from inference.runtime import Network


@dataclass(frozen=True)
class Capabilities:
    """What a model can do, read from its class and its card without loading any network."""

    family: str  # the lecture's taxonomy: autoencoder, latent-variable, autoregressive, implicit, classifier
    density: str  # what it gives for log p(x): exact, bound, none
    generative: bool  # it can sample
    conditional: bool  # it takes class labels
    num_classes: int  # of a conditional model (0 otherwise)
    has_encoder: bool  # encode, reconstruct
    has_prior: bool  # codes come from a prior (False: an autoencoder's fitted Gaussian; no latent at all)
    can_complete: bool  # fills in hidden pixels from the visible ones (pixel by pixel in raster order)
    image_kind: str  # the data it models and its likelihood is of: "binary" or "grayscale"
    sample_kind: str  # what sample() returns: "binary" images, pixel "probabilities", or "grayscale" intensities
    latent_dim: int | None  # the size of its codes, None without a latent space
    pixel_order: str = "raster"  # a chain-rule model's order: "raster", or "multiscale" (coarse to fine, in groups)

    @property
    def has_likelihood(self) -> bool:
        return self.density != "none"

    @property
    def has_latent(self) -> bool:
        return self.latent_dim is not None


def as_batch(x: np.ndarray, image_size: int) -> np.ndarray:
    """(H, W), (N, H, W) or (N, 1, H, W) images -> (N, 1, H, W) float32."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[:, None]
    if x.shape[1:] != (1, image_size, image_size):
        raise ValueError(f"expected images of {image_size} x {image_size}, got shape {x.shape}")
    return x


class OnnxModel:
    """A model as the app sees it: a typed card and its ONNX networks by role.

    A family sets the class attributes below and implements the parts of the protocol it has.
    """

    generative = True
    has_encoder = False
    has_prior = False
    can_complete = False
    image_kind = "binary"
    sample_kind = "grayscale"
    has_latent = False
    pixel_order = "raster"

    def __init__(self, card: ModelCard, networks: dict[str, Network]):
        self.card = card
        self.networks = networks

    @classmethod
    def capabilities_of(cls, card: ModelCard) -> Capabilities:
        num_classes = int(card.config.get("num_classes", 0)) if cls.generative else 0
        return Capabilities(
            family=card.family,
            density=card.density,
            generative=cls.generative,
            conditional=num_classes > 0,
            num_classes=num_classes,
            has_encoder=cls.has_encoder,
            has_prior=cls.has_prior,
            can_complete=cls.can_complete,
            image_kind=cls.image_kind,
            sample_kind=cls.sample_kind,
            latent_dim=cls.latent_size(card) if cls.has_latent else None,
            pixel_order=cls.pixel_order,
        )

    @classmethod
    def latent_size(cls, card: ModelCard) -> int:
        """The size of a code (a family with a latent space says where its card keeps it)."""
        return int(card.config["z_dim"])

    @property
    def capabilities(self) -> Capabilities:
        return self.capabilities_of(self.card)

    @property
    def conditional(self) -> bool:
        return self.capabilities.conditional

    @property
    def num_classes(self) -> int:
        return self.capabilities.num_classes

    @property
    def latent_dim(self) -> int | None:
        return self.capabilities.latent_dim

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def title(self) -> str:
        return self.card.title

    @property
    def family(self) -> str:
        return self.card.family

    @property
    def density(self) -> str:
        return self.card.density

    @property
    def image_size(self) -> int:
        return int(self.card.config["image_size"])

    def class_labels(self, labels, n: int) -> np.ndarray | None:
        """The labels to condition n draws on: None for an unconditional model (which refuses labels),
        the given ones broadcast to n, or classes 0, 1, 2, ... in turn when a conditional model gets none."""
        if not self.conditional:
            if labels is not None:
                raise ValueError(f"{self.title} is not class-conditional: it takes no labels")
            return None
        if labels is None:
            return np.arange(n) % self.num_classes
        labels = np.broadcast_to(np.asarray(labels), (n,)).astype(np.int64)
        one_hot(labels, self.num_classes)  # a label out of range: ValueError naming the range
        return labels

    def one_hot(self, labels, n: int) -> np.ndarray:
        return one_hot(labels, self.num_classes, n)

    def sample(self, n: int, seed: int, *, temperature: float = 1.0, labels=None) -> np.ndarray:
        raise ValueError(f"{self.title} does not sample")

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        raise ValueError(f"{self.title} has no likelihood")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
