"""The few-label classification study's card and its exported classifiers (exported/features*)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.base import as_batch
from inference.cards import FeaturesCard, load_study_card
from inference.numeric import softmax
from inference.registry import exported_dir
from inference.runtime import ModelFileError, Network, load_network


def load_study(folder: Path | None = None) -> FeaturesCard | None:
    """The study's card, None if it has not been run; CardError if it is malformed."""
    path = (Path(folder) if folder is not None else exported_dir()) / "features.json"
    return load_study_card(path) if path.is_file() else None


def load_classifiers(card: FeaturesCard, folder: Path | None = None) -> tuple[dict[str, Network], list[str]]:
    """The study's ONNX classifiers that load and match their sha256, and a message for each that does not."""
    folder = Path(folder) if folder is not None else exported_dir()
    nets, problems = {}, []
    for method, spec in card.classifiers.items():
        try:
            nets[method] = load_network(folder, spec)
        except ModelFileError as err:
            problems.append(f"{card.methods.get(method, method)} is unavailable: {err}")
    return nets, problems


def classify(net: Network, image: np.ndarray) -> np.ndarray:
    """Class probabilities (10,) for one (28, 28) image in [0, 1]."""
    return softmax(net(as_batch(image, 28))["logits"][0])
