"""What the live views compute, on the server: the same figures the browser computes (app/browser/), for the
Live page's server path and for the tests that hold the browser to them. numpy and the model protocol only.

The noise the live views use is drawn here, by numpy, and sent to the browser: the uniforms the autoregressive
samplers compare against and the fixed binarization's, so the same seed gives the same pictures on either side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inference import images as img
from inference.base import OnnxModel
from inference.numeric import softmax

PLANE_EXTENT = 4.0  # the 2-d plane shown, in prior standard deviations: every test digit's code lies inside
PLANE_CELLS = 16  # the decoded grid beside it: 16 x 16 codes, half a standard deviation apart
COMPONENTS = 4  # principal directions of the 16-d codes with a slider each
SLIDER_RANGE = 3.0  # each slider spans +-3 standard deviations of the codes along its direction


@dataclass(frozen=True)
class Directions:
    """The principal directions of a set of codes: mean (D,), directions (k, D) unit rows, and the codes'
    standard deviation along each (k,)."""

    mean: np.ndarray
    directions: np.ndarray
    scales: np.ndarray

    def code(self, steps) -> np.ndarray:
        """The code ``steps[c]`` standard deviations along direction c from the mean: (D,) float32."""
        steps = np.asarray(steps, np.float64)
        return (self.mean + (steps * self.scales) @ self.directions).astype(np.float32)


def principal_directions(codes: np.ndarray, k: int = COMPONENTS) -> Directions:
    codes = np.asarray(codes, np.float64)
    mean = codes.mean(0)
    _, s, vt = np.linalg.svd(codes - mean, full_matrices=False)
    return Directions(mean, vt[:k], s[:k] / math.sqrt(max(len(codes) - 1, 1)))


def plane_grid(extent: float = PLANE_EXTENT, cells: int = PLANE_CELLS) -> np.ndarray:
    """The codes at the centres of a cells x cells grid over [-extent, extent]^2, row by row from the top (z2
    high) and left to right: (cells * cells, 2) float32, in the order the browser tiles them."""
    centres = -extent + (np.arange(cells) + 0.5) * 2 * extent / cells
    z1, z2 = np.meshgrid(centres, centres[::-1])
    return np.stack([z1.ravel(), z2.ravel()], 1).astype(np.float32)


def binarize_uniforms(size: int = 28) -> np.ndarray:
    """The uniforms of the project's fixed binarization (images.binarize): pixel i is 1 where u_i < intensity_i."""
    return np.random.default_rng(0).random((size, size))


def sampler_uniforms(n: int, seed: int, size: int = 28) -> np.ndarray:
    """The uniforms Autoregressive.sample draws for a seed: (n, size, size) float64."""
    return np.random.default_rng(seed).random((n, size, size))


@dataclass(frozen=True)
class Reconstruction:
    title: str
    image: np.ndarray  # (28, 28) pixel probabilities
    nats: float  # Bernoulli cross-entropy of the input under them (the training loss)


@dataclass(frozen=True)
class PadFigures:
    """What the draw pad shows for one digit."""

    reconstructions: list[Reconstruction]
    probabilities: np.ndarray | None  # (10,) the classifier's
    binary: np.ndarray | None  # (28, 28) the fixed binarization the likelihood is of
    surprise: np.ndarray | None  # (28, 28) -log p(x_i | x_<i), nats
    nats: float | None
    bits_per_dim: float | None


def pad_figures(
    image: np.ndarray,
    encoders: list[OnnxModel],
    classifier: OnnxModel | None = None,
    likelihood: OnnxModel | None = None,
) -> PadFigures:
    """A (28, 28) digit in [0, 1] through every encoder and back, the classifier and an autoregressive model."""
    image = np.asarray(image, np.float32)
    recons = [
        Reconstruction(m.title, m.reconstruct(image)[0], float(m.reconstruction_error(image)[0])) for m in encoders
    ]
    probabilities = softmax(classifier.run(image)[0])[0] if classifier is not None else None
    binary = surprise = nats = bits = None
    if likelihood is not None:
        binary = img.binarize(image)
        surprise = likelihood.pixel_nll(binary)[0]
        nats = float(surprise.sum())
        bits = nats / (surprise.size * math.log(2))
    return PadFigures(recons, probabilities, binary, surprise, nats, bits)
